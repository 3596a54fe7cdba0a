"""Alembic's entry point for Nabd: the database is the running app's (kiosk.db.db with the
engine settings of kiosk/db.py), the target is kiosk.models' metadata. SQLite gets batch mode so
that an ALTER Alembic cannot do in place (a type, a constraint) copies the table instead.
Only online migrations: a venue upgrades its own database, there is no SQL script to hand out."""

from __future__ import annotations

from alembic import context
from flask import current_app
from sqlalchemy import text

from kiosk.db import WRITE_LOCK_KEY, UTCDateTime


def render_item(type_, obj, autogen_context):
    """Revisions spell UTC columns as plain DateTime: a revision must not import the app."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def run_migrations_online() -> None:
    db = current_app.extensions["migrate"].db
    with db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=db.metadata,
            render_as_batch=True,
            transactional_ddl=True,  # SQLite too: kiosk/db.py issues the BEGIN itself
            compare_type=True,
            render_item=render_item,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Two servers starting at once on one database: the second waits, then finds
                # the work done.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY}
                )
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Nabd's migrations run online only: kiosk db upgrade")
run_migrations_online()
