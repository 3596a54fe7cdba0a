"""`kiosk central`: the regional centre merges the venues' bundles into the database that
DATABASE_URL names (PostgreSQL at the centre; SQLite works too) and writes the list of known
donors for the next campaign. Registered on the `kiosk` command with
`cli.add_command(central_group)`.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from kiosk.cli.exchange import PASSPHRASE_ENV_HELP, passphrase_from, write_atomically
from kiosk.db import db
from kiosk.domain.exchange.central import (
    BundleImport,
    ImportRefused,
    donor_list,
    import_bundles,
    read_bundle,
)


@click.group("central", cls=AppGroup)
def central_group() -> None:
    """The regional centre's database: merge the venues' bundles, list the known donors."""


@central_group.command("import")
@click.argument(
    "bundles", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--passphrase-env", "passphrase_env", metavar="VAR", help=PASSPHRASE_ENV_HELP)
def import_command(bundles: tuple[Path, ...], passphrase_env: str | None) -> None:
    """Check the bundles, then load them in one go: all of them, or none if one is refused."""
    passphrase = passphrase_from(passphrase_env)
    read = []
    for path in bundles:
        try:
            read.append(read_bundle(str(path), _read(path), passphrase))
        except ImportRefused as refused:
            raise click.ClickException(f"{path}: {refused}; nothing imported") from None
    try:
        reports = import_bundles(db.session, read, current_app.config["CLOCK"]())
    except ImportRefused as refused:
        raise click.ClickException(f"{refused}; nothing imported") from None
    for report in reports:
        click.echo(_bundle_line(report))
        for conflict in report.conflicts:
            click.echo(f"  {conflict.describe()}")
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
