"""Item 11: the kiosk cannot be used to reach staff pages.

Every page the donor's tablet can show is parsed for every address it could lead to (links,
forms, buttons, htmx requests, refreshes, the idle timer's home): all stay in the kiosk flow. The
tablet's browser never holds a staff session.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

from kiosk.domain.validation import STEPS
from tests.support.factories import VALID_DONOR, fresh_form

KIOSK_PATHS = ("/kiosk", "/ticket/", "/static/")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data-home-url"} | {
    f"hx-{verb}" for verb in ("get", "post", "put", "patch", "delete")
}


class _Addresses(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name in URL_ATTRIBUTES or name.startswith("data-hx-"):
                self.found.append(value or "")
        if tag == "meta" and (attributes.get("http-equiv") or "").lower() == "refresh":
            content = attributes.get("content") or ""
            if "url=" in content.lower():
                self.found.append(content[content.lower().index("url=") + 4 :])


def addresses(html: str) -> list[str]:
    parser = _Addresses()
    parser.feed(html)
    return parser.found


def outside_the_kiosk(address: str) -> bool:
    parts = urlsplit(address)
    if parts.scheme or parts.netloc:
        return True
    return bool(parts.path) and not parts.path.startswith(KIOSK_PATHS)


def _kiosk_pages(client):
    """Every page of the donor's journey at the tablet, in both languages, errors included."""
    yield "start", client.get("/kiosk")
    yield "start (ar)", client.get("/kiosk?lang=ar")
    yield "register", client.get("/kiosk/register")
    yield "questionnaire", client.get("/kiosk/questionnaire")
    form = fresh_form(client)
    values = {**form, **VALID_DONOR, "cin": "AA110001"}
    for step in STEPS:
        for headers in ({}, {"HX-Request": "true"}):
            data = {**values, "step": step, "go": "next"}
            yield f"wizard {step}", client.post("/kiosk/wizard", data=data, headers=headers)
    yield (
        "lookup",
        client.post("/kiosk/wizard", data={**values, "step": "identity", "go": "lookup"}),
    )
    yield "wrong", client.post("/kiosk/wizard", data={**form, "step": "identity"})
    yield "wrong register", client.post("/kiosk/register", data={**form, "first_name": "1"})
    yield "ticket", client.post("/kiosk/register", data=values, follow_redirects=True)
    yield (
        "ticket again",
        client.post(
            "/kiosk/register", data={**values, **fresh_form(client)}, follow_redirects=True
        ),
    )
    yield "not found", client.get("/kiosk/nowhere")
    yield "expired form", client.post("/kiosk/register", data=VALID_DONOR)


def test_every_kiosk_page_leads_only_into_the_kiosk(app, capsys):
    client = app.test_client()
    pages = seen = 0
    escapes = []
    for name, response in _kiosk_pages(client):
        assert response.status_code < 500, name
        pages += 1
        for address in addresses(response.get_data(as_text=True)):
            seen += 1
            if outside_the_kiosk(address):
                escapes.append(f"{name}: {address}")
    with capsys.disabled():
        print(f"\nkiosk confinement: {pages} pages, {seen} addresses, {len(escapes)} out")
    assert pages >= 20 and seen > 50
    assert not escapes, escapes


def test_the_check_sees_a_way_out():
    """Negative control: a staff link, an outside site, a refresh to the login page."""
    page = (
        '<a href="/staff/">staff</a><a href="https://example.org/">out</a>'
        '<meta http-equiv="refresh" content="5;url=/login"><button hx-post="/kiosk/wizard">'
    )
    assert [a for a in addresses(page) if outside_the_kiosk(a)] == [
        "/staff/",
        "https://example.org/",
        "/login",
    ]


def test_the_kiosk_browser_holds_no_staff_session(app):
    client = app.test_client()
    for _ in _kiosk_pages(client):
        pass
    with client.session_transaction() as session:
        assert "staff" not in session
    assert set(session) <= {"csrf_token", "_permanent"}
    staff_home = client.get("/staff/")
    assert staff_home.status_code == 302
    assert staff_home.headers["Location"].startswith("/login")
