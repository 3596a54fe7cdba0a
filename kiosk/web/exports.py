"""The coordinator's download of the day's bundle: the same ZIP as `kiosk export`, from a form
on the coordinator's page, optionally encrypted with a passphrase typed twice."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import format_date, gettext

from kiosk.db import db
from kiosk.domain.exchange.bundle import (
    bundle_file_name,
    campaign_to_export,
    clean_export_day,
    default_day,
    prepare_export,
    record_export,
)
from kiosk.domain.exchange.files import PASSPHRASE_MIN_LENGTH
from kiosk.domain.exchange.signing import venue_key
from kiosk.domain.validation import FieldError, Invalid, date_text, has_hidden_characters
from kiosk.models import Campaign
from kiosk.timezones import venue_zone
from kiosk.web.auth import current_staff, staff_required
from kiosk.web.context import device, now, venue_today
from kiosk.web.messages import field_message
from kiosk.web.staff import admin_context

bp = Blueprint("exports", __name__, url_prefix="/staff/export")

PASSPHRASE_MAX_LENGTH = 200


@dataclass
class ExportForm:
    """What the form shows: the campaign, the day's boxes as typed (or the day to propose), and
    the problems of the last try."""

    campaign: Campaign | None
    typed: Mapping[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


@bp.app_template_global()
def export_form() -> ExportForm:
    """The form as it first appears: the open or last campaign, and its day to export."""
    campaign = campaign_to_export(db.session)
    if campaign is None:
        return ExportForm(None)
    return ExportForm(campaign, {"day": default_day(campaign, venue_today()).isoformat()})


@bp.post("")
@staff_required("export")
def download():
    form = ExportForm(campaign_to_export(db.session, request.form.get("campaign") or None))
    if form.campaign is None:  # none yet, or the campaign of the page is gone: start again
        form = export_form()
        form.errors["campaign"] = gettext("There is no such campaign to export.")
        return _page_with(form), 422
    form.typed = request.form
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
        venue_key(current_app.instance_path),
    )
    record_export(
        db.session, form.campaign, day, export, current_staff().user.username, device(), now()
    )
    return _attachment(export.data, bundle_file_name(form.campaign, day))


def _clean_day(form: ExportForm) -> date | None:
    """The day, from its three boxes (day_day, day_month, day_year) or as YYYY-MM-DD in `day`."""
    try:
        return clean_export_day(date_text(form.typed, "day")[:20], form.campaign)
    except Invalid as invalid:
        start, end = invalid.params.get("start"), invalid.params.get("end")
        if invalid.code == "day_outside_campaign" and start == end:
            form.errors["day"] = gettext(
                "This campaign has one day, %(day)s: give that day.",
                day=format_date(start, "long"),
            )
        elif invalid.code == "day_outside_campaign":
            form.errors["day"] = gettext(
                "This campaign runs from %(start)s to %(end)s: choose a day in it.",
                start=format_date(start, "long"),
                end=format_date(end, "long"),
            )
        else:
            form.errors["day"] = field_message(FieldError("day", invalid.code))
        return None


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
