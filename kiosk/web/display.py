"""The wall display: the latest call big, the five before, waiting counts. Numbers only."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_babel import force_locale, gettext

from kiosk.db import db
from kiosk.domain.campaigns import current_campaign
from kiosk.domain.queue import board_version, latest_calls, stage_waits
from kiosk.web.context import now
from kiosk.web.i18n import supported
from kiosk.web.rendering import is_htmx, polled
from kiosk.web.voice import announcement_clips

bp = Blueprint("display", __name__)


def _board_context(campaign=None, version: int | None = None) -> dict:
    campaign = campaign or current_campaign(db.session)
    if campaign is None:
        return {"campaign": None, "latest": None, "previous": [], "waits": [], "version": 0}
    calls = latest_calls(db.session, campaign.id, count=6)
    return {
        "campaign": campaign,
        "latest": calls[0] if calls else None,
        "previous": calls[1:],
        "waits": stage_waits(db.session, campaign.id, now()),
        "version": board_version(db.session, campaign.id) if version is None else version,
        "announcements": _announcements(calls[0]) if calls else {},
        "announcement_clips": _announcement_clips(calls[0]) if calls else {},
        "poll_seconds": current_app.config["DISPLAY_POLL_SECONDS"],
    }


def _announcements(call) -> dict[str, str]:
    """The announcement in every language of the kiosk, whatever the page shows."""
    spoken = {}
    for language in supported():
        with force_locale(language):
            spoken[language] = gettext(
                "Number %(number)s, please go to %(desk)s.",
                number=call.queue_number,
                desk=call.desk_in(language),
            )
    return spoken


def _announcement_clips(call) -> dict[str, list[str]]:
    """The recorded clips that say the announcement, for the languages that have them all."""
    clips = {}
    for language in supported():
        urls = announcement_clips(language, call.queue_number, call.desk_name)
        if urls:
            clips[language] = urls
    return clips


def _etag(version: int) -> str:
    # The estimated waits move with the clock too: refresh at least once a minute.
    return f"d{version}-{now():%H%M}"


@bp.get("/display")
def show():
    context = _board_context()
    return render_template("display/display.html", etag=_etag(context["version"]), **context)


@bp.get("/display/board")
def board():
    """Polled by the display every second; 304 with no body while nothing changed."""
    if not is_htmx():
        return redirect(url_for("display.show"))
    campaign = current_campaign(db.session)
    version = board_version(db.session, campaign.id) if campaign else 0
    etag = _etag(version)
    return polled(
        etag,
        lambda: render_template(
            "display/_board.html", etag=etag, **_board_context(campaign, version)
        ),
    )
