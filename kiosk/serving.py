"""What `kiosk run` needs to stay up on an open Wi-Fi: one server per instance folder, files only
the venue's user reads, and waitress settings that a phone holding idle sockets cannot exhaust.

- The instance lock: an exclusive flock on instance/server.only, held for the server's life (the
  system drops it when the process ends, however it ends). A second `kiosk run` on the same folder
  exits at once, naming the running one (its pid and address, written in the file).
- File modes: the server runs with umask 077, so the database, its -wal and -shm, backups,
  bundles and keys are created 0600 and folders 0700; existing database files are set to 0600;
  an instance folder that others can read is warned about.
- Waitress: idle connections cost no thread (waitress polls them), so the connection limit is set
  well above what one address can usefully hold, and an idle connection is closed after
  CHANNEL_TIMEOUT seconds; bodies over MAX_BODY are refused by waitress before they are read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO, Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not on the venue's Linux
    fcntl = None

INSTANCE_LOCK = "server.only"
PRIVATE_UMASK = 0o077
# Waitress: see the docstring; measured in tests/reliability/test_venue_guard.py.
CONNECTION_LIMIT = 500
CHANNEL_TIMEOUT = 30
# The largest real form (a registration with every questionnaire answer) is under 10 kB; staff
# forms are smaller. Flask refuses bodies over MAX_CONTENT_LENGTH (1 MB) with the kind 413 page
# before reading them; waitress refuses anything larger than this outright.
MAX_BODY = 2 * 1024 * 1024


class InstanceBusy(RuntimeError):
    """Another server already serves this instance folder."""


def take_instance_lock(instance: Path | str, describe: str) -> IO[str] | None:
    """The exclusive lock of this instance folder; keep the returned file open while serving."""
    if fcntl is None:
        return None
    path = Path(instance) / INSTANCE_LOCK
    handle = open(path, "a+")  # noqa: SIM115 - held open for the server's life
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        running = handle.read().strip() or "another process"
        handle.close()
        raise InstanceBusy(
            f"Nabd is already running on {Path(instance)} ({running}): stop it first."
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}, {describe}\n")
    handle.flush()
    return handle


def make_private(instance: Path | str, database: Path | None) -> list[str]:
    """Files made from now on are the venue user's alone; existing database files become 0600.
    Returns warnings to print (an instance folder others can read)."""
    os.umask(PRIVATE_UMASK)
    warnings = []
    folder = Path(instance)
    if folder.exists() and folder.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        warnings.append(
            f"Warning: {folder} can be read by other users of this machine "
            f"(mode {stat.S_IMODE(folder.stat().st_mode):o}); run: chmod 700 {folder}"
        )
    if database is not None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            path = database.with_name(database.name + suffix)
            if path.exists():
                path.chmod(0o600)
    return warnings


def waitress_settings(config: dict[str, Any]) -> dict[str, Any]:
    return {
        "threads": config["SERVER_THREADS"],
        "connection_limit": CONNECTION_LIMIT,
        "channel_timeout": CHANNEL_TIMEOUT,
        "max_request_body_size": MAX_BODY,
        "ident": "nabd",
    }
