"""The donor's journey at the tablet, in a real browser: register, get the ticket, scan its QR,
and the kiosk forgetting the donor when left alone."""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS, IDLE_SECONDS

# Playwright's default wait is 5 s; the idle return needs the idle time plus some slack.
IDLE_WAIT_MS = (IDLE_SECONDS + 5) * 1000
TICKET_URL = re.compile(r"/ticket/([A-Za-z0-9_-]+)$")
START_URL = re.compile(r"/kiosk$")

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


def unique_cin() -> str:
    """Each registration its own CIN: a CIN already seen today gives back the earlier ticket."""
    return f"EE{next(_cin_numbers):06d}"


def venue_today() -> date:
    return datetime.now(ZoneInfo("Africa/Casablanca")).date()


def seventeen_years_old() -> str:
    """A birth date half a year past a 17th birthday: too young whatever the time zone."""
    today = venue_today()
    try:
        birthday = today.replace(year=today.year - 17)
    except ValueError:  # 29 February
        birthday = today.replace(year=today.year - 17, day=28)
    return (birthday - timedelta(days=180)).isoformat()


# --- driving the wizard ------------------------------------------------------------------------


def wizard_step(page: Page):
    return page.locator("form#wizard")


def next_button(page: Page):
    return page.locator("button[name=go][value=next]")


def field_error(page: Page, name: str):
    """The message shown next to a field."""
    return page.locator(f"#err-{name}")


def fill_birth_date(page: Page, iso_date: str) -> None:
    """The kiosk asks the date in three boxes: day, month (by name), year."""
    year, month, day = iso_date.split("-")
    page.fill("input[name=birth_day]", day)
    page.select_option("select[name=birth_month]", str(int(month)))
    page.fill("input[name=birth_year]", year)


def open_registration(page: Page, language: str) -> None:
    page.goto(f"/kiosk?lang={language}")
    page.locator("a[href='/kiosk/register']").click()
    page.wait_for_url("**/kiosk/register")
    expect(wizard_step(page)).to_have_attribute("data-step", "identity")


def fill_identity(page: Page, donor: Donor) -> None:
    page.fill("input[name=first_name]", donor.first_name)
    page.fill("input[name=last_name]", donor.last_name)
    page.check(f"input[name=sex][value={donor.sex}]")
    fill_birth_date(page, donor.birth_date)
    page.fill("input[name=cin]", donor.cin)


def go_next(page: Page, expected_step: str) -> None:
    next_button(page).click()
    expect(wizard_step(page)).to_have_attribute("data-step", expected_step)


def fill_contact(page: Page, donor: Donor) -> None:
    page.fill("input[name=phone]", donor.phone)
    page.check(f"input[name=category][value={donor.category}]")


def give_consent(page: Page) -> None:
    page.check("input[name=consent]")


def get_ticket(page: Page) -> str:
    """Press "get my ticket" on the review step; returns the ticket's token."""
    next_button(page).click()
    page.wait_for_url(TICKET_URL)
    return TICKET_URL.search(page.url).group(1)


def register(page: Page, donor: Donor, language: str = "fr") -> str:
    open_registration(page, language)
    fill_identity(page, donor)
    go_next(page, "contact")
    fill_contact(page, donor)
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


# --- the journeys ------------------------------------------------------------------------------


def walk_to_the_ticket(page: Page, donor: Donor, language: str, direction: str, artifacts):
    """The whole journey from the start page, checking the page direction and taking the
    screenshots a person looks at (start, identity, review, ticket)."""

    def page_is_in_language(shot: str) -> None:
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator("html")).to_have_attribute("dir", direction)
        page.screenshot(path=artifacts / f"{language}-{shot}.png", full_page=True)

    page.goto(f"/kiosk?lang={language}")
    page_is_in_language("1-start")
    open_registration(page, language)
    fill_identity(page, donor)
    page_is_in_language("2-identity")
    go_next(page, "contact")
    fill_contact(page, donor)
    go_next(page, "consent")
    give_consent(page)
    go_next(page, "review")
    expect(wizard_step(page)).to_contain_text(f"{donor.first_name} {donor.last_name}")
    page_is_in_language("3-review")
    get_ticket(page)
    expect_ticket_for(page, donor)
    page_is_in_language("4-ticket")


def test_a_donor_registers_in_french_and_gets_a_ticket(page: Page, artifacts):
    donor = Donor("Khadija", "Benali", sex="F", cin=unique_cin(), category="citizen")
    walk_to_the_ticket(page, donor, "fr", "ltr", artifacts)
    expect(page.locator(".ticket")).to_contain_text("Votre numéro")


def test_a_donor_registers_in_arabic_right_to_left(page: Page, artifacts):
    donor = Donor("فاطمة", "الزهراء", sex="F", cin=unique_cin(), category="auxiliary_forces")
    walk_to_the_ticket(page, donor, "ar", "rtl", artifacts)
    expect(page.locator(".ticket")).to_contain_text("رقمك")


def test_a_mistake_is_explained_next_to_the_field_and_the_typing_is_kept(page: Page, artifacts):
    donor = Donor("Youssef", "", sex="M", birth_date=seventeen_years_old(), cin=unique_cin())

    open_registration(page, "fr")
    fill_identity(page, donor)
    next_button(page).click()

    expect(field_error(page, "last_name")).to_be_visible()
    expect(field_error(page, "birth_date")).to_contain_text("18")
    expect(page.locator("input[name=birth_year]")).to_have_attribute("aria-invalid", "true")
    expect(wizard_step(page)).to_have_attribute("data-step", "identity")
    expect(page.locator("input[name=first_name]")).to_have_value(donor.first_name)
    year, month, day = donor.birth_date.split("-")
    expect(page.locator("input[name=birth_day]")).to_have_value(day)
    expect(page.locator("select[name=birth_month]")).to_have_value(str(int(month)))
    expect(page.locator("input[name=birth_year]")).to_have_value(year)
    expect(page.locator("input[name=cin]")).to_have_value(donor.cin)
    expect(page.locator("input[name=sex][value=M]")).to_be_checked()
    expect(field_error(page, "first_name")).to_have_count(0)
    page.screenshot(path=artifacts / "fr-2b-identity-errors.png", full_page=True)

    # Corrected, the same form goes on to the ticket.
    page.fill("input[name=last_name]", "Amrani")
    fill_birth_date(page, "1985-01-31")
    go_next(page, "contact")
    fill_contact(page, donor)
    go_next(page, "consent")
    give_consent(page)
    go_next(page, "review")
    get_ticket(page)
    expect(page.locator(".ticket")).to_contain_text(donor.first_name)


def test_the_ticket_qr_code_opens_the_public_status_without_the_name(
    page: Page, live_server, artifacts
):
    donor = Donor("Nadia", "Ouazzani", cin=unique_cin())
    token = register(page, donor)

    picture = page.locator(".qr").screenshot(path=artifacts / "qr.png")
    found = zxingcpp.read_barcodes(Image.open(BytesIO(picture)))
    assert [code.text for code in found] == [f"{live_server}/t/{token}"]

    number = page.locator("[data-queue-number]").get_attribute("data-queue-number")
    page.goto(found[0].text)
    expect(page.locator('[data-status="waiting_interview"]')).to_be_visible()
    expect(page.locator("[data-queue-number]")).to_have_attribute("data-queue-number", number)
    expect_nothing_of(page, donor.first_name)
    expect_nothing_of(page, donor.last_name)
    assert donor.cin not in page.content()


def test_the_wizard_left_alone_goes_back_to_the_start_and_forgets_the_donor(page: Page):
    name = "Abdelilah"
    open_registration(page, "fr")
    page.fill("input[name=first_name]", name)
    typed_at = time.monotonic()

    page.wait_for_url(START_URL, timeout=IDLE_WAIT_MS)
    assert time.monotonic() - typed_at > IDLE_SECONDS - 1, "went back before the idle time"
    expect(page.locator("main.start")).to_be_visible()
    expect_nothing_of(page, name)

    page.go_back()
    expect_nothing_of(page, name)

    page.goto("/kiosk/register")
    expect(page.locator("input[name=first_name]")).to_have_value("")


def test_the_ticket_left_alone_goes_back_to_the_start(page: Page):
    donor = Donor("Samira", "Idrissi", cin=unique_cin())
    register(page, donor)

    page.wait_for_url(START_URL, timeout=IDLE_WAIT_MS)
    expect(page.locator("main.start")).to_be_visible()
    expect_nothing_of(page, donor.first_name)

    page.go_back()
    expect_nothing_of(page, donor.first_name)


def test_the_ticket_prints_on_80_mm_receipt_paper(page: Page, browser):
    register(page, Donor("Hafsa", "Tazi", cin=unique_cin()))
    # Without scripts: the kiosk's own "back to the start after printing" would leave the page
    # while Chromium prints it to PDF.
    quiet = browser.new_context(java_script_enabled=False)
    try:
        ticket = quiet.new_page()
        ticket.goto(page.url)
        pdf = ticket.pdf(prefer_css_page_size=True)
        (ARTIFACTS / "ticket-80mm.pdf").write_bytes(pdf)
    finally:
        quiet.close()
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert len(boxes) == 1, "the ticket must fit on one page"
    width_mm = float(boxes[0][0]) / 72 * 25.4
    assert abs(width_mm - 80) < 0.5, width_mm
