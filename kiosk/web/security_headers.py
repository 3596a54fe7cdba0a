"""The headers every answer carries, and the session cookie's flags: one place for both.

The policy allows scripts and styles from this server only: no inline script, no inline style, no
eval (htmx is told the same in base.html's htmx-config), nothing from another site. The QR codes
are inline SVG and need no image source beyond `data:`.
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # Ticket URLs carry a token: never leak them to another site.
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


# Files that are the same for everyone: static files and the prompt clips (kiosk/web/voice.py;
# a clip that is not there is not cached).
CACHEABLE_ENDPOINTS = frozenset({"static", "voice.clip"})


class TlsAwareSessionInterface(SecureCookieSessionInterface):
    """The session cookie is marked Secure when the request came over TLS (or the setting says
    so): the venue usually serves plain HTTP on its own Wi-Fi, where a Secure cookie would never
    come back."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def init_app(app: Flask) -> None:
    app.session_interface = TlsAwareSessionInterface()
    app.after_request(protective_headers)


def protective_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    cacheable = request.endpoint == "static" or (
        request.endpoint in CACHEABLE_ENDPOINTS and response.status_code in (200, 304)
    )
    if not cacheable:
        # A kiosk is shared: Back must never show the previous donor's page.
        response.headers["Cache-Control"] = "no-store"
    return response
