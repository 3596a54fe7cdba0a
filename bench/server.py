"""Servers the benchmark starts: Nabd as `make run` starts it (`python -m kiosk run`, waitress)
and the floor, each in its own process on 127.0.0.1, on a fresh instance folder. Always stopped,
also on Ctrl-C or an error."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

from tests.server import free_port

CHECKOUT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0
# The developer's settings that must not reach a benchmarked server.
_CLEARED = ("DATABASE_URL", "KIOSK_SECRET_KEY", "KIOSK_BASE_URL", "HOST", "PORT")


class ServerDidNotStart(RuntimeError):
    pass


class Server:
    """`with Server(command, folder) as server:` → `server.url`, `server.started_in` (seconds
    from the process start to the first 200 of /healthz), `server.rss_mb()`."""

    def __init__(self, command: list[str], folder: Path, name: str, **env: str) -> None:
        self.folder = folder
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [*command, "--host", "127.0.0.1", "--port", str(self.port)]
        self.env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
        self.env.update(PYTHONUNBUFFERED="1", **env)
        self.process: subprocess.Popen | None = None
        self.started_in = 0.0

    def __enter__(self) -> Server:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (
            open(self.folder / f"{self.name}.out.log", "wb") as out,
            open(self.folder / f"{self.name}.err.log", "wb") as err,
        ):
            start = time.perf_counter()
            self.process = subprocess.Popen(
                self.command,
                cwd=CHECKOUT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
        try:
            self._wait_for_first_answer(start)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _wait_for_first_answer(self, start: float) -> None:
        while time.perf_counter() - start < START_TIMEOUT:
            if self.process.poll() is not None:
                break
            if self._healthy():
                self.started_in = time.perf_counter() - start
                return
            time.sleep(0.01)
        log = (self.folder / f"{self.name}.err.log").read_text(errors="replace")[-2000:]
        raise ServerDidNotStart(f"{self.name} did not answer on {self.url}:\n{log}")

    def _healthy(self) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
        try:
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def rss_mb(self) -> float:
        return psutil.Process(self.process.pid).memory_info().rss / 2**20

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)


# The tablet mode (bench/__main__.py): the server on one core of this machine, as a tablet gives
# it one (its Python is no faster than this core's; a tablet's is slower still, see the report).
ONE_CORE = ("taskset", "-c", "0")


def nabd(folder: Path, name: str = "nabd", one_core: bool = False) -> Server:
    command = [sys.executable, "-m", "kiosk", "run"]
    server = Server([*ONE_CORE, *command] if one_core else command, folder, name)
    server.env.update(KIOSK_INSTANCE=str(folder / "instance"), KIOSK_BASE_URL=server.url)
    # Every simulated kiosk and phone comes from 127.0.0.1: the per-address registration limit
    # (a guard against one phone flooding the queue) would measure itself, not the server.
    server.env.update(
        KIOSK_REGISTRATIONS_PER_DEVICE_PER_MINUTE="0",
        KIOSK_REGISTRATIONS_PER_ADDRESS_PER_MINUTE="0",
    )
    return server


def floor(folder: Path) -> Server:
    database = folder / "floor" / "floor.sqlite3"
    database.parent.mkdir(parents=True, exist_ok=True)
    return Server(
        [sys.executable, "-m", "bench.floor", "--database", str(database)], folder, "floor"
    )
