"""The venue's printer as the settings describe it, and the thread that empties the print queue.

`kiosk run` starts one worker when a printer is configured. It prints pending jobs in order; when
the printer fails it waits a little longer each time (up to half a minute) and tries the same job
again; a new job wakes it at once, so a printer that is back prints without waiting out the
pause."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.printing.connection import PrinterSpec, parse_printer, send
from kiosk.printing.escpos_ticket import escpos_bytes
from kiosk.printing.jobs import print_next
from kiosk.printing.layout import Layout
from kiosk.printing.paper import Paper, paper_for
from kiosk.printing.text import find_font

log = logging.getLogger(__name__)

BACKOFF_SECONDS = (1, 2, 5, 10, 20, 30)
IDLE_SECONDS = 5.0
EXTENSION = "kiosk_print_worker"


SETTINGS = "kiosk_printer"  # app.extensions[SETTINGS]: the PrinterSettings, or None


@dataclass(frozen=True)
class PrinterSettings:
    spec: PrinterSpec
    paper: Paper
    font_path: str

    def render(self, layout: Layout) -> bytes:
        return escpos_bytes(layout, self.paper, self.font_path)

    def send(self, data: bytes) -> None:
        send(self.spec, data, self.paper.model)

    def describe(self) -> str:
        cut = "cutter" if self.paper.cutter else "no cutter"
        qr = "printer's QR" if self.paper.native_qr else "QR as image"
        return f"{self.spec} ({self.paper.name}, {self.paper.dots} dots, {cut}, {qr})"


def printer_settings(config: Mapping[str, Any]) -> PrinterSettings | None:
    """The configured printer, or None for browser printing only. Bad settings raise ValueError
    (PrinterSpecError, PaperError) or FontError with a message naming the setting."""
    spec = parse_printer(config.get("PRINTER"))
    paper = paper_for(config.get("PRINTER_PROFILE", "80mm"), config.get("PRINTER_MODEL", ""))
    if spec is None:
        return None
    return PrinterSettings(spec, paper, find_font(config.get("PRINTER_FONT", "")))


class PrintWorker(threading.Thread):
    def __init__(self, app, settings: PrinterSettings, backoff=BACKOFF_SECONDS) -> None:
        super().__init__(name="nabd-print-worker", daemon=True)
        self.app = app
        self.settings = settings
        self.backoff = backoff
        self.wake = threading.Event()
        self.stopping = threading.Event()

    def notify(self) -> None:
        self.wake.set()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    def run(self) -> None:
        failures = 0
        while not self.stopping.is_set():
            self.wake.clear()  # before looking: a job queued from now on wakes the pause below
            try:
                attempt = self.step()
            except Exception:  # the database itself failed: log, pause, carry on
                log.exception("print queue: unexpected error")
                attempt = None
                failures += 1
            else:
                if attempt is None:  # nothing waits
                    failures = 0
                elif attempt.printed:
                    failures = 0
                    continue
            if attempt is not None:
                failures += 1
                if failures == 1 or failures % 10 == 0:  # the log says it, without flooding
                    log.warning(
                        "printer %s: job %s waits (%d tries): %s",
                        self.settings.spec,
                        attempt.job_id,
                        failures,
                        attempt.error,
                    )
            pause = self.backoff[min(failures, len(self.backoff)) - 1] if failures else IDLE_SECONDS
            self.wake.wait(pause)

    def step(self):
        from kiosk.db import db

        with self.app.app_context():
            return print_next(
                db.session, self.settings.render, self.settings.send, self.app.config["CLOCK"]
            )


def start_worker(app, settings: PrinterSettings) -> PrintWorker:
    worker = PrintWorker(app, settings)
    app.extensions[EXTENSION] = worker
    worker.start()
    return worker


def notify_worker(app) -> None:
    worker = app.extensions.get(EXTENSION)
    if worker is not None:
        worker.notify()


def configured_printer(app) -> PrinterSettings | None:
    """The app's printer settings; None when no printer is configured."""
    return app.extensions.get(SETTINGS)
