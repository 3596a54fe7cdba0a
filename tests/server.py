"""Start the real server (`python -m kiosk run`, waitress) in a subprocess, for e2e and
reliability tests.

    with running_server(tmp_path, KIOSK_IDLE_SECONDS="3") as base_url:
        requests.get(f"{base_url}/kiosk")

The server gets its own instance folder under `tmp_path`, so it never touches the checkout's
`instance/`. `kiosk run` opens a default campaign for today by itself.

The yielded base URL is a `str` that also knows the instance folder, so that the `kiosk` command
can add staff accounts and desks to the running server (SQLite is shared):

    with running_server(tmp_path) as base_url:
        run_kiosk(base_url.instance, "desk", "add", "Médecin 1", "--stage", "interview")
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
# How long a `kiosk` command or the server may take to start: a guard against a stuck process,
# not a timing (on a loaded 2-core machine a Python start alone took over 20 s).
START_TIMEOUT = 60.0
STOP_TIMEOUT = 5.0

# Settings of the developer's shell that must not leak into the server under test.
_CLEARED = ("DATABASE_URL", "KIOSK_SECRET_KEY", "HOST", "PORT")


class ServerDidNotStart(RuntimeError):
    pass


class KioskCommandFailed(RuntimeError):
    pass


class ServerURL(str):
    """The server's base URL (a plain `str` for every other use) and its instance folder."""

    instance: Path

    def __new__(cls, url: str, instance: Path) -> ServerURL:
        value = super().__new__(cls, url)
        value.instance = instance
        return value


def _environment(instance: Path, **env: str) -> dict[str, str]:
    """The developer's environment without the settings that must not leak, on `instance`."""
    environment = {name: value for name, value in os.environ.items() if name not in _CLEARED}
    environment.update(KIOSK_INSTANCE=str(instance), PYTHONUNBUFFERED="1")
    # Load tests register hundreds of donors from this one machine: the limits have own tests.
    environment.update(
        KIOSK_REGISTRATIONS_PER_DEVICE_PER_MINUTE="0",
        KIOSK_REGISTRATIONS_PER_ADDRESS_PER_MINUTE="0",
        # Eight tablets from one address, and twenty kills leaving tries unsettled: the CIN
        # counters would measure themselves (tests/security/test_public_kiosk.py tests them).
        KIOSK_CIN_MISSES_PER_MINUTE="0",
    )
    environment.update({name: str(value) for name, value in env.items()})
    return environment


def run_kiosk(instance: Path | str, *args: str, **env: str) -> str:
    """Runs `python -m kiosk ARGS` on that instance folder; returns its output, raises if it
    fails. E.g. `run_kiosk(folder, "staff", "add", "amina", "--role", "doctor",
    KIOSK_PASSWORD="...")`."""
    return run_kiosk_commands(instance, [args], **env)[0]


def run_kiosk_commands(instance: Path | str, commands, **env: str) -> list[str]:
    """Runs several `kiosk` commands at once (each its own process; they start in about half a
    second each, so in parallel is much faster); returns their outputs in order."""
    environment = _environment(Path(instance), **env)
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "kiosk", *args],
            cwd=CHECKOUT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in commands
    ]
    outputs, failures = [], []
    try:
        for args, process in zip(commands, processes, strict=True):
            stdout, stderr = process.communicate(timeout=START_TIMEOUT)
            outputs.append(stdout)
            if process.returncode != 0:
                failures.append(f"kiosk {' '.join(args)} -> {process.returncode}: {stderr.strip()}")
    finally:
        for process in processes:  # only after a time-out: none is left behind
            if process.poll() is None:
                process.kill()
                process.communicate()
    if failures:
        raise KioskCommandFailed("\n".join(failures))
    return outputs


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/healthz", timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _wait_until_healthy(process: subprocess.Popen, base_url: str, logs: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if _healthy(base_url):
            return
        time.sleep(0.1)
    reason = (
        f"exited with status {process.returncode}"
        if process.poll() is not None
        else f"did not answer {base_url}/healthz within {START_TIMEOUT:.0f} s"
    )
    _stop(process)
    raise ServerDidNotStart(
        f"the kiosk server {reason}.\n--- stderr ---\n{_read(logs / 'stderr.log')}"
        f"\n--- stdout ---\n{_read(logs / 'stdout.log')}"
    )


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)


@contextmanager
def running_server(
    tmp_path: Path | str | None = None, *, port: int | None = None, **env: str
) -> Iterator[ServerURL]:
    """Serve the app on 127.0.0.1 on a free port (or `port`); yields its base URL (with
    `.instance`, the instance folder), stops it on exit. The same `tmp_path` and `port` again
    restart the same venue.

    `env` adds environment variables (e.g. KIOSK_IDLE_SECONDS="3"); values are turned into text.
    """
    root = Path(tmp_path) if tmp_path is not None else Path(tempfile.mkdtemp(prefix="nabd-"))
    instance = root / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"

    environment = _environment(instance, **{"KIOSK_BASE_URL": base_url, **env})

    # Output goes to files, not pipes: a chatty server must never block on a full pipe.
    with (
        open(root / "stdout.log", "wb") as stdout,
        open(root / "stderr.log", "wb") as stderr,
    ):
        process = subprocess.Popen(
            [sys.executable, "-m", "kiosk", "run", "--host", "127.0.0.1", "--port", str(port)],
            cwd=CHECKOUT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
        )
    try:
        _wait_until_healthy(process, base_url, root)
        yield ServerURL(base_url, instance)
    finally:
        _stop(process)
