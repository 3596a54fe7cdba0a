"""`kiosk export` (and `kiosk export verify`, also `kiosk verify-export`): the end-of-day
bundle for the regional centre; `kiosk import donors`: the centre's list of known donors, loaded
at the venue; `kiosk central`: the centre merges the venues' bundles into the database that
DATABASE_URL names (PostgreSQL at the centre; SQLite works too) and writes the list of known
donors for the next campaign.

Verifying needs no database, so only the export itself loads the app. A passphrase comes from an
environment variable, never from the command line, where other users of the machine and the
shell's history would see it.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from kiosk.cli.common import (
    PASSPHRASE_ENV_HELP,
    passphrase_from,
    typing_actor,
    write_atomically,
)
from kiosk.db import db
from kiosk.domain.exchange.bundle import (
    campaign_to_export,
    default_day,
    prepare_export,
    record_export,
)
from kiosk.domain.exchange.central import (
    BundleImport,
    ImportRefused,
    donor_list,
    import_bundles,
    read_bundle,
)
from kiosk.domain.exchange.donor_list import import_donors
from kiosk.domain.exchange.files import PASSPHRASE_MIN_LENGTH
from kiosk.domain.exchange.recall import RecallRefused, recall_list
from kiosk.domain.exchange.signing import (
    SignatureProblem,
    fingerprint,
    public_text,
    venue_key,
)
from kiosk.domain.exchange.trust import (
    TrustError,
    add_trusted,
    revoke_trusted,
    trusted_venues,
)
from kiosk.domain.exchange.verify import verify_bundle
from kiosk.timezones import venue_zone

VERIFY_EXPORT = "verify-export"

HEALTH_DATA_WARNING = (
    "warning: {path} is not encrypted and holds donors' health data: encrypt it with "
    "--passphrase-env VAR (AES-256, opens in 7-Zip), or keep it on an encrypted drive, hand it "
    "over in person, and delete copies you no longer need"
)

ENCRYPTED_NOTE = (
    "{path} is encrypted with AES-256: open it with 7-Zip and the passphrase; give the "
    "passphrase by another way than the file (say it, or send it separately)"
)


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
    key = venue_key(app.instance_path)
    export = prepare_export(db.session, campaign, day, now, zone, passphrase, key)
    write_atomically(out, export.data)
    actor = typing_actor()
    record_export(db.session, campaign, day, export, actor.name, actor.device, now)
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
        if report.signer is None:
            click.echo("unsigned: no venue's key signed this bundle")
        else:
            click.echo(
                f"signed by the key {report.signer.fingerprint} ({report.signer.public_key})"
            )
        return
    for problem in report.problems:
        click.echo(f"{bundle}: {problem}", err=True)
    ctx.exit(1)


@click.group("import", cls=AppGroup)
def import_group() -> None:
    """Load data from the regional centre."""


@import_group.command("donors")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
def import_donors_command(csv_file: str) -> None:
    """Load the centre's list of known donors (see docs/operating.md for the columns)."""
    app = current_app
    venue_now = app.config["CLOCK"]().astimezone(venue_zone(app.config["TIMEZONE"]))
    report = import_donors(db.session, csv_file, venue_now)
    for problem in report.problems:
        click.echo(f"{csv_file}:{problem.line}: {problem.message}", err=True)
    click.echo(
        f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.problems)} problems"
    )


@click.group("central", cls=AppGroup)
def central_group() -> None:
    """The regional centre's database: merge the venues' bundles, list the known donors."""


@central_group.command("import")
@click.argument(
    "bundles", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--passphrase-env", "passphrase_env", metavar="VAR", help=PASSPHRASE_ENV_HELP)
@click.option(
    "--accept-unsigned",
    is_flag=True,
    help="Let in bundles no venue signed (made before Nabd signed them); audited.",
)
@click.option(
    "--replace",
    is_flag=True,
    help="A corrected re-export of a day imported already replaces that import (audited; a "
    "deferral is never lowered).",
)
def import_command(
    bundles: tuple[Path, ...], passphrase_env: str | None, accept_unsigned: bool, replace: bool
) -> None:
    """Check the bundles, then load them in one go: all of them, or none if one is refused.
    Each must be signed by a venue on the trust list (`kiosk central trust`). A day goes in
    once; `--replace` puts a coordinator's corrected re-export in place of the earlier one."""
    passphrase = passphrase_from(passphrase_env)
    read = []
    for path in bundles:
        try:
            read.append(read_bundle(str(path), _read(path), passphrase, rows=False))
        except ImportRefused as refused:
            raise click.ClickException(f"{path}: {refused}; nothing imported") from None
    try:
        actor = typing_actor()
        reports = import_bundles(
            db.session,
            read,
            current_app.config["CLOCK"](),
            accept_unsigned=accept_unsigned,
            replace=replace,
            actor=actor.name,
            device=actor.device,
        )
    except ImportRefused as refused:
        raise click.ClickException(f"{refused}; nothing imported") from None
    for report in reports:
        click.echo(_bundle_line(report))
        if report.replaced is not None:
            click.echo(f"  {report.replaced.describe()}")
            for kept in report.replaced.kept:
                click.echo(f"  {kept.describe()}")
        for conflict in report.conflicts:
            click.echo(f"  {conflict.describe()}")
        for details in report.details:
            click.echo(f"  {details.describe()}")
    click.echo(_summary(reports))


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise click.ClickException(f"cannot read {path}: {error.strerror}") from None


def _bundle_line(report: BundleImport) -> str:
    where = f"{report.name}: {report.campaign_code} {report.day}"
    if report.already_imported_at is not None:
        when = report.already_imported_at.isoformat(timespec="seconds")
        return f"{where}: imported already on {when}; nothing changed"
    return (
        f"{where}: {report.visits} visits, {report.donations} donations, "
        f"{report.deferrals} deferrals, {report.events} events; donors: {report.new_donors} new, "
        f"{report.known_donors} known, {report.without_cin} without CIN; "
        f"{len(report.conflicts)} conflicts"
    )


def _summary(reports: list[BundleImport]) -> str:
    imported = [report for report in reports if report.already_imported_at is None]
    return (
        f"{len(reports)} bundles: {len(imported)} imported, "
        f"{len(reports) - len(imported)} already there; "
        f"{sum(r.visits for r in imported)} visits, {sum(r.donations for r in imported)} "
        f"donations, {sum(len(r.conflicts) for r in imported)} conflicts"
    )


@central_group.command("donors")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The CSV file to write (the format `kiosk import donors` reads).",
)
def donors_command(out: Path) -> None:
    """Write the known donors, with their history, for the next campaign's `kiosk import
    donors`."""
    listing = donor_list(db.session)
    write_atomically(out, listing.csv)
    click.echo(
        f"Wrote {listing.donors} donors to {out} "
        f"({listing.without_cin} donor records without a CIN left out)"
    )
    click.echo(f"warning: {out} holds personal data: keep it safe", err=True)


@central_group.command("recall")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--site", help="Only donors whose latest visit was at this site.")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The CSV file to write.",
)
def recall_command(start: datetime, end: datetime, site: str | None, out: Path) -> None:
    """List the donors who may give again between --from and --to (YYYY-MM-DD), with their phone
    where they agreed to be phoned; never a permanently deferred donor."""
    try:
        recall = recall_list(db.session, start.date(), end.date(), site)
    except RecallRefused as refused:
        raise click.ClickException(str(refused)) from None
    write_atomically(out, recall.csv)
    click.echo(
        f"Wrote {recall.donors} donors who may give again by {end.date()} to {out} "
        f"({recall.with_phone} agreed to be phoned; "
        f"{recall.left_out_permanent} permanently deferred left out)"
    )
    click.echo(f"warning: {out} holds personal data: keep it safe", err=True)


@central_group.group("trust")
def trust_group() -> None:
    """The venues whose signing keys the centre trusts: only their bundles are imported."""


@trust_group.command("add")
@click.argument("name")
@click.argument("public_key")
def trust_add_command(name: str, public_key: str) -> None:
    """Trust the venue NAME's key (the line `kiosk venue key` prints there)."""
    actor = typing_actor()
    now = current_app.config["CLOCK"]()
    try:
        venue = add_trusted(db.session, name, public_key, now, actor.name, actor.device)
    except (TrustError, SignatureProblem) as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Trusted {venue.name}: fingerprint {venue.fingerprint} (check it against the "
        "venue's /staff/admin page or `kiosk venue key`)"
    )


@trust_group.command("list")
def trust_list_command() -> None:
    """The trusted venues, their fingerprints, and those revoked."""
    venues = trusted_venues(db.session)
    if not venues:
        click.echo("No venue is trusted yet: `kiosk central trust add NAME PUBLIC-KEY`")
    for venue in venues:
        state = (
            f"revoked {venue.revoked_at.isoformat(timespec='seconds')}"
            if venue.revoked_at
            else "trusted"
        )
        click.echo(f"{venue.name}\t{venue.fingerprint}\t{state}\t{venue.public_key}")


@trust_group.command("revoke")
@click.argument("name")
def trust_revoke_command(name: str) -> None:
    """Stop trusting the venue NAME's key: its bundles are refused from now on."""
    actor = typing_actor()
    now = current_app.config["CLOCK"]()
    try:
        venue = revoke_trusted(db.session, name, now, actor.name, actor.device)
    except TrustError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Revoked {venue.name} ({venue.fingerprint}): its bundles are refused from now on")


@click.group("venue", cls=AppGroup)
def venue_group() -> None:
    """This venue's identity: the key its bundles are signed with."""


@venue_group.command("key")
def venue_key_command() -> None:
    """Print this venue's public key (one line) and its fingerprint, for the centre's trust
    list. The private key stays in the instance folder."""
    public = public_text(venue_key(current_app.instance_path))
    click.echo(public)
    click.echo(f"fingerprint {fingerprint(public)}")
