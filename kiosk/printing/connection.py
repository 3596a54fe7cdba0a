"""Where the thermal printer is: `KIOSK_PRINTER` as `none`, `usb:VENDOR:PRODUCT`,
`network:HOST:PORT`, `serial:DEVICE:BAUD`, `file:PATH` or `cups:QUEUE`, and how bytes reach it."""

from __future__ import annotations

import socket

# Reviewed (bandit B404): used only to hand raw bytes to CUPS's `lp`, with a fixed argument list.
import subprocess  # nosec B404
from dataclasses import dataclass

from escpos import printer as escpos_printers
from escpos.constants import RT_MASK_NOPAPER, RT_MASK_ONLINE, RT_STATUS_ONLINE, RT_STATUS_PAPER
from escpos.exceptions import DeviceNotFoundError

NETWORK_PORT = 9100
SERIAL_BAUDS = (9600, 19200, 38400, 57600, 115200)
# Seconds a network, USB or serial printer may take to answer before the job is retried later.
TIMEOUT_SECONDS = 10


class PrinterSpecError(ValueError):
    pass


@dataclass(frozen=True)
class PrinterSpec:
    kind: str  # usb, network, serial, file, cups
    target: str  # what follows the kind, for messages
    vendor: int = 0
    product: int = 0
    host: str = ""
    port: int = NETWORK_PORT
    device: str = ""
    baud: int = 9600

    def __str__(self) -> str:
        return f"{self.kind}:{self.target}"


def parse_printer(text: str | None) -> PrinterSpec | None:
    """The printer named by a setting, or None for browser printing only."""
    text = (text or "").strip()
    if text.lower() in ("", "none"):
        return None
    kind, _, rest = text.partition(":")
    kind = kind.lower()
    parse = _PARSERS.get(kind)
    if parse is None or not rest:
        raise PrinterSpecError(
            f"KIOSK_PRINTER {text!r}: expected none, usb:VENDOR:PRODUCT, network:HOST:PORT, "
            "serial:DEVICE:BAUD, file:PATH or cups:QUEUE"
        )
    return parse(rest)


def _usb(rest: str) -> PrinterSpec:
    parts = rest.split(":")
    try:
        vendor, product = (int(part, 16) for part in parts)
    except ValueError:
        raise PrinterSpecError(
            f"KIOSK_PRINTER usb:{rest}: give the vendor and product ids in hexadecimal, "
            "as lsusb shows them (usb:04b8:0e15)"
        ) from None
    if not (0 < vendor <= 0xFFFF and 0 < product <= 0xFFFF):
        raise PrinterSpecError(f"KIOSK_PRINTER usb:{rest}: ids are 4 hexadecimal digits")
    return PrinterSpec("usb", rest, vendor=vendor, product=product)


def _network(rest: str) -> PrinterSpec:
    host, _, port = rest.rpartition(":") if ":" in rest else (rest, "", str(NETWORK_PORT))
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise PrinterSpecError(f"KIOSK_PRINTER network:{rest}: expected network:HOST:PORT")
    return PrinterSpec("network", rest, host=host, port=int(port))


def _serial(rest: str) -> PrinterSpec:
    device, _, baud = rest.rpartition(":") if ":" in rest else (rest, "", "9600")
    if not device or not baud.isdigit() or int(baud) not in SERIAL_BAUDS:
        raise PrinterSpecError(
            f"KIOSK_PRINTER serial:{rest}: expected serial:DEVICE:BAUD with a baud rate of "
            + ", ".join(map(str, SERIAL_BAUDS))
        )
    return PrinterSpec("serial", rest, device=device, baud=int(baud))


def _file(rest: str) -> PrinterSpec:
    return PrinterSpec("file", rest, device=rest)


def _cups(rest: str) -> PrinterSpec:
    return PrinterSpec("cups", rest, device=rest)


_PARSERS = {"usb": _usb, "network": _network, "serial": _serial, "file": _file, "cups": _cups}


class AppendingFile(escpos_printers.File):
    """A device such as /dev/usb/lp0, or a plain file that keeps every job: opened to append."""

    def open(self, raise_not_found: bool = True) -> None:
        if self._device:
            self.close()
        try:
            self.device = open(self.devfile, "ab")  # closed by close()
        except OSError as error:
            self.device = None
            raise DeviceNotFoundError(f"cannot open {self.devfile}: {error.strerror}") from error


class ClosingNetwork(escpos_printers.Network):
    """python-escpos's network printer, with the socket closed when the printer refuses it."""

    def open(self, raise_not_found: bool = True) -> None:
        if self._device:
            self.close()
        connection = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        connection.settimeout(self.timeout)
        try:
            connection.connect((self.host, self.port))
        except OSError as error:
            connection.close()
            self.device = None
            raise DeviceNotFoundError(f"no answer from {self.host}:{self.port}: {error}") from None
        self.device = connection


class CupsRawQueue(escpos_printers.Dummy):
    """A CUPS queue fed raw bytes through CUPS's own client, `lp -o raw`: the job is handed over
    whole on close, and a refused job (no such queue, CUPS stopped) raises."""

    def __init__(self, queue: str, profile: str = "default") -> None:
        super().__init__(profile=profile)
        self.queue = queue

    def close(self) -> None:
        data = self.output
        self.clear()
        if not data:
            return
        try:
            # Reviewed (bandit B603): no shell; the queue name (venue settings) is one argument.
            # Reviewed (bandit B607): `lp` is found on the PATH, where CUPS installs it.
            subprocess.run(  # nosec B603 B607
                ["lp", "-d", self.queue, "-o", "raw"],
                input=data,
                capture_output=True,
                timeout=TIMEOUT_SECONDS,
                check=True,
            )
        except FileNotFoundError:
            raise DeviceNotFoundError("the lp command of CUPS is not installed") from None
        except subprocess.CalledProcessError as error:
            message = error.stderr.decode(errors="replace").strip() or f"lp exit {error.returncode}"
            raise DeviceNotFoundError(f"CUPS refused the job: {message}") from None


def connect(spec: PrinterSpec, model: str = "default"):
    """An unopened python-escpos printer for `spec` (it opens on first use)."""
    if spec.kind == "usb":
        return escpos_printers.Usb(
            spec.vendor, spec.product, timeout=TIMEOUT_SECONDS * 1000, profile=model
        )
    if spec.kind == "network":
        return ClosingNetwork(spec.host, spec.port, timeout=TIMEOUT_SECONDS, profile=model)
    if spec.kind == "serial":
        return escpos_printers.Serial(
            spec.device, baudrate=spec.baud, timeout=TIMEOUT_SECONDS, profile=model
        )
    if spec.kind == "file":
        return AppendingFile(spec.device, profile=model)
    return CupsRawQueue(spec.device, profile=model)


def send(spec: PrinterSpec, data: bytes, model: str = "default") -> None:
    """Writes one job; any failure (unplugged, refused, no permission) raises."""
    printer = connect(spec, model)
    try:
        printer.open()
        printer._raw(data)
    finally:
        printer.close()


def status_line(spec: PrinterSpec, model: str = "default") -> str:
    """What the printer says of itself, where the connection can read (USB, network, serial)."""
    if spec.kind not in ("usb", "network", "serial"):
        return "status not reported over this connection"
    printer = connect(spec, model)
    try:
        printer.open()
        online = printer.query_status(RT_STATUS_ONLINE)
        paper = printer.query_status(RT_STATUS_PAPER)
    except Exception as error:  # a printer that does not answer status queries still prints
        return f"status not reported ({_one_line(error)})"
    finally:
        printer.close()
    if not online:
        return "status not reported"
    parts = ["offline" if online[0] & RT_MASK_ONLINE else "online"]
    if paper:
        parts.append(
            "out of paper" if paper[0] & RT_MASK_NOPAPER == RT_MASK_NOPAPER else "paper ok"
        )
    return ", ".join(parts)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__
