"""The ticket on the kiosk screen, and the public page its QR code opens."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from kiosk.db import db
from kiosk.domain.journey import WAITING_STAGES
from kiosk.domain.queue import people_ahead
from kiosk.domain.slips import next_donation_for, reason_for_public_advice
from kiosk.domain.ticket_guard import (
    find_ticket,
    misses_retry_after,
    note_miss,
    status_page_over,
)
from kiosk.domain.wait_estimate import wait_for_visit
from kiosk.printing.jobs import latest_job
from kiosk.printing.qr import qr_svg
from kiosk.web.auth import current_staff
from kiosk.web.context import device, now, public_base_url
from kiosk.web.errors import error_page
from kiosk.web.i18n import current_language
from kiosk.web.messages import DEFERRAL_ADVICE, STAGE_LABELS
from kiosk.web.printing import ticket_layout
from kiosk.web.rendering import full_or_fragment, is_htmx, polled

bp = Blueprint("ticket", __name__)


def _ticket_or_404(token: str):
    """The ticket of this token. Unknown tokens, and those of a campaign closed long enough, all
    get the same 404; an address that misses too often gets 429 until its minute has passed."""
    config = current_app.config
    limit = config["TICKET_MISSES_PER_MINUTE"]
    retry_after = misses_retry_after(db.session, device(), now(), limit)
    if retry_after:
        response = error_page(429)
        response.headers["Retry-After"] = str(retry_after)
        abort(response)
    ticket = find_ticket(db.session, token)
    if ticket is None:
        if limit > 0:
            note_miss(db.session, device(), now())
        abort(404)
    if status_page_over(ticket.visit.campaign, now(), config["STATUS_PAGE_DAYS_AFTER_CLOSE"]):
        abort(404)
    return ticket


@bp.get("/ticket/<token>")
def show(token: str):
    """The kiosk's ticket screen, just after registering. It greets the donor by first name, so
    it shows only for a short while; later the token leads to the public page, naming no one."""
    ticket = _ticket_or_404(token)
    minutes = current_app.config["TICKET_SCREEN_MINUTES"]
    if now() - ticket.issued_at > timedelta(minutes=minutes):
        return redirect(url_for("ticket.status", token=token))
    visit = ticket.visit
    layout = ticket_layout(visit, token, current_language())
    return render_template(
        "ticket/ticket.html",
        visit=visit,
        wait=wait_for_visit(db.session, visit, people_ahead(db.session, visit), now()),
        layout=layout,
        token=token,
        job=latest_job(db.session, visit.id),
        qr=qr_svg(layout.url),
        paper=current_app.config["TICKET_PAPER"],
        home=url_for("staff.index") if current_staff() else url_for("kiosk.start"),
    )


@bp.get("/ticket/<token>/printing")
def printing_status(token: str):
    """The kiosk's line about the printed ticket; polled by the ticket page while it waits.
    Guarded as the ticket is: unknown tokens count as misses."""
    visit = _ticket_or_404(token).visit
    return render_template(
        "printing/_ticket_status.html", token=token, job=latest_job(db.session, visit.id)
    )


@bp.get("/t/<token>")
def status(token: str):
    """What anyone holding the ticket sees: number, stage, people ahead. Never a name.
    Staff who scan it with their phone while logged in get the visit's record instead.
    Polled every 15 s: while nothing it shows changed, 304 with no body. Its ETag is made of
    what the page shows and nothing else, so it tells no more than the page (not, say, that
    somebody tried this CIN again at the kiosk)."""
    visit = _ticket_or_404(token).visit
    if current_staff() is not None and not is_htmx():
        return redirect(url_for("records.show", key=token))
    campaign = visit.campaign
    ahead = people_ahead(db.session, visit)
    wait = wait_for_visit(db.session, visit, ahead, now())
    desk = visit.desk.id if visit.desk else None
    shown = [campaign.name, campaign.site, visit.queue_number, visit.stage, ahead, wait, desk]
    screening = next_date = advice = None
    if visit.stage not in WAITING_STAGES:  # the slips: a deferral's date, the next donation
        screening, next_date = visit.screening, next_donation_for(visit)
        advice = DEFERRAL_ADVICE.get(reason_for_public_advice(visit))
        shown += [screening and screening.deferral_until, next_date, advice and str(advice)]
    shown.append(current_language())
    etag = "t" + hashlib.sha256(repr(shown).encode()).hexdigest()[:20]
    return polled(
        etag,
        lambda: full_or_fragment(
            "ticket/status.html",
            "ticket/_status.html",
            token=token,
            visit=visit,
            campaign=campaign,
            stage_label=STAGE_LABELS.get(visit.stage, visit.stage),
            ahead=ahead,
            wait=wait,
            screening=screening,
            next_date=next_date,
            advice=advice,
            etag=etag,
            page_context=lambda: {"qr": qr_svg(public_base_url() + request.path)},
        ),
    )
