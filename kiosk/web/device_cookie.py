"""Which browser a try comes from: a random mark in a long-lived cookie, set on the first answer.

The throttles (kiosk/domain/throttle.py) count per device and per address. A stranger who clears
the cookie is a new device each time, and meets the address's counter instead; the account
holder's own phone keeps its mark and is never slowed by the stranger's tries."""

from __future__ import annotations

import hashlib
import re
import secrets

from flask import Flask, Response, g, request

from kiosk.domain.throttle import Who
from kiosk.web.context import device

COOKIE = "nabd_device"
_WELL_FORMED = re.compile(r"[A-Za-z0-9_-]{22,64}")
ONE_YEAR = 365 * 24 * 3600


def device_mark() -> str:
    """A hash of this browser's mark (never the mark itself in the database)."""
    mark = request.cookies.get(COOKIE, "")
    if not _WELL_FORMED.fullmatch(mark):
        if "new_device_mark" not in g:
            g.new_device_mark = secrets.token_urlsafe(24)
        mark = g.new_device_mark
    return hashlib.sha256(mark.encode()).hexdigest()[:32]


def who() -> Who:
    return Who(device(), device_mark())


def init_app(app: Flask) -> None:
    @app.after_request
    def _give_mark(response: Response) -> Response:
        mark = g.get("new_device_mark")
        if mark:
            response.set_cookie(
                COOKIE,
                mark,
                max_age=ONE_YEAR,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure,
                path="/",
            )
        return response
