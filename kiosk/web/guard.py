"""The coordinator's view of the venue's guards: registrations refused per address, staff
lockouts (and lifting one, audited), and a full disk."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Flask, abort, current_app, request, url_for
from flask_babel import gettext

from kiosk.db import db
from kiosk.domain.staff import access_event
from kiosk.domain.throttle import clear_lockout, current_lockouts, refusals_per_address
from kiosk.web.auth import current_staff, staff_required
from kiosk.web.context import device, now
from kiosk.web.rendering import see_other

bp = Blueprint("guard", __name__, url_prefix="/staff/guard")

DISK_FULL = "nabd.disk_full_at"


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(venue_guard=_state)


def _state() -> dict:
    moment = now()
    return {
        "refusals": refusals_per_address(db.session, moment - timedelta(hours=24)),
        "lockouts": current_lockouts(db.session, moment),
        "disk_full_at": current_app.extensions.get(DISK_FULL),
    }


@bp.post("/lockouts/clear")
@staff_required("admin")
def clear():
    username = (request.form.get("username") or "")[:40] or None
    address = (request.form.get("address") or "")[:60] or None
    mark = (request.form.get("device") or "")[:64] or None
    if username is None and address is None:
        abort(400)
    if username is not None and mark is None:
        abort(400)
    staff = current_staff()
    what = f"{username} on one device" if username else f"address {address}"
    event = access_event(now(), (staff.user.username, device()), "lockout_cleared", what)
    clear_lockout(db.session, now(), username, address if username is None else None, mark, event)
    return see_other(url_for("staff.admin") + "#guard")


def disk_is_full(error: BaseException) -> bool:
    """SQLite's SQLITE_FULL ("database or disk is full"), or the system's ENOSPC."""
    text = str(getattr(error, "orig", error)).lower()
    return "disk is full" in text or "no space left" in text


def note_disk_full():
    """The donor is told what it is (nothing was stored, so nothing is lost: the form is still
    on the screen to send again), the log has one line, the coordinator's page shows it."""
    from kiosk.web.errors import error_page

    app = current_app._get_current_object()
    app.extensions[DISK_FULL] = app.config["CLOCK"]()
    app.logger.error("storage full: the database could not be written (SQLITE_FULL)")
    return error_page(
        507,
        gettext("This tablet's storage is full, please tell a staff member."),
        gettext("Nothing you typed was lost: a staff member will make room, then try again."),
    )
