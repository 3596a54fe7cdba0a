"""Reception: find a donor's visit of today by CIN, and give their ticket again after checking
the card. The kiosk sends every CIN already registered here."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext

from kiosk.db import db
from kiosk.domain.campaigns import current_campaign
from kiosk.domain.reception import ReissueRefused, reissue_ticket, visit_for_cin
from kiosk.domain.validation import check_fields
from kiosk.models import Visit
from kiosk.web.auth import current_staff, staff_required
from kiosk.web.context import device, now, venue_today
from kiosk.web.rendering import see_other

bp = Blueprint("reception", __name__, url_prefix="/staff/reception")


def found_by_cin(cin: str | None, message: str | None = None, status: int = 200):
    """The find page with the visit holding this CIN today, if any (for the walk-in form too)."""
    campaign = current_campaign(db.session)
    visit = visit_for_cin(db.session, campaign.id, cin) if campaign and cin else None
    if cin and visit is None and message is None:
        message, status = gettext("No visit today holds this CIN."), 404
    return _page(visit, message, status)


def _page(visit: Visit | None, message: str | None, status: int):
    page = render_template("staff/find.html", visit=visit, message=message, staff=current_staff())
    return page, status


@bp.route("/find", methods=["GET", "POST"])
@staff_required("visit.view")
def find():
    """A POST, not a GET: a CIN never travels in an address (nor in the server's log)."""
    if request.method == "GET":
        return found_by_cin(None)
    raw = {"cin": (request.form.get("cin") or "")[:20]}
    cleaned, errors = check_fields(raw, ("cin",), venue_today())
    if errors or not cleaned.get("cin"):
        return _page(None, gettext("Type the CIN as it is on the card."), 422)
    return found_by_cin(cleaned["cin"])


@bp.post("/visits/<int:visit_id>/reissue")
@staff_required("visit.view")
def reissue(visit_id: int):
    """A new ticket for the visit once the card was checked: audited, printed if a printer is
    set up, and shown on this screen."""
    from kiosk.web.printing import printing_registered, ticket_printer_hook

    campaign = current_campaign(db.session)
    visit = db.session.get(Visit, visit_id)
    if campaign is None or visit is None or visit.campaign_id != campaign.id:
        abort(404)
    if request.form.get("card_checked") != "yes":
        message = gettext("Check the donor's ID card first, then tick the box.")
        return _page(visit, message, 422)
    by = (current_staff().user.username, device())
    try:
        _, token = reissue_ticket(
            db.session, visit_id, campaign.id, by, now(), print_ticket=ticket_printer_hook()
        )
    except ReissueRefused:
        abort(404)
    printing_registered()
    return see_other(url_for("ticket.show", token=token))
