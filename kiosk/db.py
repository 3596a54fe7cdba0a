"""Database set-up: the SQLite settings that keep a registration once it is confirmed, and the
same guarantees on PostgreSQL (the regional centre's database, or a venue that prefers it).

SQLite runs in WAL mode with synchronous=FULL (a committed registration survives a power cut),
a busy timeout instead of instant "database is locked" errors, and foreign keys on. Python's sqlite3
module is switched to autocommit so that SQLAlchemy's "begin" event decides how each transaction
starts (SQLAlchemy's documented pysqlite recipe): reads take a plain BEGIN, writes that go through
write_transaction() take BEGIN IMMEDIATE, so two writers queue up instead of failing half-way.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session
from sqlalchemy.types import TypeDecorator

BUSY_TIMEOUT_MS = 10_000
IMMEDIATE = "kiosk_begin_immediate"
# The advisory lock every write transaction of Nabd takes on PostgreSQL (any fixed number that no
# other program on the same database uses: "NABD" in ASCII).
WRITE_LOCK_KEY = 0x4E414244


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class UTCDateTime(TypeDecorator):
    """Stores UTC without an offset (SQLite has no time zones) and gives back aware datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _postgres_on_connect)
        event.listen(engine, "begin", _postgres_on_begin)
    if engine.dialect.name != "sqlite":
        return
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)


def _postgres_on_connect(dbapi_connection, connection_record) -> None:
    """A writer waits for the write lock as long as SQLite's busy timeout, then fails cleanly."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute(f"SET lock_timeout = {BUSY_TIMEOUT_MS}")
    dbapi_connection.commit()


def _postgres_on_begin(connection) -> None:
    if connection.get_execution_options().get(IMMEDIATE, False):
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")


def _sqlite_on_connect(dbapi_connection, connection_record) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _sqlite_on_begin(connection) -> None:
    immediate = connection.get_execution_options().get(IMMEDIATE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_transaction(session: Session) -> Iterator[Session]:
    """One write unit: takes the write lock first, commits at the end, rolls back on any error.

    A read transaction the session may already hold is ended first: its objects are re-read under
    the lock, which is what a writer wants anyway.
    """
    if isinstance(session, scoped_session):
        session = session()
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("changes pending outside a write transaction")
    if session.in_transaction():
        session.rollback()
    with _writers_queue(session):
        session.connection(execution_options={IMMEDIATE: True})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# The server's threads take SQLite's write lock one after the other, in the order they come.
# Left to SQLite, a writer that finds the lock taken sleeps in steps of up to 100 ms before it
# looks again (the busy handler), so eight desks pressing at once waited up to a second for
# commits of a few milliseconds. Other processes (the `kiosk` command) still meet the busy timeout.
_SQLITE_WRITERS = threading.RLock()


@contextmanager
def _writers_queue(session: Session) -> Iterator[None]:
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    with _SQLITE_WRITERS:
        yield
