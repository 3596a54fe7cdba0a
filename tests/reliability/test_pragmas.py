"""Item 1 of the reliability issue, on real pooled connections of the app's engine: every
connection runs WAL with synchronous=FULL, a busy timeout and foreign keys; every write of a
concurrent registration workload happens inside BEGIN IMMEDIATE; and the same workload with a plain
deferred BEGIN fails with "database is locked" — the negative control that shows this test would
notice if the recipe were lost."""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from kiosk.db import _sqlite_on_begin, db
from kiosk.domain.registration import Context, register
from kiosk.models import Campaign, Visit
from tests.reliability.figures import show
from tests.support.factories import CAMPAIGN_DAY, FROZEN_NOW
from tests.support.registrations import donor

THREADS = 8
REGISTRATIONS_PER_THREAD = 15
WRITES = ("INSERT", "UPDATE", "DELETE")


def pragma(connection, name: str):
    return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_every_pooled_connection_reports_the_durable_settings(app, capsys):
    with app.app_context():
        connections = [db.engine.connect() for _ in range(THREADS)]
        try:
            raw = {id(connection.connection.dbapi_connection) for connection in connections}
            assert len(raw) == THREADS, "the pool handed out the same connection twice"
            settings = [
                (
                    pragma(connection, "journal_mode"),
                    pragma(connection, "synchronous"),
                    pragma(connection, "busy_timeout"),
                    pragma(connection, "foreign_keys"),
                )
                for connection in connections
            ]
        finally:
            for connection in connections:
                connection.close()
    for journal_mode, synchronous, busy_timeout, foreign_keys in settings:
        assert journal_mode == "wal"
        assert synchronous == 2  # FULL
        assert busy_timeout >= 5000
        assert foreign_keys == 1
    show(
        capsys,
        f"pragmas: {len(settings)} pooled connections at once, all WAL, synchronous=FULL, "
        f"busy_timeout {min(s[2] for s in settings)} ms, foreign_keys on",
    )


@dataclass
class Workload:
    numbers: list[int] = field(default_factory=list)
    locked: int = 0
    other_errors: list[str] = field(default_factory=list)
    # (how the transaction began, statement kind) for every write statement sent to SQLite.
    writes: Counter = field(default_factory=Counter)


def run_workload(app) -> Workload:
    """8 threads register 15 donors each through the domain, as 8 kiosks would, and every
    statement sent to SQLite is watched."""
    result = Workload()
    lock = threading.Lock()
    begun: dict[int, str] = {}  # DBAPI connection -> the BEGIN of its open transaction

    def watch(conn, cursor, statement, *args):
        key = id(conn.connection.dbapi_connection)
        kind = statement.lstrip().split(None, 1)[0].upper()
        with lock:
            if kind == "BEGIN":
                begun[key] = statement.strip()
            elif kind in WRITES:
                result.writes[(begun.get(key, "no BEGIN"), kind)] += 1

    with app.app_context():
        engine = db.engine
        campaign_id = db.session.scalar(select(Campaign.id))
        db.session.rollback()
    start = threading.Barrier(THREADS)

    def one_kiosk(kiosk_number: int) -> None:
        with app.app_context():
            context = Context(campaign_id, CAMPAIGN_DAY, FROZEN_NOW, "fr", f"kiosk-{kiosk_number}")
            start.wait()
            for turn in range(REGISTRATIONS_PER_THREAD):
                serial = kiosk_number * REGISTRATIONS_PER_THREAD + turn
                try:
                    registered = register(db.session, donor(serial), f"req-{serial:08d}", context)
                    number = registered.visit.queue_number
                    with lock:
                        result.numbers.append(number)
                except OperationalError as error:
                    db.session.rollback()
                    with lock:
                        if "database is locked" in str(error):
                            result.locked += 1
                        else:
                            result.other_errors.append(str(error).splitlines()[0])
            db.session.remove()

    event.listen(engine, "before_cursor_execute", watch)
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(one_kiosk, range(THREADS)))
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    return result


def stored_numbers(app) -> list[int]:
    with app.app_context():
        numbers = sorted(db.session.scalars(select(Visit.queue_number)))
        db.session.rollback()
        return numbers


def test_concurrent_writes_take_the_write_lock_first_and_never_fail(app, capsys):
    result = run_workload(app)
    total = THREADS * REGISTRATIONS_PER_THREAD
    assert result.other_errors == []
    assert result.locked == 0
    assert sorted(result.numbers) == list(range(1, total + 1))
    assert stored_numbers(app) == list(range(1, total + 1))
    assert result.writes, "no write statement was seen"
    beginnings = {begin for begin, _ in result.writes}
    assert beginnings == {"BEGIN IMMEDIATE"}, result.writes
    show(
        capsys,
        f"BEGIN IMMEDIATE: {total} registrations from {THREADS} threads, "
        f"{sum(result.writes.values())} write statements all inside BEGIN IMMEDIATE, "
        f"0 'database is locked', numbers 1..{total}",
    )


@pytest.fixture
def deferred_begin(app, monkeypatch):
    """The app with the recipe undone: every transaction starts with a plain deferred BEGIN.
    The server's in-process queue of writers is off too, as it is between separate processes
    (the `kiosk` command beside the server): there, only BEGIN IMMEDIATE keeps writers apart."""

    def plain_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN")

    database_module = importlib.import_module("kiosk.db")  # `kiosk.db` names the db object
    monkeypatch.setattr(database_module, "_writers_queue", lambda s: contextlib.nullcontext())

    with app.app_context():
        engine = db.engine
    event.remove(engine, "begin", _sqlite_on_begin)
    event.listen(engine, "begin", plain_begin)
    yield app
    event.remove(engine, "begin", plain_begin)
    event.listen(engine, "begin", _sqlite_on_begin)


def test_negative_control_a_deferred_begin_gives_database_is_locked(deferred_begin, capsys):
    result = run_workload(deferred_begin)
    total = THREADS * REGISTRATIONS_PER_THREAD
    show(
        capsys,
        f"negative control, deferred BEGIN: {result.locked} of {total} registrations failed "
        f"with 'database is locked', {len(result.other_errors)} other errors, "
        f"{len(result.numbers)} stored",
    )
    # What the tests above would have caught: failures, and writes outside BEGIN IMMEDIATE.
    assert result.locked > 0
    assert {begin for begin, _ in result.writes} == {"BEGIN"}
    # Nothing half-written: every failed registration left no trace, numbers still have no gap.
    assert stored_numbers(deferred_begin) == list(range(1, len(result.numbers) + 1))
