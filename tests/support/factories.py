"""What tests build their data from: the frozen moment and day, a valid donor, the form a
kiosk page hands out. Imported by tests and conftest alike (no test imports another test)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

# 09:30 in Khénifra on the campaign day (Morocco is on UTC+0 then, per tzdata 2026).
FROZEN_NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
CAMPAIGN_DAY = date(2026, 11, 24)


def expected_answers() -> dict[str, str]:
    """The questionnaire answered with nothing to report."""
    from kiosk.domain.questionnaire import load_questions

    return {
        f"q_{q.code}": q.expected if q.expected in ("yes", "no") else "no" for q in load_questions()
    }


VALID_DONOR = {
    "first_name": "Fatima",
    "last_name": "Zahra",
    "sex": "F",
    "birth_date": "1990-05-17",
    "cin": "ab123456",
    "phone": "06 12 34 56 78",
    "category": "civil_servant",
    "consent": "yes",
    **expected_answers(),
}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def hidden_value(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden field {name!r} in the page"
    return found.group(1)


def fresh_form(client) -> dict[str, str]:
    """What a donor's browser holds after opening the registration page."""
    html = client.get("/kiosk/register").get_data(as_text=True)
    return {
        "csrf_token": hidden_value(html, "csrf_token"),
        "request_id": hidden_value(html, "request_id"),
    }


def ticket_token(response) -> str:
    """The ticket's token from a registration's answer (a plain redirect or HTMX's)."""
    location = response.headers.get("Location") or response.headers["HX-Redirect"]
    found = re.fullmatch(r"/ticket/([A-Za-z0-9_-]{32})", location)
    assert found, location
    return found.group(1)
