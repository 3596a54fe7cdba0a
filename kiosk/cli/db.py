"""`kiosk db upgrade`, `kiosk db current` and `kiosk db history`: the schema's revisions
(kiosk/migrate.py; the revisions themselves in kiosk/migrations/, docs/operating.md tells when
to run what). `kiosk run` upgrades by itself after a backup; these are for doing it by hand, on
PostgreSQL for instance, or to see where a database stands."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from kiosk.backups import BackupError, backup_folder, sqlite_path, take_backup
from kiosk.db import db
from kiosk.migrate import SchemaTooNew, check_not_newer, schema_state, script, upgrade_schema


@click.group("db")
def db_group() -> None:
    """The database's schema: which revision it is at, and upgrading it."""


@db_group.command("upgrade")
@with_appcontext
def upgrade_command() -> None:
    """Upgrade the database to this Nabd's newest revision (a no-op when it is there)."""
    state = schema_state(db.engine)
    try:
        check_not_newer(state)
    except SchemaTooNew as error:
        raise click.ClickException(str(error)) from None
    if state.up_to_date:
        click.echo(f"The database is at {state.head}, the newest revision: nothing to do")
        return
    before, after = upgrade_schema(current_app)
    click.echo(f"Upgraded the database from {_name(before, state.legacy)} to {after}")


@db_group.command("current")
@with_appcontext
def current_command() -> None:
    """Print the database's revision and whether it is this Nabd's newest."""
    state = schema_state(db.engine)
    if state.legacy:
        click.echo("none (written by the release before migrations): run `kiosk db upgrade`")
        return
    try:
        check_not_newer(state)
    except SchemaTooNew as error:
        raise click.ClickException(str(error)) from None
    if state.up_to_date:
        click.echo(f"{state.current} (the newest)")
    else:
        click.echo(f"{state.current}; the newest is {state.head}: run `kiosk db upgrade`")


@db_group.command("history")
@with_appcontext
def history_command() -> None:
    """List this Nabd's revisions, newest first; the database's own is marked."""
    current = schema_state(db.engine).current
    for revision in script().walk_revisions():
        mark = "*" if revision.revision == current else " "
        summary = (revision.doc or "").splitlines()[0] if revision.doc else ""
        click.echo(f"{mark} {revision.revision:<28} {summary}")


def refuse_newer_schema() -> None:
    """One line naming both revisions when a newer Nabd wrote the database."""
    try:
        check_not_newer(schema_state(db.engine))
    except SchemaTooNew as error:
        raise click.ClickException(str(error)) from None


def backup_then_upgrade(app) -> str | None:
    """For `kiosk run`: refuses a newer database; when the schema is behind, a backup of the
    SQLite file first, then the upgrade. Returns the line that says what was done, or None."""
    state = schema_state(db.engine)
    try:
        check_not_newer(state)
    except SchemaTooNew as error:
        raise click.ClickException(str(error)) from None
    if state.up_to_date:
        return None
    database = sqlite_path(app.config["SQLALCHEMY_DATABASE_URI"])
    saved = ""
    if database is not None:
        folder = backup_folder(Path(app.instance_path))
        keep = max(1, int(app.config["BACKUP_KEEP"]))
        try:
            path = take_backup(database, folder, app.config["CLOCK"](), keep)
        except BackupError as error:  # no upgrade without a copy to go back to
            raise click.ClickException(f"not upgrading: {error}") from None
        saved = f" (backup first: {path})"
    before, after = upgrade_schema(app)
    return f"  Database upgraded from {_name(before, state.legacy)} to {after}{saved}"


def _name(revision: str | None, legacy: bool) -> str:
    return revision if not legacy else f"the release before migrations ({revision})"
