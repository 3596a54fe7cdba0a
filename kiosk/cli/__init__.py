"""The `kiosk` command: one module per command group (serve, campaign, staff and desks, printer,
exchange, backup, db, replica), common.py for what they share (who is typing: one rule for the
audit log). Errors are one line, never a traceback."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import FlaskGroup

from kiosk.cli.backup import backup_group, purge_command
from kiosk.cli.campaign import campaign_group
from kiosk.cli.db import db_group
from kiosk.cli.exchange import (
    VERIFY_EXPORT,
    central_group,
    export_group,
    import_group,
    venue_group,
    verify_command,
)
from kiosk.cli.printer import printer_group
from kiosk.cli.replica import replica_group
from kiosk.cli.serve import run_command
from kiosk.cli.staff import desk_group, staff_group
from kiosk.config import ConfigError
from kiosk.domain.campaigns import CampaignError
from kiosk.domain.queue import QueueError
from kiosk.domain.staff import AccountError


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


_QUEUE_ERRORS = {
    "desk_name": "a desk name has 1 to 40 characters",
    "desk_stage": "a desk is for interview or collection",
    "desk_exists": "a desk with that name exists already",
    "desk_other_name": "a desk name in another language has at most 40 characters",
    "desk_other_characters": "the Arabic name holds invisible or control characters",
    "desk_characters": "the name holds invisible or control characters",
}


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


for command in (
    run_command,
    campaign_group,
    staff_group,
    desk_group,
    import_group,
    printer_group,
    export_group,
    backup_group,
    purge_command,
    central_group,
    db_group,
    venue_group,
    replica_group,
):
    cli.add_command(command)
cli.add_command(verify_command, VERIFY_EXPORT)


def main() -> None:
    cli.main(prog_name="kiosk")
