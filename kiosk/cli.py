"""The `kiosk` command: serve the app, manage campaigns. Errors are one line, never a traceback."""

from __future__ import annotations

import os
import sys
from datetime import date

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, ScriptInfo, pass_script_info

from kiosk.backups import hold_server_lock, sqlite_path
from kiosk.central_cli import central_group
from kiosk.config import ConfigError
from kiosk.db import db
from kiosk.domain.campaigns import (
    CampaignDetails,
    CampaignError,
    close_campaign,
    current_campaign,
    ensure_open_campaign,
    open_campaign,
)
from kiosk.domain.din import parse_policy
from kiosk.domain.donor_import import import_donors
from kiosk.domain.eligibility import TABLES
from kiosk.domain.queue import DESK_STAGES, Actor, QueueError, add_desk, desks
from kiosk.domain.staff import ROLES, AccountError, add_staff, disable_staff, list_staff
from kiosk.export_cli import VERIFY_EXPORT, export_group, verify_command
from kiosk.maintenance_cli import (
    backup_group,
    confirm_received_command,
    purge_command,
    start_server_backups,
)
from kiosk.network import base_url_for
from kiosk.printing.connection import status_line
from kiosk.printing.escpos_ticket import ticket_image
from kiosk.printing.paper import paper_for
from kiosk.printing.text import find_font
from kiosk.printing.worker import start_worker
from kiosk.timezones import local_day, venue_zone
from kiosk.web.printing import SETTINGS as PRINTER_SETTINGS
from kiosk.web.printing import test_page_layout

# (label, endpoint) of the pages printed at start-up, for those the app has.
START_PAGES = (
    ("Kiosk (this tablet)", "kiosk.start"),
    ("Staff (phones, laptops)", "staff.index"),
    ("Display (TV)", "display.show"),
)


def _create_app() -> Flask:
    from kiosk import create_app

    return create_app()


class KioskGroup(FlaskGroup):
    def main(self, *args, **kwargs):
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except click.exceptions.Abort:
            click.echo("kiosk: stopped", err=True)
            sys.exit(1)
        except QueueError as error:
            click.echo(f"kiosk: {_QUEUE_ERRORS.get(error.code, error.code)}", err=True)
            sys.exit(1)
        except click.ClickException as error:
            click.echo(f"kiosk: {error.format_message()}", err=True)
            sys.exit(error.exit_code)
        except (ConfigError, CampaignError, AccountError) as error:
            click.echo(f"kiosk: {error}", err=True)
            sys.exit(1)
        except Exception as error:  # the last guard: one line, and the way to more
            first_line = (str(error).splitlines() or [""])[0]
            click.echo(f"kiosk: unexpected error: {type(error).__name__}: {first_line}", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


@click.group(
    cls=KioskGroup,
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
)
def cli() -> None:
    """Nabd, the blood-drive kiosk. Settings: instance/config.toml and KIOSK_* variables."""


def _venue_day(app: Flask) -> date:
    return local_day(app.config["CLOCK"](), app.config["TIMEZONE"])


def _default_campaign(app: Flask) -> CampaignDetails:
    return CampaignDetails(
        name=app.config["DEFAULT_CAMPAIGN_NAME"],
        site=app.config["DEFAULT_CAMPAIGN_SITE"],
        day=_venue_day(app),
        regional_centre=app.config["DEFAULT_REGIONAL_CENTRE"],
    )


def _describe(campaign) -> str:
    return (
        f"{campaign.code}: {campaign.name} — {campaign.site}, {campaign.starts_on.isoformat()}"
        f" ({campaign.status}; rules {campaign.rules}; bag numbers {campaign.bag_numbers})"
    )


@cli.command("run", with_appcontext=False)
@click.option("--host", help="Address to listen on (default 0.0.0.0, or HOST).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default 5000, or PORT).")
@pass_script_info
def run_command(info: ScriptInfo, host: str | None, port: int | None) -> None:
    """Serve the app with waitress; opens a campaign for today if none is open."""
    import waitress

    from kiosk import serving

    os.umask(serving.PRIVATE_UMASK)  # issue 14: the database and its files, 0600
    app = info.load_app()
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
        campaign = ensure_open_campaign(db.session, _default_campaign(app), app.config["CLOCK"]())
        click.echo(f"Nabd is open for {_describe(campaign)}")
        base = app.config["BASE_URL"]
        for label, endpoint in START_PAGES:
            if endpoint in app.view_functions:
                rule = next(app.url_map.iter_rules(endpoint))
                click.echo(f"  {label:<26} {base}{rule.rule}")
        click.echo(f"  QR codes on tickets point to {base}")
        printer = app.extensions.get(PRINTER_SETTINGS)
        if printer is not None:
            start_worker(app, printer)
            click.echo(f"  Tickets print on {printer.describe()}")
        click.echo(start_server_backups(app))
        click.echo(f"  Listening on {host}:{port} — stop with Ctrl+C")
    # Held until the process ends: `kiosk backup restore` refuses while the server runs.
    app.extensions["nabd_server_lock"] = hold_server_lock(app.instance_path)
    waitress.serve(app, host=host, port=port, **serving.waitress_settings(app.config))


@cli.group("campaign")
def campaign_group() -> None:
    """Open and show the campaign the kiosk registers donors into."""


@campaign_group.command("open")
@click.option("--name", required=True, help="Shown on the kiosk and the tickets.")
@click.option("--site", required=True, help="Where the drive takes place.")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="YYYY-MM-DD (today).")
@click.option("--centre", default=None, help="The regional transfusion centre.")
@click.option("--rules", type=click.Choice(TABLES), default="morocco", help="Eligibility table.")
@click.option(
    "--bag-numbers",
    default="any",
    help="How bag numbers are checked: any, isbt128 or regex:PATTERN.",
)
def open_command(
    name: str, site: str, day, centre: str | None, rules: str, bag_numbers: str
) -> None:
    """Open a campaign (or rename the open one while nobody is registered)."""
    app = current_app
    try:
        bag_numbers = parse_policy(bag_numbers)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="'--bag-numbers'") from None
    details = CampaignDetails(
        name=name,
        site=site,
        day=day.date() if day else _venue_day(app),
        regional_centre=app.config["DEFAULT_REGIONAL_CENTRE"] if centre is None else centre,
        rules=rules,
        bag_numbers=bag_numbers,
    )
    campaign = open_campaign(db.session, details, app.config["CLOCK"]())
    click.echo(f"Open: {_describe(campaign)}")


@campaign_group.command("close")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def close_command(yes: bool) -> None:
    """Close the campaign day: registrations stop, waiting visits are marked left."""
    campaign = current_campaign(db.session)
    if campaign is None:
        raise click.ClickException("no campaign is open")
    if not yes:
        click.confirm(f"Close {campaign.code} ({campaign.name})?", abort=True)
    actor = Actor(os.environ.get("USER") or "coordinator", "server")
    closed = close_campaign(db.session, actor, current_app.config["CLOCK"]())
    click.echo(
        f"Closed {closed.campaign.code}: {closed.left} visits marked left, "
        f"{closed.finished} resting donors done"
    )


@campaign_group.command("show")
def show_command() -> None:
    """Show the open campaign."""
    campaign = current_campaign(db.session)
    if campaign is None:
        raise click.ClickException("no campaign is open (kiosk campaign open --name … --site …)")
    click.echo(_describe(campaign))


_QUEUE_ERRORS = {
    "desk_name": "a desk name has 1 to 40 characters",
    "desk_stage": "a desk is for interview or collection",
    "desk_exists": "a desk with that name exists already",
}


@cli.group("staff")
def staff_group() -> None:
    """Staff accounts: reception, doctor, phlebotomist, coordinator."""


@staff_group.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the account may do.")
def staff_add(username: str, role: str) -> None:
    """Add an account. The password comes from KIOSK_PASSWORD, or is asked twice."""
    password = os.environ.get("KIOSK_PASSWORD")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = add_staff(
        db.session, username, password, role, current_app.config["CLOCK"](), by=_server_user()
    )
    click.echo(f"Added {user.username} ({user.role})")


@staff_group.command("list")
def staff_list() -> None:
    """List the accounts."""
    accounts = list_staff(db.session)
    if not accounts:
        click.echo("No account yet: kiosk staff add NAME --role coordinator")
    for user in accounts:
        click.echo(f"{user.username:<20} {user.role:<13} {'active' if user.active else 'disabled'}")


@staff_group.command("disable")
@click.argument("username")
def staff_disable(username: str) -> None:
    """Disable an account and end its sessions at once."""
    user = disable_staff(db.session, username, current_app.config["CLOCK"](), by=_server_user())
    click.echo(f"Disabled {user.username}; their devices are logged out")


def _server_user() -> tuple[str, str]:
    """Who typed a command on the server, for the audit log."""
    return (os.environ.get("USER") or "system", "server")


@cli.group("desk")
def desk_group() -> None:
    """Desks where donors are called: "Médecin 1" (interview), "Fauteuil 3" (collection)."""


@desk_group.command("add")
@click.argument("name")
@click.option("--stage", required=True, type=click.Choice(DESK_STAGES))
def desk_add(name: str, stage: str) -> None:
    """Add a desk."""
    desk = add_desk(db.session, name, stage)
    click.echo(f"Added desk {desk.name} ({desk.stage})")


@desk_group.command("list")
def desk_list() -> None:
    """List the desks."""
    for desk in desks(db.session):
        click.echo(f"{desk.name:<20} {desk.stage}")


@cli.group("import")
def import_group() -> None:
    """Load data from the regional centre."""


@import_group.command("donors")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
def import_donors_command(csv_file: str) -> None:
    """Load the centre's list of known donors (see the README for the columns)."""
    app = current_app
    venue_now = app.config["CLOCK"]().astimezone(venue_zone(app.config["TIMEZONE"]))
    report = import_donors(db.session, csv_file, venue_now)
    for problem in report.problems:
        click.echo(f"{csv_file}:{problem.line}: {problem.message}", err=True)
    click.echo(
        f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.problems)} problems"
    )


@cli.group("printer")
def printer_group() -> None:
    """The thermal ticket printer (KIOSK_PRINTER, KIOSK_PRINTER_PROFILE)."""


@printer_group.command("test")
def printer_test() -> None:
    """Print a test page and report the printer's status in one line."""
    app = current_app
    settings = _configured_printer(app)
    layout = _test_page(app)
    state = status_line(settings.spec, settings.paper.model)
    try:
        settings.send(settings.render(layout))
    except Exception as error:
        raise click.ClickException(
            f"printer {settings.spec}: test page not printed: {_one_line(error)}"
        ) from None
    click.echo(f"printer {settings.describe()}: {state}; test page sent")


@printer_group.command("preview")
@click.argument("png_file", type=click.Path(dir_okay=False, writable=True))
def printer_preview(png_file: str) -> None:
    """Save the test page as the printer would get it, as a PNG (no printer needed)."""
    app = current_app
    settings = app.extensions.get(PRINTER_SETTINGS)
    paper = settings.paper if settings else paper_for(app.config["PRINTER_PROFILE"])
    font = settings.font_path if settings else find_font(app.config["PRINTER_FONT"])
    ticket_image(_test_page(app), paper, font).save(png_file)
    click.echo(f"Saved {png_file} ({paper.name}, {paper.dots} dots wide)")


def _test_page(app: Flask):
    """The test page's layout; its QR code points to the address phones would use."""
    app.config["BASE_URL"] = app.config["BASE_URL"] or base_url_for(
        app.config["HOST"], int(app.config["PORT"])
    )
    with app.test_request_context():  # texts and times as a request has them
        return test_page_layout()


def _configured_printer(app: Flask):
    settings = app.extensions.get(PRINTER_SETTINGS)
    if settings is None:
        raise click.ClickException(
            "no thermal printer configured: set KIOSK_PRINTER (usb:VENDOR:PRODUCT, "
            "network:HOST:PORT, serial:DEVICE:BAUD, file:PATH or cups:QUEUE)"
        )
    return settings


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


cli.add_command(export_group)
cli.add_command(verify_command, VERIFY_EXPORT)
cli.add_command(backup_group)
cli.add_command(purge_command)
campaign_group.add_command(confirm_received_command)
cli.add_command(central_group)


def main() -> None:
    cli.main(prog_name="kiosk")
