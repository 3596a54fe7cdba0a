"""Driving the kiosk over HTTP as a tablet's browser does: the form, a donor's fields, the
registration."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import requests

from tests.support.factories import expected_answers

TIMEOUT = 30  # seconds per HTTP request


TICKET_PATH = re.compile(r"^(?:https?://[^/]+)?/ticket/([A-Za-z0-9_-]+)$")


class _HiddenInputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input" and attributes.get("type") == "hidden" and attributes.get("name"):
            self.values[attributes["name"]] = attributes.get("value") or ""


class _QueueNumber(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.numbers: list[int] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "data-queue-number":
                self.numbers.append(int(value))


def hidden_inputs(html: str) -> dict[str, str]:
    parser = _HiddenInputs()
    parser.feed(html)
    return parser.values


def queue_number(html: str) -> int:
    parser = _QueueNumber()
    parser.feed(html)
    assert len(parser.numbers) == 1, f"expected one data-queue-number, found {parser.numbers}"
    return parser.numbers[0]


def donor(serial: int) -> dict[str, str]:
    """A valid donor, with nothing to report in the questionnaire; `serial` makes the CIN (two
    letters, six digits) unique."""
    return {
        "first_name": "Fatima" if serial % 2 else "فاطمة",
        "last_name": "Zahra" if serial % 2 else "الزهراء",
        "sex": "F" if serial % 3 else "M",
        # Ages 27 to 56 in 2026: registrable, and within every rule table's first-time age limits.
        "birth_date": f"{1970 + serial % 30}-{1 + serial % 12:02d}-{1 + serial % 28:02d}",
        "cin": f"RC{serial:06d}",
        "phone": f"06{serial:08d}",
        "category": ("civil_servant", "police", "auxiliary_forces", "citizen", "other")[serial % 5],
        "consent": "yes",
        **expected_answers(),
    }


def open_form(session: requests.Session, base_url: str) -> dict[str, str]:
    """What the browser holds after opening the registration page: csrf_token and request_id."""
    response = session.get(f"{base_url}/kiosk/register", timeout=TIMEOUT)
    assert response.status_code == 200, response.status_code
    hidden = hidden_inputs(response.text)
    return {"csrf_token": hidden["csrf_token"], "request_id": hidden["request_id"]}


def submit(session: requests.Session, base_url: str, form: dict[str, str]) -> int:
    """Posts the whole registration; follows the 303 to the ticket; returns the queue number."""
    response = session.post(
        f"{base_url}/kiosk/register", data=form, allow_redirects=False, timeout=TIMEOUT
    )
    assert response.status_code == 303, f"{response.status_code}: {response.text[:500]}"
    location = TICKET_PATH.match(response.headers["Location"])
    assert location, f"redirected to {response.headers['Location']!r}, not to a ticket"
    ticket = session.get(f"{base_url}/ticket/{location.group(1)}", timeout=TIMEOUT)
    assert ticket.status_code == 200, ticket.status_code
    return queue_number(ticket.text)
