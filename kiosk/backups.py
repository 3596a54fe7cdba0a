"""Backups of the venue's SQLite database: consistent copies taken while the server runs, kept
in instance/backups/, and a checked restore. No Flask here: paths, a clock and sqlite3.

A copy is made with SQLite's online backup API in one step, so it is one consistent snapshot
even while registrations are being written (WAL lets the writers carry on meanwhile). The copy
is checked (`PRAGMA integrity_check`), switched out of WAL mode so that it is one self-contained
file, synced, and only then given its final name: a half-written copy never looks like a backup.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # not on Windows: the running-server check is then skipped
    fcntl = None

BACKUP_PREFIX = "nabd-"
BACKUP_SUFFIX = ".sqlite3"
SERVER_LOCK = "server.lock"
# Tables every Nabd database has, whatever its version.
NABD_TABLES = frozenset({"campaign", "donor", "visit", "ticket", "event"})
_BACKUP_NAME = re.compile(r"nabd-(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<suffix>\d+))?\.sqlite3")

log = logging.getLogger(__name__)


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, in one line."""


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int
    taken_at: datetime


def backup_folder(instance: Path) -> Path:
    return Path(instance) / "backups"


def sqlite_path(database_url: str) -> Path | None:
    """The file of a `sqlite:///…` URL; None for another database or an in-memory one."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix):
        return None
    path = database_url.removeprefix(prefix).split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def take_backup(database: Path, folder: Path, now: datetime, keep: int) -> Path:
    """Copies `database` into `folder` as nabd-YYYYMMDDTHHMMSSZ.sqlite3, then keeps the last
    `keep` copies. Returns the new copy's path."""
    if not database.exists():
        raise BackupError(f"no database at {database}")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = _unused_name(folder, now)
    partial = target.with_name(f".{target.name}.part")
    try:
        _create_private(partial)  # health data: readable by the server's user only
        _copy_consistently(database, partial)
        _check(partial)
        _fsync(partial)
        os.replace(partial, target)
        _fsync_folder(folder)
    except (sqlite3.Error, OSError) as error:
        raise BackupError(f"cannot back up {database}: {error}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    rotate(folder, keep)
    return target


def list_backups(folder: Path) -> list[Backup]:
    """The backups in `folder`, oldest first."""
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob(f"{BACKUP_PREFIX}*{BACKUP_SUFFIX}"), key=_taken_order):
        stat = path.stat()
        found.append(Backup(path, stat.st_size, datetime.fromtimestamp(stat.st_mtime).astimezone()))
    return found


def rotate(folder: Path, keep: int) -> list[Path]:
    """Deletes all but the newest `keep` backups (their names sort by time); returns those."""
    backups = [backup.path for backup in list_backups(folder)]
    removed = backups[: max(len(backups) - max(keep, 1), 0)]
    for path in removed:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return removed


def check_backup(path: Path) -> int:
    """Refuses a file that is not a sound Nabd database; returns its number of visits."""
    if not path.is_file():
        raise BackupError(f"no file {path}")
    try:
        return _check(path)
    except sqlite3.Error as error:
        raise BackupError(f"{path} is not a readable SQLite database ({error})") from None


def restore(backup: Path, database: Path, now: datetime) -> Path | None:
    """Replaces `database` with a checked copy of `backup`. The replaced files (database and its
    WAL) are moved aside into backups/replaced-<time>/, never deleted; returns that folder (None
    when there was no database). The server must be stopped: `server_is_running` first."""
    check_backup(backup)
    database.parent.mkdir(parents=True, exist_ok=True)
    incoming = database.with_name(f".{database.name}.restoring")
    try:
        _create_private(incoming)
        shutil.copyfile(backup, incoming)
        _fsync(incoming)
        _check(incoming)  # what is put in place is what was checked, even if FILE changed since
        aside = _move_aside(database, backup_folder(database.parent), now)
        os.replace(incoming, database)
        _fsync_folder(database.parent)
    except (sqlite3.Error, OSError) as error:
        raise BackupError(f"cannot restore {backup}: {error}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            incoming.unlink()
    return aside


def hold_server_lock(instance: Path) -> IO[str] | None:
    """Taken (shared) by every `kiosk run` on this instance; keep the returned file open while
    serving. The system drops the lock when the process ends, however it ends, so a crashed
    server never leaves a stale lock behind."""
    if fcntl is None:
        return None
    Path(instance).mkdir(parents=True, exist_ok=True)
    handle = open(Path(instance) / SERVER_LOCK, "a")  # held open while serving
    fcntl.flock(handle, fcntl.LOCK_SH)
    return handle


def server_is_running(instance: Path) -> bool:
    if fcntl is None:
        return False
    path = Path(instance) / SERVER_LOCK
    if not path.exists():
        return False
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


@dataclass
class BackupWorker:
    thread: threading.Thread
    stopping: threading.Event

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()


def start_backup_worker(
    database: Path,
    folder: Path,
    minutes: float,
    keep: int,
    clock: Callable[[], datetime],
) -> BackupWorker | None:
    """A daemon thread that takes a backup every `minutes` while the server runs (None if
    `minutes` is 0). A failed backup is logged and tried again next time; it never stops the
    server."""
    if minutes <= 0:
        return None
    stopping = threading.Event()

    def every_interval() -> None:
        while not stopping.wait(minutes * 60):
            try:
                take_backup(database, folder, clock(), keep)
            except BackupError as error:
                log.error("backup failed: %s", error)

    thread = threading.Thread(target=every_interval, name="nabd-backups", daemon=True)
    thread.start()
    return BackupWorker(thread, stopping)


def _unused_name(folder: Path, now: datetime) -> Path:
    """A name that sorts after every backup already there: copies taken in the same second
    (a frozen clock, a quick `kiosk backup now`) carry -2, -3 … after the time."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    same_second = [
        _taken_order(path)[1] for path in folder.glob(f"{BACKUP_PREFIX}{stamp}*{BACKUP_SUFFIX}")
    ]
    if not same_second:
        return folder / f"{BACKUP_PREFIX}{stamp}{BACKUP_SUFFIX}"
    return folder / f"{BACKUP_PREFIX}{stamp}-{max(same_second) + 1}{BACKUP_SUFFIX}"


def _taken_order(path: Path) -> tuple[str, int]:
    """Names sort by time; two copies in the same second carry -2, -3 … after the time."""
    found = _BACKUP_NAME.fullmatch(path.name)
    if found is None:
        return (path.name, 0)
    return (found["stamp"], int(found["suffix"] or 1))


def _copy_consistently(database: Path, target: Path) -> None:
    source = sqlite3.connect(database, timeout=10)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)  # all pages in one step: one snapshot
            copy.execute("PRAGMA journal_mode=DELETE")
            copy.commit()
        finally:
            copy.close()
    finally:
        source.close()


def _check(path: Path) -> int:
    # immutable: read the file as it is, without creating -wal or -shm files beside it.
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        verdict = connection.execute("PRAGMA integrity_check").fetchall()
        if verdict != [("ok",)]:
            raise BackupError(f"{path} fails its integrity check: {verdict[0][0]}")
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        missing = NABD_TABLES - tables
        if missing:
            raise BackupError(f"{path} is not a Nabd database (no {', '.join(sorted(missing))})")
        return connection.execute("SELECT count(*) FROM visit").fetchone()[0]
    finally:
        connection.close()


def _move_aside(database: Path, folder: Path, now: datetime) -> Path | None:
    present = [
        path
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm"))
        if path.exists()
    ]
    if not present:
        return None
    aside = folder / f"replaced-{now.strftime('%Y%m%dT%H%M%S%f')}"
    aside.mkdir(parents=True)
    for path in present:
        os.replace(path, aside / path.name)
    return aside


def _create_private(path: Path) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def delete_backups_except(folder: Path, keep: Path) -> int:
    """After a purge: every older copy (backups and replaced databases) still holds the purged
    data, so all go except `keep`, the copy taken right after the purge. Returns how many."""
    if not folder.is_dir():
        return 0
    removed = 0
    for path in folder.iterdir():
        if path == keep:
            continue
        if path.is_dir() and path.name.startswith("replaced-"):
            shutil.rmtree(path)
        elif path.is_file() and path.name.startswith(BACKUP_PREFIX):
            path.unlink()
        else:
            continue
        removed += 1
    return removed
