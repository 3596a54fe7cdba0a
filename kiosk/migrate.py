"""Schema revisions (Alembic through Flask-Migrate; the revisions live in kiosk/migrations/).

Three kinds of database meet the code:
- an empty one (a new venue, every test): the tables are created from kiosk.models and stamped
  with the newest revision, in one transaction (under the write lock on PostgreSQL);
- one written by the release before migrations (tables, no alembic_version table): it has the
  schema of revision BASELINE exactly, is stamped with it, then upgraded like any other;
- one that names a revision: upgraded by `kiosk db upgrade` or by `kiosk run` (after a backup).
  A revision this code does not know means a newer Nabd wrote it: refused, never touched.
Nothing adds columns at start-up any more: every change of kiosk/models.py comes with a revision.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import Migrate
from flask_migrate import stamp as _stamp
from flask_migrate import upgrade as _upgrade
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from kiosk.db import WRITE_LOCK_KEY, db

MIGRATIONS = Path(__file__).parent / "migrations"
# The schema of commit 219c1b2, the last release that added columns at start-up.
BASELINE = "0001_release_219c1b2"
VERSION_TABLE = "alembic_version"


class SchemaTooNew(Exception):
    """The database was upgraded by a newer Nabd than this one."""


@dataclass(frozen=True)
class SchemaState:
    current: str | None  # None: empty database, or one of the release before migrations
    head: str
    legacy: bool  # tables of the release before migrations, no revision recorded

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def init_migrate(app: Flask) -> None:
    Migrate(app, db, directory=str(MIGRATIONS), render_as_batch=True)


def script() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))


def prepare_schema(engine: Engine, metadata) -> bool:
    """At start-up: an empty database gets today's tables, stamped with the newest revision.
    Any other database is left as it is (upgrades are `kiosk db upgrade` and `kiosk run`).
    Returns whether the tables were created."""
    head = script().get_current_head()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})
        if inspect(connection).get_table_names():
            return False
        metadata.create_all(connection)
        MigrationContext.configure(connection).stamp(script(), head)
    return True


def schema_state(engine: Engine) -> SchemaState:
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        tables = set(inspect(connection).get_table_names())
    legacy = current is None and bool(tables - {VERSION_TABLE})
    return SchemaState(current, script().get_current_head(), legacy)


def check_not_newer(state: SchemaState) -> None:
    """Refuses a database whose revision this code does not have (one line names both)."""
    if state.current is None:
        return
    revisions = script()
    try:
        known = revisions.get_revision(state.current) is not None
    except Exception:  # alembic raises its own errors for an unknown revision
        known = False
    if not known:
        raise SchemaTooNew(
            f"the database is at schema revision {state.current}, newer than this Nabd's "
            f"{state.head}: run the Nabd that upgraded it"
        )


def upgrade_schema(app: Flask) -> tuple[str | None, str]:
    """Upgrades to the newest revision (a database of the release before migrations is stamped
    with BASELINE first); returns the revisions before and after. Run in an app context."""
    state = schema_state(db.engine)
    check_not_newer(state)
    before = state.current
    if state.legacy:
        _stamp(directory=str(MIGRATIONS), revision=BASELINE)
        before = BASELINE
    if not state.up_to_date:
        _upgrade(directory=str(MIGRATIONS))
        from kiosk.audit import install_triggers

        install_triggers(db.engine)  # SQLite's batch mode may have copied the event table
    return before, script().get_current_head()
