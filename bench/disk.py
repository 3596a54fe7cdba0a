"""The disk's raw commit rate, on the filesystem of the benchmark's instance folder: how many tiny
SQLite transactions per second it takes with Nabd's settings (WAL, synchronous=FULL), and how many
fsync() calls per second. No registration can be confirmed faster than its commit."""

from __future__ import annotations

import os
import time
from pathlib import Path

from bench.floor import connect


def sqlite_commits_per_second(folder: Path, seconds: float, most: int) -> float:
    path = folder / "commit-rate.sqlite3"
    db = connect(str(path))
    try:
        db.execute("CREATE TABLE IF NOT EXISTS tick (id INTEGER PRIMARY KEY, at REAL)")
        done, start = 0, time.perf_counter()
        while done < most and time.perf_counter() - start < seconds:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO tick (at) VALUES (?)", (time.time(),))
            db.execute("COMMIT")
            done += 1
        return done / (time.perf_counter() - start)
    finally:
        db.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def fsyncs_per_second(folder: Path, seconds: float, most: int) -> float:
    path = folder / "fsync-rate.bin"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        done, start = 0, time.perf_counter()
        while done < most and time.perf_counter() - start < seconds:
            os.write(descriptor, b"x")
            os.fsync(descriptor)
            done += 1
        return done / (time.perf_counter() - start)
    finally:
        os.close(descriptor)
        path.unlink(missing_ok=True)


def measure(folder: Path, seconds: float = 2.0, most: int = 2000) -> dict[str, float]:
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "sqlite_commits_per_s": sqlite_commits_per_second(folder, seconds, most),
        "fsyncs_per_s": fsyncs_per_second(folder, seconds, most),
    }


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="nabd-disk-") as folder:
        print(measure(Path(folder)))
