"""`kiosk campaign`: open, show and close the campaign the kiosk registers donors into, and
record that the regional centre received its export."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from kiosk.cli.common import typing_actor, venue_day
from kiosk.db import db
from kiosk.domain.campaigns import (
    CampaignDetails,
    close_campaign,
    current_campaign,
    open_campaign,
)
from kiosk.domain.din import parse_policy
from kiosk.domain.eligibility import TABLES
from kiosk.domain.retention import confirm_export_received


def default_campaign(app: Flask) -> CampaignDetails:
    return CampaignDetails(
        name=app.config["DEFAULT_CAMPAIGN_NAME"],
        site=app.config["DEFAULT_CAMPAIGN_SITE"],
        day=venue_day(app),
        regional_centre=app.config["DEFAULT_REGIONAL_CENTRE"],
        site_names={
            "ar": app.config["DEFAULT_CAMPAIGN_SITE_AR"],
            "fr": app.config["DEFAULT_CAMPAIGN_SITE"],
            "zgh": app.config["DEFAULT_CAMPAIGN_SITE_ZGH"],
        },
        centre_names={
            "ar": app.config["DEFAULT_REGIONAL_CENTRE_AR"],
            "fr": app.config["DEFAULT_REGIONAL_CENTRE"],
            "zgh": app.config["DEFAULT_REGIONAL_CENTRE_ZGH"],
        },
    )


def describe(campaign) -> str:
    return (
        f"{campaign.code}: {campaign.name} — {campaign.site}, {campaign.starts_on.isoformat()}"
        f" ({campaign.status}; rules {campaign.rules}; bag numbers {campaign.bag_numbers})"
    )


@click.group("campaign", cls=AppGroup)
def campaign_group() -> None:
    """Open and show the campaign the kiosk registers donors into."""


@campaign_group.command("open")
@click.option("--name", required=True, help="Shown on the kiosk and the tickets.")
@click.option("--site", required=True, help="Where the drive takes place.")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="YYYY-MM-DD (today).")
@click.option("--centre", default=None, help="The regional transfusion centre.")
@click.option("--site-ar", default="", help="The site in Arabic (Arabic pages; else --site).")
@click.option("--site-fr", default="", help="The site in French (French pages; else --site).")
@click.option("--centre-ar", default=None, help="The centre in Arabic (else --centre).")
@click.option("--centre-fr", default=None, help="The centre in French (else --centre).")
@click.option("--site-zgh", default="", help="The site in Tamazight, Tifinagh (else --site).")
@click.option("--centre-zgh", default=None, help="The centre in Tamazight (else --centre).")
@click.option("--rules", type=click.Choice(TABLES), default="morocco", help="Eligibility table.")
@click.option(
    "--bag-numbers",
    default="any",
    help="How bag numbers are checked: any, isbt128 or regex:PATTERN.",
)
def open_command(
    name: str,
    site: str,
    day,
    centre: str | None,
    site_ar: str,
    site_fr: str,
    centre_ar: str | None,
    centre_fr: str | None,
    site_zgh: str,
    centre_zgh: str | None,
    rules: str,
    bag_numbers: str,
) -> None:
    """Open a campaign (or rename the open one while nobody is registered)."""
    app = current_app
    try:
        bag_numbers = parse_policy(bag_numbers)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="'--bag-numbers'") from None
    if centre is None:  # the default centre, with its default Arabic name
        centre = app.config["DEFAULT_REGIONAL_CENTRE"]
        if centre_ar is None:
            centre_ar = app.config["DEFAULT_REGIONAL_CENTRE_AR"]
        if centre_zgh is None:
            centre_zgh = app.config["DEFAULT_REGIONAL_CENTRE_ZGH"]
    details = CampaignDetails(
        name=name,
        site=site,
        day=day.date() if day else venue_day(app),
        regional_centre=centre,
        rules=rules,
        bag_numbers=bag_numbers,
        site_names={"ar": site_ar, "fr": site_fr, "zgh": site_zgh},
        centre_names={"ar": centre_ar or "", "fr": centre_fr or "", "zgh": centre_zgh or ""},
    )
    campaign = open_campaign(db.session, details, app.config["CLOCK"]())
    click.echo(f"Open: {describe(campaign)}")


@campaign_group.command("close")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def close_command(yes: bool) -> None:
    """Close the campaign day: registrations stop, waiting visits are marked left."""
    campaign = current_campaign(db.session)
    if campaign is None:
        raise click.ClickException("no campaign is open")
    if not yes:
        click.confirm(f"Close {campaign.code} ({campaign.name})?", abort=True)
    actor = typing_actor()
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
    click.echo(describe(campaign))


@campaign_group.command("confirm-received")
@click.argument("code")
@with_appcontext
def confirm_received_command(code: str) -> None:
    """Record that the regional centre received campaign CODE's export (retention starts)."""
    app = current_app
    actor = typing_actor()
    campaign = confirm_export_received(
        db.session, code, actor.name, actor.device, app.config["CLOCK"]()
    )
    received = campaign.export_received_at.date().isoformat()
    days = app.config["RETENTION_DAYS"]
    click.echo(
        f"{campaign.code}: export received on {received}; its visits may be purged "
        f"{days} days later (kiosk purge)"
    )
