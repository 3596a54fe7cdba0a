"""The tablet dies: the measured recovery point of the live replica.

    python -m bench.replica_drill [--drills 10] [--seconds 6]

One drill: the real server (`kiosk run`, with KIOSK_REPLICA on a temporary folder standing for
the USB drive) takes registrations from 8 tablets; then the server and its Litestream child are
killed with SIGKILL at the same moment and the tablet's whole instance folder is deleted; the
venue is rebuilt from the replica with `kiosk replica restore --to FOLDER` and served again with
`kiosk run --instance FOLDER`. The figures: how many registrations each drill acknowledged, how
many of those acknowledged in the last 2 s before the kill the replica had lost (the recovery
point), and the same for those acknowledged earlier (which must be none). tests/reliability/
test_replica.py runs one drill and asserts what must hold; this prints the figures over many.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

from kiosk.domain.tokens import token_hash
from tests.server import CHECKOUT, START_TIMEOUT, _environment, _wait_until_healthy, free_port
from tests.support.kiosk_http import TICKET_PATH, donor, open_form, queue_number

THREADS = 8
RECENT = 2.0  # seconds before the kill: acknowledged this late may be lost (the recovery point)
TIMEOUT = 15
REPLICA_READY = 60.0  # seconds for Litestream's first snapshot to reach the replica


@dataclass
class Registration:
    serial: int
    request_id: str
    token: str | None = None
    number: int | None = None
    acknowledged_at: float | None = None  # time.monotonic() when the 303 came back


@dataclass
class Drill:
    acknowledged: int = 0
    recent: int = 0  # acknowledged in the last RECENT seconds before the kill
    recent_lost: int = 0
    earlier_lost: list[int] = field(default_factory=list)  # serials: must stay empty
    changed: list[int] = field(default_factory=list)  # stored with another number or ticket
    integrity: str = ""
    numbers_ok: bool = False
    next_number_ok: bool = False
    visits_restored: int = 0
    restore_seconds: float = 0.0

    @property
    def sound(self) -> bool:
        return (
            not self.earlier_lost
            and not self.changed
            and self.integrity == "ok"
            and self.numbers_ok
            and self.next_number_ok
        )


class Server:
    """`kiosk run` on one instance folder, with its output in files beside it."""

    def __init__(self, root: Path, instance: Path, **env: str) -> None:
        self.root = root
        self.instance = instance
        self.env = env
        self.process: subprocess.Popen | None = None
        self.base_url = ""

    def start(self) -> str:
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        environment = _environment(
            self.instance, KIOSK_BASE_URL=self.base_url, KIOSK_BACKUP_MINUTES="0", **self.env
        )
        environment.pop("KIOSK_INSTANCE")  # chosen on the command line, as the docs say
        command = [sys.executable, "-m", "kiosk", "run", "--instance", str(self.instance)]
        with (
            open(self.root / "stdout.log", "ab") as stdout,
            open(self.root / "stderr.log", "ab") as stderr,
        ):
            self.process = subprocess.Popen(
                [*command, "--host", "127.0.0.1", "--port", str(port)],
                cwd=CHECKOUT,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
            )
        _wait_until_healthy(self.process, self.base_url, self.root)
        return self.base_url

    def litestream_pid(self) -> int | None:
        try:
            state = json.loads((self.instance / "replica" / "state.json").read_text())
        except (OSError, ValueError):
            return None
        return state.get("pid")

    def kill_all(self) -> None:
        """The tablet dies: Litestream and the server get SIGKILL, Litestream first, so that it
        cannot copy anything more on its way out."""
        child = self.litestream_pid()
        if child:
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def wait_for_replica(usb: Path, seconds: float = REPLICA_READY) -> None:
    """Until Litestream's first snapshot is on the drive."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any((usb / "database" / "ltx").glob("*/*.ltx")):
            return
        time.sleep(0.2)
    raise RuntimeError(f"no replica in {usb} after {seconds:.0f} s")


def register_until(base_url: str, serials, stop: threading.Event) -> list[Registration]:
    """8 tablets register donors until `stop`; what each sent and what came back."""
    done: list[Registration] = []
    lock = threading.Lock()

    def tablet(_) -> None:
        with requests.Session() as session:
            while not stop.is_set():
                with lock:
                    serial = next(serials)
                try:
                    form = {**open_form(session, base_url), **donor(serial)}
                except (requests.RequestException, AssertionError, KeyError):
                    return
                item = Registration(serial, form["request_id"])
                with lock:
                    done.append(item)
                try:
                    answer = session.post(
                        f"{base_url}/kiosk/register",
                        data=form,
                        allow_redirects=False,
                        timeout=TIMEOUT,
                    )
                except requests.RequestException:
                    return
                if answer.status_code != 303:
                    return
                item.acknowledged_at = time.monotonic()
                item.token = TICKET_PATH.match(answer.headers["Location"]).group(1)
                try:
                    ticket = session.get(f"{base_url}/ticket/{item.token}", timeout=TIMEOUT)
                    item.number = queue_number(ticket.text)
                except (requests.RequestException, AssertionError):
                    return

    with ThreadPoolExecutor(THREADS) as pool:
        for finished in [pool.submit(tablet, n) for n in range(THREADS)]:
            finished.result()
    return done


def restore(usb: Path, laptop: Path, root: Path) -> str:
    """`kiosk replica restore --from USB --to LAPTOP`, as the coordinator types it."""
    environment = _environment(root / "nowhere")
    environment.pop("KIOSK_INSTANCE")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kiosk",
            "replica",
            "restore",
            "--from",
            str(usb),
            "--to",
            str(laptop),
        ],
        cwd=CHECKOUT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT * 2,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"kiosk replica restore failed: {done.stderr.strip()}")
    return done.stdout


def read(database: Path) -> tuple[str, list[tuple[str, str, int, int]], dict[str, int]]:
    connection = sqlite3.connect(database, timeout=30)
    try:
        integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
        visits = connection.execute(
            "SELECT request_id, queue_day, queue_number, id FROM visit"
        ).fetchall()
        tickets = dict(connection.execute("SELECT token_hash, visit_id FROM ticket"))
    finally:
        connection.close()
    return integrity, visits, tickets


def run_drill(root: Path, load_seconds: float = 6.0, first_serial: int = 1) -> Drill:
    """One drill in `root` (left there for a look afterwards); see the module's docstring."""
    usb = root / "usb"
    tablet = Server(root / "tablet", root / "tablet" / "instance", KIOSK_REPLICA=str(usb))
    tablet.instance.mkdir(parents=True)
    serials = itertools.count(first_serial)
    stop = threading.Event()
    try:
        base_url = tablet.start()
        wait_for_replica(usb)
        result: list[Registration] = []
        loader = threading.Thread(
            target=lambda: result.extend(register_until(base_url, serials, stop))
        )
        loader.start()
        time.sleep(load_seconds)
        killed_at = time.monotonic()
        tablet.kill_all()
        stop.set()
        loader.join(timeout=TIMEOUT * 4)
    finally:
        stop.set()
        tablet.kill_all()
    shutil.rmtree(tablet.instance)  # the tablet is gone, and its database and backups with it

    drill = Drill()
    laptop_folder = root / "laptop" / "instance"
    began = time.monotonic()
    restore(usb, laptop_folder, root)
    drill.restore_seconds = time.monotonic() - began
    laptop = Server(root / "laptop", laptop_folder)
    try:
        base_url = laptop.start()
        integrity, visits, tickets = read(laptop_folder / "kiosk.sqlite3")
        drill.integrity = integrity
        drill.visits_restored = len(visits)
        by_request = {request_id: (number, visit) for request_id, _, number, visit in visits}
        for item in result:
            if item.acknowledged_at is None:
                continue
            drill.acknowledged += 1
            recent = killed_at - item.acknowledged_at <= RECENT
            drill.recent += recent
            stored = by_request.get(item.request_id)
            if stored is None:
                if recent:
                    drill.recent_lost += 1
                else:
                    drill.earlier_lost.append(item.serial)
                continue
            number, visit = stored
            if tickets.get(token_hash(item.token)) != visit or item.number not in (None, number):
                drill.changed.append(item.serial)
        days: dict[str, list[int]] = {}
        for _, day, number, _ in visits:
            days.setdefault(day, []).append(number)
        drill.numbers_ok = all(
            sorted(numbers) == list(range(1, len(numbers) + 1)) for numbers in days.values()
        )
        # The laptop carries on: the next donor gets the next number, not a used one.
        with requests.Session() as session:
            form = {**open_form(session, base_url), **donor(next(serials))}
            answer = session.post(
                f"{base_url}/kiosk/register", data=form, allow_redirects=False, timeout=TIMEOUT
            )
            token = TICKET_PATH.match(answer.headers["Location"]).group(1)
            ticket = session.get(f"{base_url}/ticket/{token}", timeout=TIMEOUT)
            today = max(days.values(), key=len) if days else []
            drill.next_number_ok = queue_number(ticket.text) == len(today) + 1
    finally:
        laptop.stop()
    return drill


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.replica_drill", description=__doc__)
    parser.add_argument("--drills", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=6.0, help="load before each kill")
    parser.add_argument("--keep", action="store_true", help="keep the drills' folders")
    options = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="nabd-drill-"))
    drills = []
    try:
        for number in range(options.drills):
            drill = run_drill(root / f"drill-{number + 1}", options.seconds, number * 100_000 + 1)
            drills.append(drill)
            print(
                f"drill {number + 1}: {drill.acknowledged} acknowledged, {drill.recent} in the "
                f"last {RECENT:.0f} s of which {drill.recent_lost} lost; earlier lost "
                f"{len(drill.earlier_lost)}; integrity {drill.integrity}; numbering "
                f"{'ok' if drill.numbers_ok and drill.next_number_ok else 'WRONG'}; "
                f"restore {drill.restore_seconds:.1f} s",
                flush=True,
            )
    finally:
        if not options.keep:
            shutil.rmtree(root, ignore_errors=True)
    recent = sum(d.recent for d in drills)
    lost = sum(d.recent_lost for d in drills)
    worst = max((d.recent_lost for d in drills), default=0)
    print(
        f"replica recovery point over {len(drills)} drills: {lost} of {recent} registrations "
        f"acknowledged in the last {RECENT:.0f} s before the kill were lost (worst drill "
        f"{worst}); {sum(len(d.earlier_lost) for d in drills)} of "
        f"{sum(d.acknowledged - d.recent for d in drills)} earlier ones lost; "
        f"{sum(d.sound for d in drills)}/{len(drills)} drills sound",
        flush=True,
    )
    return 0 if all(d.sound for d in drills) else 1


if __name__ == "__main__":
    raise SystemExit(main())
