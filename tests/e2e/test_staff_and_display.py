"""Staff at their desks and the wall display, in a real browser: a doctor logs in, picks a desk,
calls the next donor and the display shows the number; new arrivals appear in the waiting list by
themselves; the scanner field and the ticket's QR open the donor's record; the display reads right
to left in Arabic; and the screenshots a person looks at (login, consoles, display, coordination).

These tests have their own server (the shared one has no staff accounts), so pages are opened with
the full URL.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.staff_pages import (
    LAPTOP,
    PHONE,
    TV,
    assert_nothing_sticks_out,
    at_my_desk,
    call_next,
    log_in,
    pick_desk,
    register,
)
from tests.server import free_port, running_server
from tests.support.staff_http import PASSWORD, StaffDevice, add_staff_and_desks

STAFF = {
    "medecin1": "doctor",  # the calling test's own account and desk
    "medecin2": "doctor",
    "coordination": "coordinator",
    "prelevement": "phlebotomist",
}
DESKS = {"Médecin 1": "interview", "Médecin 2": "interview", "Fauteuil 1": "collection"}

# The promises.
DISPLAY_WITHIN_MS = 2000
WAITING_LIST_WITHIN_MS = 3000

_timings: dict[str, float] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("staff-server")) as base_url:
        add_staff_and_desks(base_url.instance, STAFF, DESKS)
        for _ in range(3):
            register(base_url)
        yield base_url
    # What was measured this run (nothing, for a test that failed before it could measure).
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "staff-timings.json").write_text(json.dumps(_timings, indent=2) + "\n")


# --- in the browser ------------------------------------------------------------------------------


def latest_call(display: Page):
    return display.locator("[data-latest-call] [data-queue-number]")


def wait_for_an_unchanged_poll(page: Page, path: str) -> None:
    """Lets the page poll `path` until the server answers "nothing changed" (304), as happens
    all day between two calls, and htmx has done with the answer."""
    with page.expect_response(
        lambda response: response.url.split("?")[0].endswith(path) and response.status == 304,
        timeout=5000,
    ):
        pass
    page.wait_for_timeout(300)


# --- the journeys ---------------------------------------------------------------------------------


def test_a_doctor_calls_the_next_donor_and_the_display_shows_the_number(
    page: Page, server, artifacts
):
    log_in(page, server, "medecin1", screenshot="staff-login.png")
    expect(page.locator("#desk-picker")).to_contain_text("Médecin 1")
    pick_desk(page, server, "Médecin 1")
    expect(page.locator("button[data-call-next]")).to_be_visible()
    first_in_line = page.locator("#waiting li[data-queue-number]").first
    first_waiting = int(first_in_line.get_attribute("data-queue-number"))

    display = page.context.new_page()
    display.goto(f"{server}/display")
    expect(display.locator("#board")).to_be_visible()
    # The display has been on the wall a while when the doctor calls: it polled and nothing changed.
    wait_for_an_unchanged_poll(display, "/display/board")
    assert display.locator("#board").count() == 1, (
        "the display lost its board after a 304 (nothing changed) answer to its polling"
    )
    shown_before = (
        latest_call(display).get_attribute("data-queue-number")
        if latest_call(display).count()
        else None
    )

    page.locator("button[data-call-next]").click()
    clicked = time.monotonic()
    number = int(at_my_desk(page).get_attribute("data-queue-number"))
    answered = time.monotonic()
    assert number == first_waiting, "the call skipped the first in line"
    assert str(number) != shown_before

    # Seen by the display's own polling: 50 ms checks, the 2 s as the limit.
    display.wait_for_function(
        "number => document.querySelector('[data-latest-call] [data-queue-number]')"
        "?.dataset.queueNumber === number",
        arg=str(number),
        polling=50,
        timeout=DISPLAY_WITHIN_MS,
    )
    shown = time.monotonic()
    expect(latest_call(display)).to_have_attribute("data-queue-number", str(number))
    expect(display.locator("[data-latest-call]")).to_have_attribute("data-desk", "Médecin 1")
    expect(display.locator("[data-latest-call] .desk")).to_have_text("Médecin 1")
    _timings["call_answer_ms"] = round((answered - clicked) * 1000)
    _timings["display_after_click_ms"] = round((shown - clicked) * 1000)
    assert shown - clicked < DISPLAY_WITHIN_MS / 1000

    # The number left the waiting list, and the display announced the call (chime + voice).
    expect(page.locator(f"#waiting li[data-queue-number='{number}']")).to_have_count(0)
    call_id = display.locator("[data-latest-call]").get_attribute("data-latest-call")
    expect(display.locator("body")).to_have_attribute("data-announced", call_id)


def test_a_new_registration_appears_in_the_waiting_list_without_reloading(page: Page, server):
    log_in(page, server, "medecin2")
    pick_desk(page, server, "Médecin 2")
    expect(page.locator("#waiting")).to_be_visible()
    page.evaluate("window.notReloaded = true")
    # The console has been open a while when the donor registers: it polled and nothing changed.
    wait_for_an_unchanged_poll(page, "/staff/queue/interview/waiting")
    assert page.locator("#waiting").count() == 1, (
        "the console lost its waiting list after a 304 (nothing changed) answer to its polling"
    )

    _, number = register(server)
    registered = time.monotonic()
    page.wait_for_selector(
        f"#waiting li[data-queue-number='{number}']", timeout=WAITING_LIST_WITHIN_MS
    )
    seen = time.monotonic()
    _timings["waiting_list_after_registration_ms"] = round((seen - registered) * 1000)
    assert seen - registered < WAITING_LIST_WITHIN_MS / 1000
    assert page.evaluate("window.notReloaded") is True, "the page was reloaded"
    expect(page.locator(f"#waiting li[data-queue-number='{number}'] .waited")).to_be_visible()


def test_scanning_a_ticket_opens_the_donors_record(page: Page, server, artifacts):
    token, number = register(server, "Meryem", "Alaoui")
    log_in(page, server, "medecin2")

    page.locator("form.scan input[name=code]").fill(f"{server}/t/{token}")
    page.locator("form.scan input[name=code]").press("Enter")
    page.wait_for_url(f"{server}/staff/visits/{token}")
    expect_record_of(page, number, "Meryem Alaoui")
    page.screenshot(path=artifacts / "staff-record-fr.png", full_page=True)
    page.goto(f"{server}/staff/visits/{token}?lang=ar")
    expect_record_of(page, number, "Meryem Alaoui")
    page.screenshot(path=artifacts / "staff-record-ar.png", full_page=True)

    # The bare token (what some scanners send) works too.
    page.locator("form.scan input[name=code]").fill(token)
    page.locator("form.scan input[name=code]").press("Enter")
    page.wait_for_url(f"{server}/staff/visits/{token}")
    expect_record_of(page, number, "Meryem Alaoui")


def test_a_logged_in_staff_member_opening_the_ticket_link_gets_the_record(page: Page, server):
    token, number = register(server, "Hamza", "Berrada")
    log_in(page, server, "prelevement")
    page.goto(f"{server}/t/{token}")
    page.wait_for_url(f"{server}/staff/visits/{token}")
    expect_record_of(page, number, "Hamza Berrada")


def test_an_unknown_code_in_the_scanner_field_says_so(page: Page, server):
    log_in(page, server, "medecin2")
    page.locator("form.scan input[name=code]").fill(f"{server}/t/{'x' * 22}")
    page.locator("form.scan input[name=code]").press("Enter")
    expect(page.locator("[role=alert]")).to_be_visible()
    expect(page.locator("main.record")).to_have_count(0)


def expect_record_of(page: Page, number: int, name: str) -> None:
    expect(page.locator("main.record")).to_be_visible()
    expect(page.locator("main.record [data-queue-number]")).to_have_attribute(
        "data-queue-number", str(number)
    )
    expect(page.locator("main.record h1")).to_have_text(name)


def test_not_logged_in_the_console_sends_to_the_login_page(page: Page, server):
    page.goto(f"{server}/staff/queue/interview")
    page.wait_for_url(re.compile(r"/login\?next=(/|%2F)staff(/|%2F)queue(/|%2F)interview$"))
    expect(page.locator("form.login input[name=username]")).to_be_visible()

    # And after logging in, the console it asked for.
    page.fill("input[name=username]", "medecin2")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form.login button[type=submit]").click()
    page.wait_for_url(f"{server}/staff/queue/interview")


@pytest.mark.parametrize(("language", "direction"), [("fr", "ltr"), ("ar", "rtl")])
def test_the_display_reads_in_its_language(page: Page, server, artifacts, language, direction):
    # A call on the board, from a doctor's phone, so that the screenshot shows one.
    register(server)
    phone = StaffDevice(server, "medecin2")
    phone.log_in()
    phone.pick_desk("Médecin 2")
    # The desk may still serve the donor it called for the other language: that call shows.
    number = phone.call_next("interview").number
    phone.close()
    assert number is not None, "nobody was waiting to be called"

    page.goto(f"{server}/display?lang={language}")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", language)
    expect(html).to_have_attribute("dir", direction)
    expect(latest_call(page)).to_have_attribute("data-queue-number", str(number))
    assert (
        page.locator("[data-latest-call] .call").evaluate(
            "element => getComputedStyle(element).direction"
        )
        == direction
    )
    page.screenshot(path=artifacts / f"display-{language}.png", full_page=True)
    page.set_viewport_size(TV)
    page.screenshot(path=artifacts / f"display-{language}-tv.png", full_page=True)


# --- screenshots for a person to look at ---------------------------------------------------------


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_console_on_a_laptop_and_on_a_phone(page: Page, server, artifacts, language):
    register(server, "Salma", "Cherkaoui")
    log_in(page, server, "medecin2")
    pick_desk(page, server, "Médecin 2")
    if not at_my_desk(page).count():
        call_next(page)
    page.set_viewport_size(LAPTOP)
    page.goto(f"{server}/staff/queue/interview?lang={language}")
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
    expect(at_my_desk(page)).to_have_count(1)
    expect(page.locator("#waiting li[data-queue-number]").first).to_be_visible()

    page.screenshot(path=artifacts / f"staff-console-{language}.png", full_page=True)
    assert_nothing_sticks_out(page)
    page.set_viewport_size(PHONE)
    page.screenshot(path=artifacts / f"staff-console-{language}-phone.png", full_page=True)
    assert_nothing_sticks_out(page)


def test_the_coordinators_page(page: Page, server, artifacts):
    log_in(page, server, "coordination")
    page.set_viewport_size(LAPTOP)
    page.goto(f"{server}/staff/admin")
    expect(page.locator("main.admin h1")).to_be_visible()
    for desk in DESKS:
        expect(page.locator(".desk-list")).to_contain_text(desk)
    expect(page.locator("main.admin .qr svg")).to_be_visible()
    page.screenshot(path=artifacts / "staff-admin.png", full_page=True)
    assert_nothing_sticks_out(page)
    page.set_viewport_size(PHONE)
    page.screenshot(path=artifacts / "staff-admin-phone.png", full_page=True)
    assert_nothing_sticks_out(page)


def test_the_display_carries_on_by_itself_after_the_server_restarts(page: Page, tmp_path):
    port = free_port()
    with running_server(tmp_path, port=port) as base_url:
        add_staff_and_desks(base_url.instance, {"medecin1": "doctor"}, {"Médecin 1": "interview"})
        register(base_url)
        page.goto(f"{base_url}/display")
        expect(page.locator("#board")).to_be_visible()
    page.wait_for_timeout(2500)  # the display polls a server that is not there
    with running_server(tmp_path, port=port) as base_url:
        doctor = StaffDevice(base_url, "medecin1")
        doctor.log_in()
        doctor.pick_desk("Médecin 1")
        called = doctor.call_next("interview")
        doctor.close()
        assert called.number == 1
        expect(latest_call(page)).to_have_attribute("data-queue-number", "1", timeout=5000)
