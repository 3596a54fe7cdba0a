"""Item 8: the protective headers, the session cookie's flags, and pages with no inline script.

The route walk (test_routes.py) checks every response's headers with `header_problems`; here are
the cookie, the htmx configuration, and the markup of every page the walk can render.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from tests.security.conftest import staff_client
from tests.security.routes import every_route
from tests.support.factories import VALID_DONOR, fresh_form
from tests.support.headers import header_problems
from tests.support.staff import PASSWORD, csrf_of


class _Markup(HTMLParser):
    """Collects what a strict policy would block: inline scripts, styles and handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self.htmx_config: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src"):
            self.inline.append("<script> without src")
        if tag == "style":
            self.inline.append("<style> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.inline.append(f"{tag} {name}=")
            if name == "style":
                self.inline.append(f"{tag} style=")
            if value and re.match(r"\s*javascript:", value, re.I):
                self.inline.append(f"{tag} {name}=javascript:")
            if name in ("hx-on", "hx-vars") or name.startswith(("hx-on:", "hx-on-")):
                self.inline.append(f"{tag} {name} (evaluated by htmx)")
        if tag == "meta" and attributes.get("name") == "htmx-config":
            self.htmx_config = attributes.get("content")


def parse(html: str) -> _Markup:
    markup = _Markup()
    markup.feed(html)
    return markup


def test_every_rendered_page_has_no_inline_code_and_htmx_evaluates_none(venue, capsys):
    app = venue.app
    pages = 0
    problems = []
    for who in ("stranger", "coordinator", "doctor", "phlebotomist"):
        client = app.test_client() if who == "stranger" else staff_client(app, who)
        for route in every_route(app, venue.interview):
            if route.method != "GET" or route.endpoint == "static":
                continue
            for headers in ({}, {"HX-Request": "true"}):
                response = client.get(route.url, headers=headers)
                if not response.mimetype == "text/html" or not response.data:
                    continue
                pages += 1
                markup = parse(response.get_data(as_text=True))
                problems += [f"{who} {route.url}: {found}" for found in markup.inline]
                if markup.htmx_config is not None:
                    config = json.loads(markup.htmx_config)
                    if config.get("allowEval") is not False:
                        problems.append(f"{route.url}: htmx may eval")
                    if config.get("allowScriptTags") is not False:
                        problems.append(f"{route.url}: htmx runs swapped-in scripts")
    # The ticket screen (its QR code is inline SVG) and a wizard step in error.
    kiosk = app.test_client()
    data = {**fresh_form(kiosk), **VALID_DONOR, "cin": "AA300001"}
    ticket = kiosk.post("/kiosk/register", data=data, follow_redirects=True)
    wrong = kiosk.post("/kiosk/register", data={**fresh_form(kiosk), "first_name": "<b>"})
    for response in (ticket, wrong):
        pages += 1
        problems += [f"kiosk: {found}" for found in parse(response.get_data(as_text=True)).inline]
    with capsys.disabled():
        print(f"\ninline code: {pages} rendered pages and fragments, {len(problems)} problems")
    assert not problems, "\n".join(problems[:20])


def test_the_session_cookie_is_httponly_and_samesite_and_secure_over_tls(staffed):
    results = {}
    for scheme in ("http", "https"):
        client = staffed.test_client()
        base = f"{scheme}://localhost"
        token = csrf_of(client)
        response = client.post(
            "/login",
            data={"username": "doctor", "password": PASSWORD, "csrf_token": token},
            base_url=base,
            headers={"Referer": f"{base}/login"},  # Flask-WTF checks it over HTTPS
        )
        assert response.status_code == 303
        cookie = response.headers["Set-Cookie"]
        flags = {flag.strip().split("=")[0].lower() for flag in cookie.split(";")[1:]}
        assert "httponly" in flags
        assert re.search(r"SameSite=(Lax|Strict)", cookie)
        results[scheme] = "secure" in flags
    assert results == {"http": False, "https": True}


def test_a_policy_missing_a_directive_is_caught(app):
    """Negative control: the header check is not satisfied by any policy at all."""
    route = next(r for r in every_route(app, "A" * 32) if r.endpoint == "kiosk.start")
    response = app.test_client().get(route.url)
    assert header_problems(route, response) == []
    response.headers["Content-Security-Policy"] = "default-src 'self' 'unsafe-eval'"
    response.headers["Cache-Control"] = "max-age=60"
    found = header_problems(route, response)
    assert len(found) == 5, found
