"""`kiosk run`: serve the app with waitress, with the printer's and the backups' threads and the
live replica's Litestream child; a database behind the code is backed up and upgraded first, one
ahead of it refused."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import click
from flask.cli import ScriptInfo, pass_script_info

from kiosk import serving
from kiosk.backups import hold_server_lock, sqlite_path
from kiosk.cli.backup import start_server_backups
from kiosk.cli.campaign import default_campaign, describe
from kiosk.cli.db import backup_then_upgrade, refuse_newer_schema
from kiosk.cli.replica import check_replica, start_replica
from kiosk.db import db
from kiosk.domain.campaigns import ensure_open_campaign
from kiosk.network import base_url_for
from kiosk.printing.worker import configured_printer, start_worker

# (label, endpoint) of the pages printed at start-up, for those the app has.
START_PAGES = (
    ("Kiosk (this tablet)", "kiosk.start"),
    ("Staff (phones, laptops)", "staff.index"),
    ("Display (TV)", "display.show"),
)


@click.command("run")
@click.option("--host", help="Address to listen on (default 0.0.0.0, or HOST).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default 5000, or PORT).")
@click.option(
    "--instance",
    type=click.Path(file_okay=False, path_type=Path),
    help="The venue's folder (default instance/ in the checkout, or KIOSK_INSTANCE).",
)
@pass_script_info
def run_command(
    info: ScriptInfo, host: str | None, port: int | None, instance: Path | None
) -> None:
    """Serve the app with waitress; opens a campaign for today if none is open."""
    import waitress

    os.umask(serving.PRIVATE_UMASK)  # the database and every file it writes: 0600
    if instance is not None:  # read by create_app, as every other command reads it
        os.environ["KIOSK_INSTANCE"] = str(instance.expanduser().resolve())
    app = info.load_app()
    with app.app_context():
        refuse_newer_schema()  # before anything is locked, written or said
    check_replica(app)
    host = host or app.config["HOST"]
    port = port or int(app.config["PORT"])
    app.config["BASE_URL"] = app.config["BASE_URL"] or base_url_for(host, port)
    try:
        lock = serving.take_instance_lock(app.instance_path, app.config["BASE_URL"])
    except serving.InstanceBusy as busy:
        raise click.ClickException(str(busy)) from None
    app.extensions["nabd_instance_lock"] = lock
    database = sqlite_path(app.config["SQLALCHEMY_DATABASE_URI"])
    for warning in serving.make_private(app.instance_path, database):
        click.echo(warning, err=True)
    with app.app_context():
        upgraded = backup_then_upgrade(app)
        if upgraded:
            click.echo(upgraded)
        campaign = ensure_open_campaign(db.session, default_campaign(app), app.config["CLOCK"]())
        click.echo(f"Nabd is open for {describe(campaign)}")
        base = app.config["BASE_URL"]
        for label, endpoint in START_PAGES:
            if endpoint in app.view_functions:
                rule = next(app.url_map.iter_rules(endpoint))
                click.echo(f"  {label:<26} {base}{rule.rule}")
        click.echo(f"  QR codes on tickets point to {base}")
        printer = configured_printer(app)
        if printer is not None:
            start_worker(app, printer)
            click.echo(f"  Tickets print on {printer.describe()}")
        click.echo(start_server_backups(app))
        replica = start_replica(app, database)
        if replica is not None:
            click.echo(f"  Replicating the database to {replica.settings.target.describe()}")
        click.echo(f"  Listening on {host}:{port} — stop with Ctrl+C")
    # Held until the process ends: `kiosk backup restore` refuses while the server runs.
    app.extensions["nabd_server_lock"] = hold_server_lock(app.instance_path)
    if replica is None:
        waitress.serve(app, host=host, port=port, **serving.waitress_settings(app.config))
        return
    # SIGTERM (a service manager, `kill`) ends waitress as Ctrl+C does, so that Litestream is
    # stopped after the last request and copies what is left; SIGKILL takes the child with it.
    signal.signal(signal.SIGTERM, _stop_serving)
    try:
        waitress.serve(app, host=host, port=port, **serving.waitress_settings(app.config))
    finally:
        replica.stop()


def _stop_serving(signum, frame) -> None:
    raise SystemExit(0)
