"""Schema migrations (issue 17): the revisions build exactly the models' schema, a venue's
database of the release before migrations (tests/data/release-219c1b2.sqlite3, written by that
release's code) upgrades with every row kept, a second upgrade changes nothing, and a database
newer than the code is refused."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade as alembic_upgrade
from sqlalchemy import MetaData, create_engine, select, text

from kiosk import create_app
from kiosk.db import db
from kiosk.migrate import BASELINE, MIGRATIONS, schema_state, script
from tests.server import run_kiosk, running_server
from tests.support.factories import VALID_DONOR, fresh_form

OLD_RELEASE = Path(__file__).parents[1] / "data" / "release-219c1b2.sqlite3"
HEAD = script().get_current_head()
# The columns revision 0002 adds: empty in every row of the older release.
NEW_COLUMNS = {
    "campaign": {"site_names", "centre_names"},
    "desk": {"names"},
    "visit": {"line_seq"},
    "login_attempt": {"device", "cleared_at"},
}
# The open campaign of the old database is on this day (see tests/data/make_release_0_db.py).
ON_THE_OPEN_DAY = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


def differences(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def rows(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table, in the columns the old release had, ordered by id."""
    old = sqlite3.connect(OLD_RELEASE)
    columns = {
        table: [row[1] for row in old.execute(f"PRAGMA table_info({table})")]
        for (table,) in old.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    }
    old.close()
    connection = sqlite3.connect(path)
    try:
        return {
            table: connection.execute(
                f"SELECT {', '.join(names)} FROM {table} ORDER BY {names[0]}"
            ).fetchall()
            for table, names in columns.items()
        }
    finally:
        connection.close()


def schema_sql(path: Path) -> list[tuple]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(
            "SELECT type, name, sql FROM sqlite_master ORDER BY name"
        ).fetchall()
    finally:
        connection.close()


@pytest.fixture
def old_venue(tmp_path) -> Path:
    instance = tmp_path / "instance"
    instance.mkdir()
    shutil.copyfile(OLD_RELEASE, instance / "kiosk.sqlite3")
    return instance


def test_the_revisions_build_exactly_the_models_schema(database_url, tmp_path):
    app = create_app({"INSTANCE": tmp_path / "instance", "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        assert schema_state(db.engine).current == HEAD  # a new database is stamped as created
        assert differences(db.engine) == []
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE alembic_version"))
        alembic_upgrade(directory=str(MIGRATIONS))
        assert schema_state(db.engine).current == HEAD
        assert differences(db.engine) == []
        db.session.remove()
        db.engine.dispose()


def test_a_database_of_the_release_before_migrations_upgrades_with_every_row(
    old_venue, kiosk_command
):
    database = old_venue / "kiosk.sqlite3"
    before = rows(database)
    assert len(before["visit"]) == 32 and len(before["campaign"]) == 2 and before["event"]
    kiosk = kiosk_command(old_venue)

    current = kiosk("db", "current")
    assert current.exit_code == 0, current.output
    assert "release before migrations" in current.output
    upgraded = kiosk("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert f"({BASELINE}) to {HEAD}" in upgraded.output
    assert rows(database) == before
    connection = sqlite3.connect(database)
    for table, names in NEW_COLUMNS.items():
        for name in names:
            filled = connection.execute(f"SELECT count(*) FROM {table} WHERE {name} IS NOT NULL")
            assert filled.fetchone() == (0,), f"{table}.{name}"
    triggers = connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    assert len(triggers.fetchall()) == 2  # the audit log is append-only again
    connection.close()

    schema = schema_sql(database)
    again = kiosk("db", "upgrade")
    assert again.exit_code == 0 and "nothing to do" in again.output
    assert schema_sql(database) == schema and rows(database) == before
    assert kiosk("db", "current").output.strip() == f"{HEAD} (the newest)"
    history = kiosk("db", "history").output.splitlines()
    assert history[0].startswith(f"* {HEAD}") and BASELINE in history[-1]

    app = create_app(
        {
            "INSTANCE": old_venue,
            "CLOCK": lambda: ON_THE_OPEN_DAY,
            "REGISTRATIONS_PER_DEVICE_PER_MINUTE": 0,
            "REGISTRATIONS_PER_ADDRESS_PER_MINUTE": 0,
        }
    )
    with app.app_context():
        assert differences(db.engine) == []
    client = app.test_client()
    assert client.get("/kiosk").status_code == 200
    response = client.post("/kiosk/register", data={**fresh_form(client), **VALID_DONOR})
    assert response.status_code in (200, 303), response.status_code
    with app.app_context():
        donors = db.session.execute(text("SELECT count(*) FROM donor")).scalar_one()
        db.session.remove()
        db.engine.dispose()
    assert donors == len(before["donor"]) + 1


def test_a_newer_database_is_refused_in_one_line(old_venue, kiosk_command):
    kiosk = kiosk_command(old_venue)
    assert kiosk("db", "upgrade").exit_code == 0
    connection = sqlite3.connect(old_venue / "kiosk.sqlite3")
    connection.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    connection.commit()
    connection.close()
    for command in (("db", "upgrade"), ("db", "current"), ("run", "--port", "5999")):
        result = kiosk(*command)
        assert result.exit_code == 1, result.output
        assert len(result.output.strip().splitlines()) == 1
        assert "0099_from_the_future" in result.output and HEAD in result.output


def test_kiosk_run_backs_up_then_upgrades_an_old_venue_and_serves(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    shutil.copyfile(OLD_RELEASE, instance / "kiosk.sqlite3")
    before = rows(instance / "kiosk.sqlite3")
    with running_server(tmp_path) as base_url:
        assert requests.get(f"{base_url}/kiosk", timeout=10).status_code == 200
    output = (tmp_path / "stdout.log").read_text()
    assert f"Database upgraded from the release before migrations ({BASELINE}) to {HEAD}" in (
        output
    )
    backups = list((instance / "backups").glob("nabd-*.sqlite3"))
    assert backups, output
    assert rows(backups[0]) == before  # the copy is of the database before the upgrade
    assert {table: found for table, found in rows(instance / "kiosk.sqlite3").items()}[
        "donor"
    ] == before["donor"]


def test_the_release_before_migrations_upgrades_on_postgresql(postgres_url, tmp_path):
    """The old release's schema (revision 0001 alone, no revision recorded) with every row of
    the old SQLite venue copied in, upgraded by `kiosk db upgrade`."""
    instance = tmp_path / "instance"
    app = create_app({"INSTANCE": instance, "SQLALCHEMY_DATABASE_URI": postgres_url})
    old = create_engine(f"sqlite:///{OLD_RELEASE}")
    old_tables = MetaData()
    old_tables.reflect(old)
    with old.connect() as connection:
        before = {
            table.name: connection.execute(
                select(table).order_by(*table.primary_key.columns)
            ).fetchall()
            for table in old_tables.sorted_tables
        }
    old.dispose()
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE alembic_version"))
        alembic_upgrade(directory=str(MIGRATIONS), revision=BASELINE)
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE alembic_version"))  # as the old release left it
            for table in old_tables.sorted_tables:
                if before[table.name]:
                    connection.execute(
                        table.insert(), [row._asdict() for row in before[table.name]]
                    )
                    connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'),"
                            f" (SELECT max(id) FROM {table.name}))"
                        )
                    )
        assert schema_state(db.engine).legacy
        db.session.remove()
        db.engine.dispose()

    # In its own process, as typed: the command's engine is gone with it.
    upgraded = run_kiosk(instance, "db", "upgrade", DATABASE_URL=postgres_url)
    assert f"({BASELINE}) to {HEAD}" in upgraded
    assert "nothing to do" in run_kiosk(instance, "db", "upgrade", DATABASE_URL=postgres_url)

    app = create_app(
        {
            "INSTANCE": instance,
            "SQLALCHEMY_DATABASE_URI": postgres_url,
            "CLOCK": lambda: ON_THE_OPEN_DAY,
            "REGISTRATIONS_PER_DEVICE_PER_MINUTE": 0,
            "REGISTRATIONS_PER_ADDRESS_PER_MINUTE": 0,
        }
    )
    with app.app_context():
        assert differences(db.engine) == []
        with db.engine.connect() as connection:
            for table in old_tables.sorted_tables:
                columns = ", ".join(column.name for column in table.columns)
                keys = ", ".join(column.name for column in table.primary_key.columns)
                after = connection.execute(
                    text(f"SELECT {columns} FROM {table.name} ORDER BY {keys}")
                ).fetchall()
                assert [tuple(row) for row in after] == [
                    tuple(row) for row in before[table.name]
                ], table.name
    client = app.test_client()
    assert client.get("/kiosk").status_code == 200
    response = client.post("/kiosk/register", data={**fresh_form(client), **VALID_DONOR})
    assert response.status_code in (200, 303), response.status_code
    with app.app_context():
        donors = db.session.execute(text("SELECT count(*) FROM donor")).scalar_one()
        db.session.remove()
        db.engine.dispose()
    assert donors == len(before["donor"]) + 1
