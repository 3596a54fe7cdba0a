"""Registering on the donor's own phone, over the venue's Wi-Fi, while queueing.

The same wizard, the same rules and limits as the kiosk (kiosk/web/kiosk.py): only what differs on
a phone lives here. The poster's QR opens /phone, which marks this browser's session as a phone:
no idle reset (the donor may put the phone away), the half-filled form kept in the session cookie
of that phone alone (never in a URL, never on the shared tablet), and the thermal ticket printed
at reception when the donor shows the phone's ticket, unless the coordinator chose at once.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, make_response, redirect, request, session, url_for
from flask_babel import force_locale, gettext

from kiosk.printing.poster import PosterText, poster_pdf
from kiosk.printing.text import FontError, find_font
from kiosk.web.auth import staff_required
from kiosk.web.context import public_base_url
from kiosk.web.errors import error_page

bp = Blueprint("phone", __name__)

ON_A_PHONE = "on_a_phone"
DRAFT = "registration_draft"


def on_a_phone() -> bool:
    return bool(session.get(ON_A_PHONE))


@bp.get("/phone")
def start():
    """Where the poster's QR leads: the kiosk's start page, in this phone's mode."""
    session[ON_A_PHONE] = True
    session.permanent = True
    language = request.args.get("lang")
    return redirect(url_for("kiosk.start", **({"lang": language} if language else {})))


@bp.app_context_processor
def phone_mode() -> dict[str, Any]:
    return {"on_a_phone": on_a_phone()}


def keep_draft(step: str, values: dict[str, str]) -> None:
    """On a phone, where the donor is in the wizard and what they typed, to come back to."""
    if on_a_phone():
        session[DRAFT] = {"step": step, "values": values}


def saved_draft() -> tuple[str, dict[str, str]] | None:
    draft = session.get(DRAFT) if on_a_phone() else None
    if not isinstance(draft, dict) or not isinstance(draft.get("values"), dict):
        return None
    return str(draft.get("step", "")), {
        str(name): str(value) for name, value in draft["values"].items()
    }


def forget_draft() -> None:
    session.pop(DRAFT, None)


def prints_at_once() -> bool:
    """Whether this registration's thermal ticket is queued with it."""
    return not on_a_phone() or bool(current_app.config["PHONE_TICKETS_PRINT_AT_ONCE"])


@bp.get("/staff/admin/poster.pdf")
@staff_required("admin")
def poster():
    """The A4 poster with the QR code to /phone, in every language of the kiosk."""
    url = public_base_url() + url_for("phone.start")
    wifi = current_app.config["VENUE_WIFI_NAME"]
    texts = []
    for language in current_app.config["LANGUAGES"]:
        with force_locale(f"{language}_MA"):
            texts.append(_poster_text(wifi))
    try:
        font = find_font(current_app.config["PRINTER_FONT"])
    except FontError as error:
        return error_page(503, gettext("The poster cannot be drawn."), str(error))
    wifi_line = f"Wi-Fi: {wifi}" if wifi else ""
    response = make_response(poster_pdf(texts, url, wifi_line, font))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = 'attachment; filename="nabd-phone-poster.pdf"'
    return response


def _poster_text(wifi: str) -> PosterText:
    connect = (
        gettext("1. Connect your phone to the Wi-Fi network %(wifi)s.", wifi=wifi)
        if wifi
        else gettext("1. Connect your phone to this hall's Wi-Fi network.")
    )
    return PosterText(
        title=gettext("Give blood: register on your phone while you wait"),
        steps=(
            connect,
            gettext("2. Scan the code below with your phone's camera."),
            gettext("3. Answer the questions, then show your number at the reception desk."),
        ),
    )
