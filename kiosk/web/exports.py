"""The coordinator's download of the day's bundle: the same ZIP as `kiosk export`, from a form
on the coordinator's page, optionally encrypted with a passphrase typed twice."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import gettext

from kiosk.db import db
from kiosk.domain.exchange.bundle import (
    bundle_file_name,
    campaign_to_export,
    default_day,
    prepare_export,
    record_export,
)
from kiosk.domain.exchange.files import PASSPHRASE_MIN_LENGTH
from kiosk.domain.validation import has_hidden_characters
from kiosk.models import Campaign
from kiosk.timezones import venue_zone
from kiosk.web.auth import current_staff, staff_required
from kiosk.web.context import device, now, venue_today
from kiosk.web.staff import admin_context

bp = Blueprint("exports", __name__, url_prefix="/staff/export")

PASSPHRASE_MAX_LENGTH = 200


@dataclass
class ExportForm:
    """What the form shows: the campaign, the day, and the problems of the last try."""

    campaign: Campaign | None
    day: str = ""
    errors: dict[str, str] = field(default_factory=dict)


@bp.app_template_global()
def export_form() -> ExportForm:
    """The form as it first appears: the open or last campaign, and its day to export."""
    campaign = campaign_to_export(db.session)
    if campaign is None:
        return ExportForm(None)
    return ExportForm(campaign, default_day(campaign, venue_today()).isoformat())


@bp.post("")
@staff_required("export")
def download():
    form = ExportForm(campaign_to_export(db.session, request.form.get("campaign") or None))
    if form.campaign is None:  # none yet, or the campaign of the page is gone: start again
        form = export_form()
        form.errors["campaign"] = gettext("There is no such campaign to export.")
        return _page_with(form), 422
    form.day = (request.form.get("day") or "").strip()[:20]
    day = _clean_day(form)
    passphrase = _clean_passphrase(form)
    if form.errors:
        return _page_with(form), 422
    export = prepare_export(
        db.session,
        form.campaign,
        day,
        now(),
        venue_zone(current_app.config["TIMEZONE"]),
        passphrase,
    )
    record_export(
        db.session, form.campaign, day, export, current_staff().user.username, device(), now()
    )
    return _attachment(export.data, bundle_file_name(form.campaign, day))


def _clean_day(form: ExportForm) -> date | None:
    campaign = form.campaign
    try:
        day = date.fromisoformat(form.day)
    except ValueError:
        form.errors["day"] = gettext("Give the day as YYYY-MM-DD, for example 2026-11-24.")
        return None
    if not campaign.starts_on <= day <= campaign.ends_on:
        form.errors["day"] = gettext(
            "This campaign runs from %(start)s to %(end)s: choose a day in it.",
            start=campaign.starts_on.isoformat(),
            end=campaign.ends_on.isoformat(),
        )
        return None
    return day


def _clean_passphrase(form: ExportForm) -> str | None:
    passphrase = request.form.get("passphrase") or ""
    again = request.form.get("passphrase_again") or ""
    if not passphrase and not again:
        return None
    if passphrase != again:
        form.errors["passphrase"] = gettext("The two passphrases differ: type them again.")
    elif has_hidden_characters(passphrase):
        # The centre must type it again to open the bundle: control characters, bidi marks and
        # text that lost its encoding on the way would lock the file for good.
        form.errors["passphrase"] = gettext(
            "A passphrase holds only characters a keyboard types: choose another."
        )
    elif not PASSPHRASE_MIN_LENGTH <= len(passphrase) <= PASSPHRASE_MAX_LENGTH:
        form.errors["passphrase"] = gettext(
            "A passphrase has %(least)d to %(most)d characters.",
            least=PASSPHRASE_MIN_LENGTH,
            most=PASSPHRASE_MAX_LENGTH,
        )
    return passphrase


def _page_with(form: ExportForm) -> str:
    """The coordinator's page, whole, with the form as it was sent (never its passphrase)."""
    message = gettext("The bundle was not made: see below.")
    return render_template("staff/admin.html", **admin_context(message, False), export=form)


def _attachment(data: bytes, file_name: str) -> Response:
    response = Response(data, mimetype="application/zip")
    response.headers.set("Content-Disposition", "attachment", filename=file_name)
    response.headers["Cache-Control"] = "no-store"  # health data: no copy left in a cache
    return response
