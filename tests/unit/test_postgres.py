"""The app on PostgreSQL: the schema, the write lock that stands for SQLite's BEGIN IMMEDIATE,
and queue numbers without gaps or duplicates when many kiosks register at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import event, func, select, text

from kiosk.db import WRITE_LOCK_KEY, db, write_transaction
from kiosk.domain.campaigns import CampaignDetails, current_campaign, open_campaign
from kiosk.domain.queue import Actor, add_desk, call_next
from kiosk.domain.registration import Context, register
from kiosk.domain.validation import Registration
from kiosk.models import Donor, Visit
from tests.support.factories import CAMPAIGN_DAY, FROZEN_NOW

THREADS = 8
PER_THREAD = 25


@pytest.fixture
def pg_app(make_app, postgres_url, clock):
    app = make_app(SQLALCHEMY_DATABASE_URI=postgres_url)
    with app.app_context():
        details = CampaignDetails("Don de sang", "Khénifra", CAMPAIGN_DAY, "CRTS Meknès")
        open_campaign(db.session, details, clock())
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def person(serial: int) -> Registration:
    return Registration(
        "Donor", "Number", "M", date(1980, 1, 1), f"PG{serial:06d}", None, "citizen"
    )


def test_the_schema_is_created_once_and_a_second_start_adds_nothing(pg_app, make_app):
    with pg_app.app_context():
        url = str(db.engine.url.render_as_string(hide_password=False))
        assert db.engine.dialect.name == "postgresql"
        assert db.session.scalar(select(func.count(Donor.id))) == 0
        default = db.session.execute(
            text(
                "SELECT column_default FROM information_schema.columns "
                "WHERE table_name = 'donor' AND column_name = 'deferred_permanently'"
            )
        ).scalar()
        assert default == "false"
    again = make_app(SQLALCHEMY_DATABASE_URI=url)
    with again.app_context():
        assert current_campaign(db.session) is not None
        db.session.remove()
        db.engine.dispose()


def test_write_transactions_take_the_write_lock_and_reads_do_not(pg_app):
    seen: list[str] = []

    def remember(conn, cursor, statement, *args):
        seen.append(statement)

    with pg_app.app_context():
        event.listen(db.engine, "before_cursor_execute", remember)
        try:
            db.session.execute(text("SELECT 1"))
            db.session.rollback()
            with write_transaction(db.session):
                held = db.session.scalar(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                        "AND objid = :key AND pid = pg_backend_pid()"
                    ),
                    {"key": WRITE_LOCK_KEY},
                )
        finally:
            event.remove(db.engine, "before_cursor_execute", remember)
        lock_timeout = db.session.scalar(text("SHOW lock_timeout"))
    assert lock_timeout == "10s"  # as long as SQLite's busy timeout
    locks = [statement for statement in seen if "pg_advisory_xact_lock" in statement]
    assert locks == [f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})"]
    assert held == 1


def test_200_registrations_from_8_threads_get_1_to_200(pg_app):
    with pg_app.app_context():
        campaign_id = current_campaign(db.session).id
    start = threading.Barrier(THREADS)

    def one_kiosk(kiosk: int) -> tuple[list[int], list[str]]:
        numbers, errors = [], []
        with pg_app.app_context():
            context = Context(campaign_id, CAMPAIGN_DAY, FROZEN_NOW, "fr", f"kiosk-{kiosk}")
            start.wait()
            for turn in range(PER_THREAD):
                serial = kiosk * PER_THREAD + turn
                try:
                    registered = register(db.session, person(serial), f"pg-{serial:08d}", context)
                    numbers.append(registered.visit.queue_number)
                except Exception as error:  # collected: one failure shows them all
                    errors.append(f"{serial}: {type(error).__name__}: {error}")
            db.session.remove()
        return numbers, errors

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(one_kiosk, range(THREADS)))
    numbers = sorted(number for found, _ in results for number in found)
    errors = [error for _, failed in results for error in failed]
    total = THREADS * PER_THREAD
    print(
        f"\nPostgreSQL, {total} registrations from {THREADS} threads: "
        f"{len(set(numbers))} distinct, {total - len(set(numbers))} missing, {len(errors)} errors"
    )
    assert errors == []
    assert numbers == list(range(1, total + 1))


def test_two_desks_calling_at_once_never_get_the_same_visit(pg_app):
    with pg_app.app_context():
        campaign_id = current_campaign(db.session).id
        context = Context(campaign_id, CAMPAIGN_DAY, FROZEN_NOW, "fr", "kiosk")
        for serial in range(40):
            register(db.session, person(serial), f"desk-{serial:08d}", context)
        desks = [add_desk(db.session, f"Médecin {n}", "interview").id for n in range(4)]
    start = threading.Barrier(len(desks))

    def one_desk(desk_id: int) -> list[int]:
        called = []
        with pg_app.app_context():
            from kiosk.models import Desk

            start.wait()
            while True:
                desk = db.session.get(Desk, desk_id)
                visit = call_next(db.session, campaign_id, desk, Actor("dr", "x"), FROZEN_NOW)
                if visit is None:
                    break
                called.append(visit.queue_number)
                with write_transaction(db.session):  # done with this donor: free the desk
                    db.session.get(Visit, visit.id).desk_id = None
            db.session.remove()
        return called

    with ThreadPoolExecutor(len(desks)) as pool:
        calls = [number for called in pool.map(one_desk, desks) for number in called]
    assert sorted(calls) == list(range(1, 41))


def test_without_postgresql_installed_the_reason_says_what_to_install(monkeypatch):
    import tests.postgres

    monkeypatch.setattr(tests.postgres, "BIN_FOLDERS", [])
    with pytest.raises(tests.postgres.PostgresUnavailable, match="apt-get install postgresql"):
        with tests.postgres.private_server():
            pass
