"""Languages: ?lang= → the kiosk's language buttons → cookie → Accept-Language → French.

Tamazight (zgh, in Tifinagh) covers every page a donor sees: the kiosk, the ticket, its /t/ page,
the wall display and the error pages. Staff pages stay in Arabic and French: a staff page asked
for in Tamazight (a kiosk tablet's cookie, a donor's phone) is shown in the staff language the
browser prefers, else the venue's default (French), never in English."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, Response, current_app, g, request
from flask_babel import Babel, get_locale

from kiosk.timezones import venue_zone

LANGUAGE_COOKIE = "lang"
RIGHT_TO_LEFT = frozenset({"ar"})
# The blueprints whose pages donors see; an error page outside any blueprint (404) is one too.
DONOR_BLUEPRINTS = frozenset({"kiosk", "ticket", "display"})
# Languages with a catalogue for the donor's pages only.
DONOR_ONLY_LANGUAGES = frozenset({"zgh"})
# Each language named in itself, for the language buttons.
LANGUAGE_NAMES = {"ar": "العربية", "fr": "Français", "zgh": "ⵜⴰⵎⴰⵣⵉⵖⵜ"}

babel = Babel()


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, timezone_selector=venue_timezone)
    app.after_request(_remember_choice)
    app.context_processor(_language_context)


def supported() -> tuple[str, ...]:
    return tuple(current_app.config["LANGUAGES"])


def is_staff_page() -> bool:
    return request.blueprint is not None and request.blueprint not in DONOR_BLUEPRINTS


def page_languages() -> tuple[str, ...]:
    """The languages this page can be shown in: all of them for a donor, ar and fr for staff."""
    if is_staff_page():
        return tuple(code for code in supported() if code not in DONOR_ONLY_LANGUAGES)
    return supported()


def chosen_language() -> str | None:
    """A language the person picked on this request, if any."""
    choice = request.args.get("lang")
    if choice is None and request.method == "POST":
        choice = request.form.get("switch_lang")
    return choice if choice in supported() else None


def select_locale() -> str:
    """The language, as spoken in Morocco: ar_MA writes its digits 0-9 like the tickets do."""
    if "language" not in g:
        remembered = request.cookies.get(LANGUAGE_COOKIE)
        g.language = (
            chosen_language()
            or (remembered if remembered in supported() else None)
            or request.accept_languages.best_match(supported())
            or current_app.config["DEFAULT_LOCALE"]
        )
        if g.language not in page_languages():
            g.language = _staff_fallback()
    return f"{g.language}_MA"


def _staff_fallback() -> str:
    """A staff page asked for in a donor-only language: the browser's choice among the staff
    languages, else the venue's default, else the first staff language."""
    staff = page_languages()
    default = current_app.config["DEFAULT_LOCALE"]
    return request.accept_languages.best_match(staff) or (default if default in staff else staff[0])


def venue_timezone():
    return venue_zone(current_app.config["TIMEZONE"])


def current_language() -> str:
    return get_locale().language


def _remember_choice(response: Response) -> Response:
    choice = chosen_language()
    if choice and choice != request.cookies.get(LANGUAGE_COOKIE):
        response.set_cookie(
            LANGUAGE_COOKIE, choice, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
        )
    return response


def language_url(code: str) -> str:
    """This page in another language, keeping its other query values (a login's `next`)."""
    query = {**request.args.to_dict(), "lang": code}
    return request.path + "?" + urlencode(query)


def _language_context() -> dict:
    language = current_language()
    return {
        "language_url": language_url,
        "language": language,
        "direction": "rtl" if language in RIGHT_TO_LEFT else "ltr",
        "languages": [(code, LANGUAGE_NAMES.get(code, code)) for code in page_languages()],
    }
