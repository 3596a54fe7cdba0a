"""Defects seen in a real browser, each checked where it showed: the display's "turn the sound on"
button goes once tapped; without JavaScript the ticket's print button (which needs script) is not
shown; the record page's live findings trigger parses (no htmx error in the console); every page
finds its favicon.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.kiosk_pages import Donor, register, unique_cin
from tests.e2e.staff_pages import call_next, log_in, pick_desk
from tests.e2e.staff_pages import register as register_over_http
from tests.server import running_server
from tests.support.staff_http import add_staff_and_desks


def test_the_sound_button_goes_once_tapped(page: Page, artifacts):
    page.goto("/display?lang=ar")
    button = page.locator("[data-sound-on]")
    expect(button).to_be_visible()
    button.click()
    expect(button).to_be_hidden()
    page.screenshot(path=artifacts / "display-after-sound-on-ar.png")


def test_without_javascript_the_ticket_has_no_dead_print_button(
    browser: Browser, live_server: str, artifacts
):
    context = browser.new_context(
        java_script_enabled=False, base_url=live_server, viewport={"width": 1280, "height": 800}
    )
    try:
        page = context.new_page()
        register(page, Donor("Nadia", "Bennani", cin=unique_cin("NJ")), language="ar")
        expect(page.locator("[data-queue-number]")).to_be_visible()
        expect(page.locator("button[data-print]")).to_be_hidden()
        page.screenshot(path=artifacts / "ticket-without-javascript-ar.png", full_page=True)
    finally:
        context.close()


def test_with_javascript_the_ticket_print_button_shows(page: Page):
    register(page, Donor("Imane", "Tazi", cin=unique_cin("NK")), language="fr")
    expect(page.locator("button[data-print]")).to_be_visible()


def test_no_page_asks_for_a_favicon_in_vain(page: Page):
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    page.goto("/kiosk?lang=ar")
    assert not missing, missing
    assert page.goto("/favicon.ico").status == 200


@pytest.fixture(scope="module")
def staff_server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("defects-server")) as base_url:
        add_staff_and_desks(base_url.instance, {"medecin9": "doctor"}, {"Médecin 9": "interview"})
        yield base_url


def test_the_record_page_has_no_htmx_error_and_its_findings_follow_the_typing(
    page: Page, staff_server, artifacts
):
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    token, _number = register_over_http(staff_server)
    log_in(page, staff_server, "medecin9")
    pick_desk(page, staff_server, "Médecin 9")
    call_next(page)
    page.goto(f"{staff_server}/staff/visits/{token}")
    expect(page.locator("form#screening")).to_be_visible()
    with page.expect_response(lambda r: r.url.endswith(f"/{token}/findings")):
        page.locator("form#screening .measure input").first.fill("45")
    page.wait_for_timeout(300)
    assert not problems, problems
    page.screenshot(path=artifacts / "record-screening.png", full_page=True)
