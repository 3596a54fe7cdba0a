"""The ticket's page left open on the donor's own phone (390 × 844), in a real browser: once the
donor turned the alerts on, it plays the sound and vibrates when two donors are ahead and again
when they are called, and then names the desk to go to; the wait is told in words.

Screenshots go to test-artifacts/e2e/ for a person to look at.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.staff_pages import PHONE, register
from tests.server import running_server
from tests.support.staff_http import StaffDevice, add_staff_and_desks

DOCTOR = "medecin"

# Counts what the page asks of the phone: every play of the alert's sound, every vibration.
COUNT_ALERTS = """
window.vibrations = 0;
navigator.vibrate = () => { window.vibrations += 1; return true; };
document.addEventListener("play", (event) => {
  if (event.target.id === "turn-sound") { window.plays = (window.plays || 0) + 1; }
}, true);
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("alerts-server")) as base_url:
        add_staff_and_desks(base_url.instance, {DOCTOR: "doctor"}, {"Médecin 1": "interview"})
        yield base_url


@pytest.fixture
def doctor(server):
    device = StaffDevice(server, DOCTOR)
    device.log_in()
    device.pick_desk("Médecin 1")
    yield device
    device.close()


def refresh(page: Page) -> None:
    """What the page does by itself every 15 s, or when the phone's screen comes back on."""
    with page.expect_response(lambda response: "/t/" in response.url):
        page.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_timeout(200)  # htmx settles the swapped fragment


def counted(page: Page) -> tuple[int, int]:
    plays, vibrations = page.evaluate("() => [window.plays || 0, window.vibrations]")
    return plays, vibrations


def see_next_donor(doctor: StaffDevice, tokens: dict[int, str]) -> int:
    """The doctor calls the next donor and records an eligible screening: the desk is free."""
    number = doctor.call_next("interview").number
    assert doctor.record("interview", tokens[number], number).status == 303
    return number


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_phone_rings_at_two_ahead_and_when_called(browser: Browser, server, doctor, language):
    tokens = dict(reversed(register(server)) for _ in range(4))
    mine = max(tokens)
    context = browser.new_context(viewport=PHONE, has_touch=True, locale=language)
    context.add_init_script(COUNT_ALERTS)
    page = context.new_page()
    try:
        page.goto(f"{server}/t/{tokens[mine]}?lang={language}")
        expect(page.locator("#status")).to_have_attribute("data-ahead", "3")
        expect(page.locator(".wait")).to_be_visible()
        page.locator("[data-alerts-on]").tap()
        expect(page.locator("[data-alerts-are-on]")).to_be_visible()
        assert counted(page) == (1, 1)  # the tap lets the donor hear the sound once
        page.screenshot(path=ARTIFACTS / f"turn-alerts-waiting-{language}.png", full_page=True)

        see_next_donor(doctor, tokens)
        refresh(page)
        expect(page.locator("#status")).to_have_attribute("data-ahead", "2")
        expect(page.locator("body")).to_have_attribute("data-alerted", "soon")
        expect(page.locator(".get-ready")).to_be_visible()
        assert counted(page) == (2, 2)

        see_next_donor(doctor, tokens)
        refresh(page)
        assert counted(page) == (2, 2)  # one ahead: no second "soon"

        see_next_donor(doctor, tokens)
        assert doctor.call_next("interview").number == mine
        refresh(page)
        expect(page.locator("body")).to_have_attribute("data-alerted", "called")
        expect(page.locator(".turn")).to_have_attribute("data-desk", "Médecin 1")
        expect(page.locator(".turn")).to_contain_text("Médecin 1")
        assert counted(page) == (3, 3)
        page.screenshot(path=ARTIFACTS / f"turn-alerts-called-{language}.png", full_page=True)
    finally:
        doctor.record("interview", tokens[mine], mine)
        context.close()
