"""`kiosk replica status|restore`, and the start of the replica's Litestream child by `kiosk run`
(the rules live in kiosk/replica.py)."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask
from flask.cli import ScriptInfo, pass_script_info
from sqlalchemy import event

from kiosk import replica
from kiosk.backups import sqlite_path


def check_replica(app: Flask) -> None:
    """A replica setting that cannot work stops `kiosk run` before anything else, in one line."""
    database = sqlite_path(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        replica.settings_from(app.config, database)
    except replica.ReplicaError as error:
        raise click.ClickException(str(error)) from None


def start_replica(app: Flask, database: Path | None) -> replica.Supervisor | None:
    """Starts Litestream beside the server when KIOSK_REPLICA is set; None when it is not. A
    setting that cannot work stops `kiosk run` before it serves, in one line."""
    try:
        settings = replica.settings_from(app.config, database)
        if settings is None:
            return None
        if settings.include_keys:  # made now if not yet, so that it goes with the others
            from kiosk.domain.exchange.signing import venue_key

            venue_key(app.instance_path)
        supervisor = replica.Supervisor(Path(app.instance_path), settings)
    except replica.ReplicaError as error:
        raise click.ClickException(str(error)) from None
    from kiosk.db import db

    # Litestream checkpoints the WAL once it has copied it; the server's connections only do so
    # past a large WAL (should Litestream be down for long), so that the two do not race.
    event.listen(db.engine, "connect", _leave_checkpoints_to_litestream)
    db.engine.dispose()
    supervisor.start()
    app.extensions[replica.EXTENSION] = supervisor
    return supervisor


def _leave_checkpoints_to_litestream(dbapi_connection, connection_record) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA wal_autocheckpoint={replica.APP_CHECKPOINT_PAGES}")
    finally:
        cursor.close()


@click.group("replica")
def replica_group() -> None:
    """The live replica of the database on a second device (KIOSK_REPLICA)."""


@replica_group.command("status")
@pass_script_info
def status_command(info: ScriptInfo) -> None:
    """Where the replica stands: its last position, the lag, and an alert (exit status 1) when
    it is not being updated."""
    app = info.load_app()
    database = sqlite_path(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        settings = replica.settings_from(app.config, database)
    except replica.ReplicaError as error:
        raise click.ClickException(str(error)) from None
    if settings is None:
        if database is None:
            click.echo("no replica: the database is PostgreSQL (see its streaming replication)")
        else:
            click.echo("no replica: set KIOSK_REPLICA to a folder or sftp://user@host:port/path")
        sys.exit(1)
    child = replica.read_child_state(Path(app.instance_path))
    now = datetime.now(UTC)
    result = replica.health(settings, child, now)
    for line in replica.status_lines(result, now):
        click.echo(line)
    sys.exit(0 if result.healthy else 1)


@replica_group.command("restore")
@click.option(
    "--to",
    "to",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The new instance folder (must not exist, or be empty).",
)
@click.option(
    "--from",
    "source",
    help="The replica: its folder or sftp:// address (default: KIOSK_REPLICA).",
)
@click.option("--key-file", help="The private SSH key of an SFTP replica.")
@pass_script_info
def restore_command(info: ScriptInfo, to: Path, source: str | None, key_file: str | None) -> None:
    """Rebuild a working instance folder from the replica, on another machine; then serve it
    with: kiosk run --instance FOLDER."""
    binary = os.environ.get("KIOSK_LITESTREAM", "")
    if source is None:  # only then are the venue's settings needed
        app = info.load_app()
        source = app.config.get("REPLICA") or ""
        key_file = key_file or app.config.get("REPLICA_KEY_FILE") or ""
        binary = app.config.get("LITESTREAM") or binary
    try:
        target = replica.parse_target(source)
        if target is None:
            raise replica.ReplicaError("which replica? give --from FOLDER or set KIOSK_REPLICA")
        if target.kind == "sftp" and not key_file:
            raise replica.ReplicaError("an SFTP replica needs --key-file (a private SSH key)")
        restored = replica.restore(target, to, binary=binary, key_file=key_file or "")
    except replica.ReplicaError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored {restored.visits} visits into {restored.database} (integrity ok)")
    if restored.settings:
        click.echo(f"  settings: {restored.folder / replica.SETTINGS_FILE} (from the replica)")
    else:
        click.echo("  settings: none in the replica; copy config.toml by hand if the venue had one")
    if restored.keys:
        click.echo(f"  keys from the replica: {', '.join(restored.keys)}")
    else:
        click.echo(
            "  keys: not in the replica. Staff log in again; the venue's signing key is the one "
            "carried separately (copy venue-signing-key.pem into the folder), else a new one is "
            "made and the centre must enrol it"
        )
    click.echo("  replication is off on the restored venue: set KIOSK_REPLICA to a new folder")
    click.echo(f"Serve it with: kiosk run --instance {restored.folder}")
