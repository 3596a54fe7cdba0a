"""A donor registers on their own phone (390 × 844) while queueing, in a real browser: the poster's
address opens the kiosk's wizard, which never goes back to the start by itself; the donor leaves
halfway and comes back to the same answers; the phone shows the ticket with its code for reception
and leads to the page that follows the turn.

Screenshots go to test-artifacts/e2e/ for a person to look at.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import ARTIFACTS, IDLE_SECONDS
from tests.e2e.kiosk_pages import (
    Donor,
    answer_questionnaire,
    fill_contact,
    fill_identity,
    get_ticket,
    give_consent,
    go_next,
    unique_cin,
    wizard_step,
)
from tests.e2e.staff_pages import PHONE

FOLLOW = {"fr": "Suivre mon tour", "ar": "تتبّع دوري"}


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_a_donor_registers_on_the_phone_leaves_halfway_and_comes_back(
    browser: Browser, base_url: str, language: str
):
    donor = Donor("Ilham", "Bennani", cin=unique_cin("PH"))
    context = browser.new_context(base_url=base_url, viewport=PHONE, has_touch=True)
    try:
        page = context.new_page()
        page.goto(f"/phone?lang={language}")
        page.locator("a[href='/kiosk/register']").click()
        fill_identity(page, donor)
        go_next(page, "contact")
        fill_contact(page, donor)
        go_next(page, "questionnaire")
        page.wait_for_timeout((IDLE_SECONDS + 1) * 1000)  # the kiosk would be back at its start
        expect(wizard_step(page)).to_have_attribute("data-step", "questionnaire")
        page.close()

        page = context.new_page()  # later, from the poster again
        page.goto(f"/phone?lang={language}")
        page.locator("a[href='/kiosk/register']").click()
        expect(wizard_step(page)).to_have_attribute("data-step", "questionnaire")
        answer_questionnaire(page)
        go_next(page, "consent")
        give_consent(page)
        go_next(page, "review")
        expect(page.locator("main")).to_contain_text(donor.first_name)
        get_ticket(page)
        expect(page.locator(".ticket .qr svg")).to_be_visible()
        page.screenshot(path=ARTIFACTS / f"phone-ticket-{language}.png", full_page=True)
        page.get_by_text(FOLLOW[language]).click()
        expect(page.locator("#status")).to_have_attribute("data-status", "waiting_interview")
        expect(page.locator(".status-code svg")).to_be_visible()
        page.screenshot(path=ARTIFACTS / f"phone-status-{language}.png", full_page=True)
    finally:
        context.close()
