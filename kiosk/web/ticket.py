"""The ticket on the kiosk screen, and the public page its QR code opens."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from kiosk.db import db
from kiosk.domain.eligibility import next_donation_date
from kiosk.domain.medical import table_for
from kiosk.domain.queue import people_ahead
from kiosk.domain.registration import find_visit_by_token
from kiosk.printing.jobs import latest_job
from kiosk.printing.qr import qr_svg
from kiosk.web.auth import current_staff
from kiosk.web.i18n import current_language
from kiosk.web.messages import STAGE_LABELS
from kiosk.web.printing import ticket_layout
from kiosk.web.rendering import full_or_fragment

bp = Blueprint("ticket", __name__)


def _visit_or_404(token: str):
    visit = find_visit_by_token(db.session, token)
    if visit is None:
        abort(404)
    return visit


@bp.get("/ticket/<token>")
def show(token: str):
    visit = _visit_or_404(token)
    layout = ticket_layout(visit, token, current_language())
    return render_template(
        "ticket/ticket.html",
        visit=visit,
        layout=layout,
        token=token,
        job=latest_job(db.session, visit.id),
        qr=qr_svg(layout.url),
        paper=current_app.config["TICKET_PAPER"],
        home=url_for("staff.index") if current_staff() else url_for("kiosk.start"),
    )


@bp.get("/t/<token>")
def status(token: str):
    """What anyone holding the ticket sees: number, stage, people ahead. Never a name.
    Staff who scan it with their phone while logged in get the visit's record instead."""
    visit = _visit_or_404(token)
    if current_staff() is not None and not request.headers.get("HX-Request"):
        return redirect(url_for("records.show", token=token))
    return full_or_fragment(
        "ticket/status.html",
        "ticket/_status.html",
        token=token,
        visit=visit,
        campaign=visit.campaign,
        stage_label=STAGE_LABELS.get(visit.stage, visit.stage),
        ahead=people_ahead(db.session, visit),
        screening=visit.screening,
        next_date=_next_donation(visit),
    )


def _next_donation(visit):
    """After a donation: the first day the donor may give again."""
    if visit.donation is None or visit.donation.outcome == "failed_venipuncture":
        return None
    return next_donation_date(visit.queue_day, visit.donor.sex, table_for(visit.campaign))
