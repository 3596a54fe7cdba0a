"""`kiosk backup …`, `kiosk purge` and `kiosk campaign confirm-received`: keeping the venue's
data safe while it is needed, and deleting it when it is not.

The backup commands read the settings only, never open the app: a restore must work when the
current database is too damaged to start it.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from kiosk.backups import (
    BackupError,
    backup_folder,
    check_backup,
    delete_backups_except,
    list_backups,
    restore,
    server_is_running,
    sqlite_path,
    start_backup_worker,
    take_backup,
)
from kiosk.cli.common import typing_actor
from kiosk.config import instance_folder, load_settings
from kiosk.db import db
from kiosk.domain.retention import plan_purge, purge

NOT_SQLITE = (
    "backups here are for the SQLite database; back up PostgreSQL with its own tools (pg_dump)"
)


def start_server_backups(app: Flask) -> str:
    """Starts the backup thread of `kiosk run`; returns the line that says so."""
    database = sqlite_path(app.config["SQLALCHEMY_DATABASE_URI"])
    minutes = float(app.config["BACKUP_MINUTES"])
    if database is None:
        return f"  Backups: none ({NOT_SQLITE})"
    folder = backup_folder(Path(app.instance_path))
    keep = int(app.config["BACKUP_KEEP"])
    if start_backup_worker(database, folder, minutes, keep, app.config["CLOCK"]) is None:
        return "  Backups: off (KIOSK_BACKUP_MINUTES=0)"
    return f"  Backups every {minutes:g} min into {folder} (the last {keep} kept)"


def _settings() -> tuple[Path, Path, dict]:
    """The instance folder, the SQLite database file and the settings, without the app."""
    instance = instance_folder()
    settings = load_settings(instance, os.environ, None)
    database = sqlite_path(settings["SQLALCHEMY_DATABASE_URI"])
    if database is None:
        raise click.ClickException(NOT_SQLITE)
    return instance, database, settings


@click.group("backup")
def backup_group() -> None:
    """Copies of the SQLite database in instance/backups/ (`kiosk run` takes one regularly)."""


@backup_group.command("now")
def backup_now() -> None:
    """Take a backup now (safe while the server runs)."""
    instance, database, settings = _settings()
    keep = int(settings["BACKUP_KEEP"])
    try:
        path = take_backup(database, backup_folder(instance), datetime.now(UTC), keep)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backed up to {path} ({path.stat().st_size} bytes, integrity ok)")


@backup_group.command("list")
def backup_list() -> None:
    """List the backups, oldest first."""
    instance, _, _ = _settings()
    backups = list_backups(backup_folder(instance))
    if not backups:
        click.echo(f"No backup in {backup_folder(instance)} yet: kiosk backup now")
    for backup in backups:
        taken = backup.taken_at.strftime("%Y-%m-%d %H:%M:%S %z")
        click.echo(f"{backup.path.name}  {taken}  {backup.size:>10} bytes")


@backup_group.command("restore")
@click.argument("backup", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def backup_restore(backup: Path, yes: bool) -> None:
    """Replace the database with BACKUP after checking it; the replaced one is kept aside."""
    instance, database, _ = _settings()
    if server_is_running(instance):
        raise click.ClickException(
            "the server is running on this instance: stop it (Ctrl+C) before restoring"
        )
    try:
        visits = check_backup(backup)
        click.echo(f"{backup}: integrity ok, a Nabd database with {visits} visits")
        if not yes:
            click.confirm(f"Replace {database} with it?", abort=True)
        aside = restore(backup, database, datetime.now(UTC))
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored {database} from {backup}")
    if aside is not None:
        click.echo(f"The replaced database is kept in {aside}")


@click.command("purge")
@click.option(
    "--before",
    "before",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Purge campaigns whose last day is before this date.",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def purge_command(before: datetime, yes: bool) -> None:
    """Delete the visits and donors' personal data of campaigns the centre has received."""
    app = current_app
    now, days, day = app.config["CLOCK"](), int(app.config["RETENTION_DAYS"]), before.date()
    if days < 0:
        raise click.ClickException(f"KIOSK_RETENTION_DAYS must be 0 or more, not {days}")
    plan = plan_purge(db.session, day, now, days)
    for kept in plan.kept:
        click.echo(f"kept: {kept.campaign.code}: {kept.reason}", err=True)
    if not plan.purgeable:
        raise click.ClickException(_nothing_to_purge(day, len(plan.kept)))
    codes = ", ".join(campaign.code for campaign in plan.purgeable)
    if not yes:
        click.confirm(
            f"Delete the visits and donors' personal data of {codes}? This cannot be undone",
            abort=True,
        )
    ids = [campaign.id for campaign in plan.purgeable]
    actor = typing_actor()
    purged = purge(db.session, ids, day, actor.name, actor.device, now, days)
    counts = ", ".join(f"{value} {key}" for key, value in purged.counts.items())
    click.echo(f"Purged {', '.join(purged.campaigns)}: {counts}")
    click.echo(_drop_old_backups(app))


def _nothing_to_purge(day: date, kept: int) -> str:
    if kept:
        return f"nothing to purge before {day}: every campaign there is kept (see above)"
    return f"no campaign ended before {day} that is not purged already"


def _drop_old_backups(app: Flask) -> str:
    """Older backups still hold what was just purged: a fresh one replaces them all."""
    database = sqlite_path(app.config["SQLALCHEMY_DATABASE_URI"])
    if database is None:
        return "Backups: purge the PostgreSQL dumps taken before now yourself"
    folder = backup_folder(Path(app.instance_path))
    try:
        fresh = take_backup(database, folder, datetime.now(UTC), int(app.config["BACKUP_KEEP"]))
    except BackupError as error:
        raise click.ClickException(
            f"purged, but no fresh backup could be taken ({error}); older backups are left"
        ) from None
    removed = delete_backups_except(folder, fresh)
    return f"Backups: {removed} older copies holding purged data deleted; new backup {fresh.name}"
