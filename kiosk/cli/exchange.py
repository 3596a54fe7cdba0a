"""`kiosk export`: the end-of-day bundle for the regional centre, and `kiosk export verify`
(also `kiosk verify-export`, the same command).

Registered on the `kiosk` command with `cli.add_command(export_group)` and
`cli.add_command(verify_command, VERIFY_EXPORT)`. Verifying needs no database, so only the
export itself loads the app. A passphrase comes from an environment variable, never from the
command line, where other users of the machine and the shell's history would see it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import date, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from kiosk.db import db
from kiosk.domain.exchange.bundle import (
    campaign_to_export,
    default_day,
    prepare_export,
    record_export,
)
from kiosk.domain.exchange.files import PASSPHRASE_MIN_LENGTH
from kiosk.domain.exchange.verify import verify_bundle
from kiosk.timezones import venue_zone

VERIFY_EXPORT = "verify-export"
CLI_ACTOR = "coordinator"  # in the audit log, when the shell does not say who runs the command
HEALTH_DATA_WARNING = (
    "warning: {path} is not encrypted and holds donors' health data: encrypt it with "
    "--passphrase-env VAR (AES-256, opens in 7-Zip), or keep it on an encrypted drive, hand it "
    "over in person, and delete copies you no longer need"
)
ENCRYPTED_NOTE = (
    "{path} is encrypted with AES-256: open it with 7-Zip and the passphrase; give the "
    "passphrase by another way than the file (say it, or send it separately)"
)
# Reviewed (bandit B105): help text naming the setting, not a password.
PASSPHRASE_ENV_HELP = "The environment variable that holds the passphrase (never the passphrase)."  # nosec B105


def passphrase_from(variable: str | None) -> str | None:
    """The passphrase held by the environment variable named `variable`, if one is named."""
    if variable is None:
        return None
    passphrase = os.environ.get(variable, "")
    if not passphrase:
        raise click.BadParameter(
            f"the environment variable {variable} is not set or empty; set it to the passphrase",
            param_hint="'--passphrase-env'",
        )
    return passphrase


@click.group("export", cls=AppGroup, invoke_without_command=True)
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="The campaign day, YYYY-MM-DD (default: the open or last campaign's day).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The ZIP file to write.",
)
@click.option(
    "--campaign",
    "code",
    metavar="CODE",
    help="The campaign's code (default: the one running that day, the open one, the last one).",
)
@click.option("--force", is_flag=True, help="Replace the ZIP file if it exists.")
@click.option(
    "--passphrase-env",
    "passphrase_env",
    metavar="VAR",
    help=f"Encrypt with AES-256. {PASSPHRASE_ENV_HELP}",
)
@click.pass_context
def export_group(
    ctx: click.Context,
    day: datetime | None,
    out: Path | None,
    code: str | None,
    force: bool,
    passphrase_env: str | None,
) -> None:
    """Write the day's bundle for the regional centre: visits (CSV, XLSX, JSON, FHIR), audit log."""
    if ctx.invoked_subcommand is not None:
        if day or out or code or force or passphrase_env:
            raise click.UsageError(
                "--date, --out, --campaign, --force and --passphrase-env go with `kiosk export`"
            )
        return
    if out is None:
        raise click.UsageError("Missing option '--out'.")
    passphrase = passphrase_from(passphrase_env)
    if passphrase is not None and len(passphrase) < PASSPHRASE_MIN_LENGTH:
        raise click.BadParameter(
            f"the passphrase in {passphrase_env} has fewer than {PASSPHRASE_MIN_LENGTH} characters",
            param_hint="'--passphrase-env'",
        )
    ctx.invoke(
        _export,
        day=day.date() if day else None,
        out=out,
        code=code,
        force=force,
        passphrase=passphrase,
    )


@with_appcontext
def _export(
    day: date | None, out: Path, code: str | None, force: bool, passphrase: str | None
) -> None:
    app = current_app
    zone = venue_zone(app.config["TIMEZONE"])
    now = app.config["CLOCK"]()
    campaign = campaign_to_export(db.session, code, day)
    if campaign is None:
        raise click.ClickException(_no_campaign(code, day))
    if day is None:
        day = default_day(campaign, now.astimezone(zone).date())
    elif not campaign.starts_on <= day <= campaign.ends_on:
        raise click.BadParameter(
            f"{campaign.code} runs from {campaign.starts_on} to {campaign.ends_on}",
            param_hint="'--date'",
        )
    if out.exists() and not force:
        raise click.ClickException(f"{out} exists already; add --force to replace it")
    export = prepare_export(db.session, campaign, day, now, zone, passphrase)
    write_atomically(out, export.data)
    record_export(
        db.session, campaign, day, export, os.environ.get("USER") or CLI_ACTOR, "server", now
    )
    click.echo(f"Exported {campaign.code} ({day}) to {out}: {_describe(export.manifest)}")
    if passphrase is None:
        click.echo(HEALTH_DATA_WARNING.format(path=out), err=True)
    else:
        click.echo(ENCRYPTED_NOTE.format(path=out))


def _no_campaign(code: str | None, day: date | None) -> str:
    if code is not None:
        return f"no campaign with the code {code!r}"
    if day is not None:
        return f"no campaign runs on {day}"
    return "no campaign to export yet"


def _describe(manifest: dict) -> str:
    counts = manifest["counts"]
    donations = counts["donations"]
    outcomes = ", ".join(f"{n} {outcome}" for outcome, n in donations.items())
    return (
        f"{counts['visits']} visits, {sum(donations.values())} donations ({outcomes}), "
        f"{counts['deferrals']} deferrals"
    )


def write_atomically(path: Path, data: bytes) -> None:
    """A temporary file beside the target (readable by its owner only), synced, then renamed:
    the target is either the old file or the whole new one, never half of it."""
    folder = path.parent
    if not folder.is_dir():
        raise click.ClickException(f"no folder {folder}")
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    except OSError as error:
        raise click.ClickException(f"cannot write in {folder}: {error.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except OSError as error:
        _remove(temporary)
        raise click.ClickException(f"cannot write {path}: {error.strerror}") from None
    except BaseException:
        _remove(temporary)
        raise


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


@export_group.command("verify", with_appcontext=False)
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--passphrase-env", "passphrase_env", metavar="VAR", help=PASSPHRASE_ENV_HELP)
@click.pass_context
def verify_command(ctx: click.Context, bundle: Path, passphrase_env: str | None) -> None:
    """Check a bundle against its manifest: every file there, unchanged, and nothing more."""
    passphrase = passphrase_from(passphrase_env)
    try:
        data = bundle.read_bytes()
    except OSError as error:
        raise click.ClickException(f"cannot read {bundle}: {error.strerror}") from None
    report = verify_bundle(data, passphrase)
    if report.ok:
        encrypted = ", encrypted" if report.encrypted else " (not encrypted)"
        click.echo(f"ok: {report.files} files verified{encrypted}")
        return
    for problem in report.problems:
        click.echo(f"{bundle}: {problem}", err=True)
    ctx.exit(1)
