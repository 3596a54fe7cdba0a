"""Start the real server (`python -m kiosk run`, waitress) in a subprocess, for e2e and
reliability tests.

    with running_server(tmp_path, KIOSK_IDLE_SECONDS="3") as base_url:
        requests.get(f"{base_url}/kiosk")

The server gets its own instance folder under `tmp_path`, so it never touches the checkout's
`instance/`. `kiosk run` opens a default campaign for today by itself.
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
START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0

# Settings of the developer's shell that must not leak into the server under test.
_CLEARED = ("DATABASE_URL", "KIOSK_SECRET_KEY", "HOST", "PORT")


class ServerDidNotStart(RuntimeError):
    pass


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
def running_server(tmp_path: Path | str | None = None, **env: str) -> Iterator[str]:
    """Serve the app on 127.0.0.1 on a free port; yields its base URL, stops it on exit.

    `env` adds environment variables (e.g. KIOSK_IDLE_SECONDS="3"); values are turned into text.
    """
    root = Path(tmp_path) if tmp_path is not None else Path(tempfile.mkdtemp(prefix="nabd-"))
    instance = root / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"

    environment = {name: value for name, value in os.environ.items() if name not in _CLEARED}
    environment.update(
        KIOSK_INSTANCE=str(instance),
        KIOSK_BASE_URL=base_url,
        PYTHONUNBUFFERED="1",
    )
    environment.update({name: str(value) for name, value in env.items()})

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
        yield base_url
    finally:
        _stop(process)
