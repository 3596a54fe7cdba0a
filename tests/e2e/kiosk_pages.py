"""Driving the kiosk's registration wizard in a real browser: identity → contact → questionnaire →
consent → review → ticket. Shared by the browser tests of the donor's and the medical journeys."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from babel.dates import format_date
from playwright.sync_api import Locator, Page, expect

from kiosk.timezones import venue_zone

TICKET_URL = re.compile(r"/ticket/([A-Za-z0-9_-]+)$")
START_URL = re.compile(r"/kiosk$")

# The venue's zone as the server reads it: from the pinned `tzdata` package, not the system's
# zone files (which may disagree on Morocco's offset, and so on the date near midnight).
VENUE = venue_zone("Africa/Casablanca")

_cin_numbers = itertools.count(1)


@dataclass
class Donor:
    first_name: str
    last_name: str
    sex: str = "F"
    birth_date: str = "1990-05-17"
    cin: str = ""
    phone: str = "06 12 34 56 78"
    category: str = "civil_servant"


def unique_cin(prefix: str = "EE") -> str:
    """Each registration its own CIN: a CIN already seen today gives back the earlier ticket."""
    return f"{prefix}{next(_cin_numbers):06d}"


def venue_today() -> date:
    return datetime.now(VENUE).date()


def seventeen_years_old() -> str:
    """A birth date half a year past a 17th birthday: too young whatever the time zone."""
    today = venue_today()
    try:
        birthday = today.replace(year=today.year - 17)
    except ValueError:  # 29 February
        birthday = today.replace(year=today.year - 17, day=28)
    return (birthday - timedelta(days=180)).isoformat()


def long_date(day: date, language: str) -> str:
    """A date as the pages write it: `format_date(day, "long")` in the page's locale (the
    language as spoken in Morocco: fr_MA, ar_MA)."""
    return format_date(day, "long", locale=f"{language}_MA")


def date_shown(day: date, language: str) -> re.Pattern:
    """A date given by the donor, shown back to them: as typed (YYYY-MM-DD) or written out."""
    return re.compile(f"{re.escape(day.isoformat())}|{re.escape(long_date(day, language))}")


# --- the wizard's pieces -------------------------------------------------------------------------


def wizard_step(page: Page):
    return page.locator("form#wizard")


def next_button(page: Page):
    """The visible "next" (or "get my ticket") button; the form also holds a hidden one, first,
    so that Enter in a field means "next"."""
    return page.locator(".actions button[name=go][value=next]")


def field_error(page: Page, name: str):
    """The message shown next to a field."""
    return page.locator(f"#err-{name}")


def date_boxes(name: str) -> tuple[str, str, str]:
    """The names of a date field's three boxes (kiosk/domain/validation.py: date_part_names)."""
    stem = name.removesuffix("_date")
    return f"{stem}_day", f"{stem}_month", f"{stem}_year"


def fill_date(scope: Page | Locator, name: str, iso_date: str) -> None:
    """Every typed date, at the kiosk and on staff pages, comes in three boxes: the day, the month
    (by name), the year."""
    year, month, day = iso_date.split("-")
    day_box, month_box, year_box = date_boxes(name)
    scope.locator(f"input[name={day_box}]").fill(day)
    scope.locator(f"select[name={month_box}]").select_option(str(int(month)))
    scope.locator(f"input[name={year_box}]").fill(year)


def expect_date(scope: Page | Locator, name: str, iso_date: str) -> None:
    """The three boxes of `name` hold this date."""
    year, month, day = iso_date.split("-")
    day_box, month_box, year_box = date_boxes(name)
    expect(scope.locator(f"input[name={day_box}]")).to_have_value(day.lstrip("0"))
    expect(scope.locator(f"select[name={month_box}]")).to_have_value(str(int(month)))
    expect(scope.locator(f"input[name={year_box}]")).to_have_value(year)


def fill_birth_date(page: Page, iso_date: str) -> None:
    fill_date(page, "birth_date", iso_date)


def open_registration(page: Page, language: str) -> None:
    page.goto(f"/kiosk?lang={language}")
    page.locator("a[href='/kiosk/register']").click()
    page.wait_for_url("**/kiosk/register")
    expect(wizard_step(page)).to_have_attribute("data-step", "identity")


def fill_identity(page: Page, donor: Donor) -> None:
    """The CIN and the birth date come first (a returning donor's "find my details"), then the
    names and sex."""
    page.fill("input[name=cin]", donor.cin)
    fill_birth_date(page, donor.birth_date)
    page.fill("input[name=first_name]", donor.first_name)
    page.fill("input[name=last_name]", donor.last_name)
    page.check(f"input[name=sex][value={donor.sex}]")


def go_next(page: Page, expected_step: str) -> None:
    next_button(page).click()
    expect(wizard_step(page)).to_have_attribute("data-step", expected_step)


def fill_contact(page: Page, donor: Donor) -> None:
    page.fill("input[name=phone]", donor.phone)
    page.check(f"input[name=category][value={donor.category}]")


def questions(page: Page):
    return page.locator("fieldset[data-question]")


def answer_questionnaire(
    page: Page, answers: Mapping[str, str | tuple[str, str]] | None = None
) -> dict[str, str]:
    """Answers every question shown: "nothing to report" (the expected answer, or "no" where
    any answer is expected) unless `answers` says otherwise for a code — "yes" / "no", or
    ("yes", "YYYY-MM-DD") for a question that asks the date. Returns code → answer given."""
    answers = dict(answers or {})
    given = {}
    count = questions(page).count()
    assert count > 0, "the questionnaire step shows no question"
    for index in range(count):
        fieldset = questions(page).nth(index)
        code = fieldset.get_attribute("data-question")
        expected = fieldset.get_attribute("data-expected")
        assert expected in ("yes", "no", "any"), f"{code}: data-expected={expected!r}"
        answer = answers.pop(code, expected if expected != "any" else "no")
        answer, when = answer if isinstance(answer, tuple) else (answer, None)
        fieldset.locator(f"input[type=radio][name=q_{code}][value={answer}]").check()
        if when:
            fill_date(fieldset, f"q_{code}_date", when)
        given[code] = answer
    assert not answers, f"questions not shown to this donor: {sorted(answers)}"
    return given


def give_consent(page: Page) -> None:
    page.check("input[name=consent]")


def get_ticket(page: Page) -> str:
    """Press "get my ticket" on the review step; returns the ticket's token."""
    next_button(page).click()
    page.wait_for_url(TICKET_URL)
    return TICKET_URL.search(page.url).group(1)


def register(
    page: Page,
    donor: Donor,
    language: str = "fr",
    answers: Mapping[str, str | tuple[str, str]] | None = None,
) -> str:
    """The whole wizard; returns the ticket's token."""
    open_registration(page, language)
    fill_identity(page, donor)
    go_next(page, "contact")
    fill_contact(page, donor)
    go_next(page, "questionnaire")
    answer_questionnaire(page, answers)
    go_next(page, "consent")
    give_consent(page)
    go_next(page, "review")
    return get_ticket(page)


def expect_ticket_for(page: Page, donor: Donor) -> None:
    number = page.locator("[data-queue-number]")
    expect(number).to_have_count(1)
    assert int(number.get_attribute("data-queue-number")) >= 1
    expect(page.locator(".ticket")).to_contain_text(donor.first_name)
    expect(page.locator(".ticket")).not_to_contain_text(donor.last_name)


def expect_nothing_of(page: Page, name: str) -> None:
    """Neither the page's text nor any of its inputs holds `name`."""
    expect(page.locator("body")).not_to_contain_text(name)
    values = page.locator("input").evaluate_all("inputs => inputs.map(input => input.value)")
    assert not any(name in value for value in values), values
