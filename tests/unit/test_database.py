"""The SQLite settings that keep a confirmed registration, checked on real connections."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text

from kiosk.db import db, write_transaction


def pragma(connection, name: str):
    return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_every_connection_uses_wal_full_sync_busy_timeout_and_foreign_keys(app):
    with app.app_context():
        connections = [db.engine.connect() for _ in range(3)]
        try:
            for connection in connections:
                assert pragma(connection, "journal_mode") == "wal"
                assert pragma(connection, "synchronous") == 2  # FULL
                assert pragma(connection, "busy_timeout") >= 5000
                assert pragma(connection, "foreign_keys") == 1
        finally:
            for connection in connections:
                connection.close()


@pytest.fixture
def statements(app):
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

        def remember(conn, cursor, statement, *args):
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", remember)
        yield seen
        event.remove(engine, "before_cursor_execute", remember)


def test_writes_begin_immediate_and_reads_begin_deferred(app, statements):
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        with write_transaction(db.session):
            db.session.execute(text("SELECT 2"))
    begins = [statement for statement in statements if statement.startswith("BEGIN")]
    assert begins == ["BEGIN", "BEGIN IMMEDIATE"]


def test_a_write_transaction_rolls_back_everything_on_error(app):
    from kiosk.models import Campaign

    with app.app_context():
        before = db.session.query(Campaign).count()
        with pytest.raises(RuntimeError), write_transaction(db.session):
            db.session.execute(text("UPDATE campaign SET name = 'changed'"))
            raise RuntimeError("power cut")
        assert db.session.query(Campaign).count() == before
        assert db.session.scalar(text("SELECT count(*) FROM campaign WHERE name='changed'")) == 0


def test_pending_changes_outside_a_write_transaction_are_a_programming_error(app):
    from kiosk.models import Campaign

    with app.app_context():
        campaign = db.session.query(Campaign).first()
        campaign.name = "dirty"
        with pytest.raises(RuntimeError), write_transaction(db.session):
            pass
        db.session.rollback()
