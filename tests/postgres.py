"""A private PostgreSQL server for the tests: Debian's binaries, its own data folder and socket
folder, on a free loopback port, stopped and removed at the end.

    with private_server() as server:
        url = server.new_database("central_1")   # postgresql+psycopg://postgres@127.0.0.1:PORT/…

initdb and postgres refuse to run as root: as root they run as the `postgres` system user (the
`postgresql` package creates it), on folders handed over to that user. The server trusts
connections from 127.0.0.1 only, which is what a throw-away test server on a private port needs.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.server import free_port

BIN_FOLDERS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
SYSTEM_USER = "postgres"
START_TIMEOUT = 60  # seconds; pg_ctl waits this long for the server to accept connections


class PostgresUnavailable(RuntimeError):
    """Why no PostgreSQL server can be started here; the tests that need one skip with it."""


@dataclass(frozen=True)
class PostgresServer:
    port: int
    user: str

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def new_database(self, name: str) -> str:
        """Creates an empty database (dropping one of the same name); returns its URL."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def binaries() -> Path:
    for folder in BIN_FOLDERS:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise PostgresUnavailable(
        "PostgreSQL is not installed: run `make test` as root, or `sudo apt-get install postgresql`"
    )


def _run_as(user: str | None) -> list[str]:
    """The command prefix that runs a server program as `user` (None: as ourselves)."""
    return [] if user is None else ["runuser", "-u", user, "--"]


def _server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root and there is no {SYSTEM_USER!r} system user to run PostgreSQL"
        ) from None
    return SYSTEM_USER


def _check(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=START_TIMEOUT + 30)
    if result.returncode != 0:
        raise PostgresUnavailable(f"{what} failed: {(result.stderr or result.stdout).strip()}")


@contextmanager
def private_server() -> Iterator[PostgresServer]:
    folder = binaries()
    user = _server_user()
    # Not under pytest's tmp_path: its folders are private to root, the server user must get in.
    root = Path(tempfile.mkdtemp(prefix="nabd-postgres-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if user is not None:
        entry = pwd.getpwnam(user)
        for path in (root, sockets):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    prefix = _run_as(user)
    port = free_port()
    started = False
    try:
        _check(
            [
                *prefix,
                str(folder / "initdb"),
                "--pgdata",
                str(data),
                "--auth",
                "trust",
                "--username",
                SYSTEM_USER,
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-sync",
            ],
            "initdb",
        )
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        _check(
            [
                *prefix,
                str(folder / "pg_ctl"),
                "start",
                "--pgdata",
                str(data),
                "--wait",
                "--timeout",
                str(START_TIMEOUT),
                "--log",
                str(root / "server.log"),
                "-o",
                options,
            ],
            "starting PostgreSQL",
        )
        started = True
        yield PostgresServer(port, SYSTEM_USER)
    finally:
        if started:
            subprocess.run(
                [*prefix, str(folder / "pg_ctl"), "stop", "--pgdata", str(data), "-m", "fast"],
                capture_output=True,
                timeout=START_TIMEOUT,
            )
        shutil.rmtree(root, ignore_errors=True)
