"""The donor's journey at the tablet, in a real browser: register (identity, contact, the
questionnaire, consent, review), get the ticket, scan its QR, and the kiosk forgetting the donor
when left alone. The wizard's helpers are in tests/e2e/kiosk_pages.py."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from io import BytesIO

import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS, IDLE_SECONDS
from tests.e2e.kiosk_pages import (
    START_URL,
    Donor,
    answer_questionnaire,
    date_shown,
    expect_date,
    expect_nothing_of,
    expect_ticket_for,
    field_error,
    fill_birth_date,
    fill_contact,
    fill_date,
    fill_identity,
    get_ticket,
    give_consent,
    go_next,
    next_button,
    open_registration,
    questions,
    register,
    seventeen_years_old,
    unique_cin,
    venue_today,
    wizard_step,
)

# Playwright's default wait is 5 s; the idle return needs the idle time plus some slack.
IDLE_WAIT_MS = (IDLE_SECONDS + 5) * 1000


# --- the journeys ------------------------------------------------------------------------------


def walk_to_the_ticket(page: Page, donor: Donor, language: str, direction: str, artifacts):
    """The whole journey from the start page, checking the page direction and taking the
    screenshots a person looks at (start, identity, questionnaire, review, ticket)."""

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
    go_next(page, "questionnaire")
    # A donor who gave blood last year: an answer with a date, which implies nothing.
    last_gift = venue_today() - timedelta(days=365)
    given = answer_questionnaire(page, {"given_blood": ("yes", last_gift.isoformat())})
    page_is_in_language("2c-questionnaire")
    go_next(page, "consent")
    give_consent(page)
    go_next(page, "review")
    expect(wizard_step(page)).to_contain_text(f"{donor.first_name} {donor.last_name}")
    # Every answer shown once more, and nothing for the doctor to talk about.
    reviewed = page.locator(".answers-review [data-question]")
    expect(reviewed).to_have_count(len(given))
    expect(page.locator(".answers-review [data-question=given_blood]")).to_contain_text(
        date_shown(last_gift, language)
    )
    expect(page.locator("[data-doctor-will-talk]")).to_have_count(0)
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
    go_next(page, "questionnaire")
    answer_questionnaire(page)
    go_next(page, "consent")
    give_consent(page)
    go_next(page, "review")
    get_ticket(page)
    expect(page.locator(".ticket")).to_contain_text(donor.first_name)


def test_a_yes_that_asks_a_date_needs_the_date_and_the_answers_are_kept(page: Page, artifacts):
    donor = Donor("Omar", "Fassi", sex="M", cin=unique_cin())
    open_registration(page, "fr")
    fill_identity(page, donor)
    go_next(page, "contact")
    fill_contact(page, donor)
    go_next(page, "questionnaire")
    # Questions for women only are not asked of a man.
    expect(page.locator("fieldset[data-question=pregnant]")).to_have_count(0)
    asked = questions(page).count()

    given = answer_questionnaire(page, {"vaccine": "yes"})  # and no date
    next_button(page).click()
    expect(wizard_step(page)).to_have_attribute("data-step", "questionnaire")
    expect(field_error(page, "q_vaccine_date")).to_be_visible()
    expect(page.locator("input[name=q_vaccine_day]")).to_have_attribute("aria-invalid", "true")
    expect(questions(page)).to_have_count(asked)
    for code, answer in given.items():
        expect(page.locator(f"input[name=q_{code}][value={answer}]")).to_be_checked()
    page.screenshot(path=artifacts / "fr-2d-questionnaire-errors.png", full_page=True)

    fill_date(page, "q_vaccine_date", (venue_today() - timedelta(days=7)).isoformat())
    go_next(page, "consent")
    give_consent(page)
    go_next(page, "review")
    expect(page.locator("[data-doctor-will-talk]")).to_be_visible()
    get_ticket(page)


def test_switching_to_arabic_mid_wizard_reads_right_to_left_and_keeps_the_answers(
    page: Page, artifacts
):
    donor = Donor("Karim", "Bennani", sex="M", cin=unique_cin())
    open_registration(page, "fr")
    fill_identity(page, donor)
    go_next(page, "contact")
    fill_contact(page, donor)
    go_next(page, "questionnaire")
    vaccine_on = (venue_today() - timedelta(days=5)).isoformat()
    given = answer_questionnaire(page, {"vaccine": ("yes", vaccine_on)})

    page.locator("button[name=switch_lang][value=ar]").click()
    expect(page.locator("form#wizard button[name=switch_lang][value=fr]")).to_be_visible()
    page.screenshot(path=artifacts / "ar-2e-questionnaire-after-switch.png", full_page=True)
    expect(wizard_step(page)).to_have_attribute("data-step", "questionnaire")
    for code, answer in given.items():
        expect(page.locator(f"input[name=q_{code}][value={answer}]")).to_be_checked()
    expect_date(page, "q_vaccine_date", vaccine_on)
    # Read at once: left alone, the kiosk soon goes back to its start page, in Arabic by then.
    html = page.evaluate("() => [document.documentElement.lang, document.documentElement.dir]")
    assert html == ["ar", "rtl"], f"<html lang dir> after switching to Arabic: {html}"


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
