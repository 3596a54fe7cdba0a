"""Error pages a person can act on. No traceback ever reaches a screen."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException, InternalServerError

from kiosk.web.rendering import full_or_fragment, is_htmx

PAGES = {
    400: (_l("Something in that request was not right."), _l("Please go back and try again.")),
    404: (_l("Page not found."), _l("Check the address, or start again from the kiosk.")),
    405: (_l("That action is not possible here."), _l("Please start again from the kiosk.")),
    413: (_l("That was too much to send at once."), _l("Please go back and try again.")),
    429: (_l("Too many tries."), _l("Please wait a minute, then try again.")),
    500: (_l("Something went wrong on our side."), _l("Nothing was saved. Please try again.")),
    503: (_l("The system is busy."), _l("Nothing was lost. Please try again in a moment.")),
}
EXPIRED = (
    _l("This page has expired."),
    _l("For your safety the form was reset. Please start again."),
)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _database_busy)
    app.register_error_handler(Exception, _unexpected)


def error_page(status: int, title=None, advice=None) -> Response:
    default_title, default_advice = PAGES.get(status, PAGES[400 if status < 500 else 500])
    response = full_or_fragment(
        "errors/error.html",
        "errors/_error.html",
        status=status,
        error_status=status,
        title=title or default_title,
        advice=advice or default_advice,
    )
    if is_htmx():
        # An error replaces the whole screen, not the fragment that asked.
        response.headers["HX-Retarget"] = "body"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


def _csrf_error(error: CSRFError) -> Response:
    return error_page(400, *EXPIRED)


def _http_error(error: HTTPException) -> Response:
    if error.code is None or error.code < 400:
        return error
    if error.code == 413:
        # The body was refused unread: the page is drawn without it (the language comes from
        # the address or the cookie, never from the refused form).
        empty = ImmutableMultiDict()
        request.__dict__.update(form=empty, files=empty, values=request.args)
    return error_page(error.code)


def _database_busy(error: OperationalError) -> Response:
    from kiosk.web.guard import disk_is_full, note_disk_full

    if disk_is_full(error):
        return note_disk_full()
    return error_page(503)


def _unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return _http_error(error)
    from flask import current_app

    current_app.logger.exception("unexpected error", exc_info=error)
    return error_page(InternalServerError.code)
