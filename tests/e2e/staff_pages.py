"""Driving the staff's pages in a real browser (log in, pick a desk, call the next donor), and
registering donors over HTTP as the kiosk does. Shared by the browser tests of the staff side and
of the medical journeys; the HTTP helpers come from the reliability tests."""

from __future__ import annotations

import itertools
import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS
from tests.support.kiosk_http import donor
from tests.support.staff_http import PASSWORD, register_donor

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TV = {"width": 1920, "height": 1080}

STAFF_HOME = re.compile(r"/staff/?$")

_serials = itertools.count(700_000)  # CINs of their own: a CIN seen today gives the old ticket


def register(base_url: str, first_name: str | None = None, last_name: str | None = None, **fields):
    """A donor registered over HTTP, as the kiosk does, with nothing to report in the
    questionnaire; returns (token, queue number). `fields` replace the form's own."""
    form = donor(next(_serials))
    if first_name:
        form |= {"first_name": first_name, "last_name": last_name}
    return register_donor(base_url, form | fields)


def log_in(page: Page, server: str, username: str, screenshot: str | None = None) -> None:
    page.goto(f"{server}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    if screenshot:
        page.screenshot(path=ARTIFACTS / screenshot, full_page=True)
    page.locator("form.login button[type=submit]").click()
    page.wait_for_url(STAFF_HOME)


def pick_desk(page: Page, server: str, desk: str, stage: str = "interview") -> None:
    page.locator(f"#desk-picker button[name=desk][value='{desk}']").click()
    page.wait_for_url(f"{server}/staff/queue/{stage}")


def at_my_desk(page: Page):
    return page.locator("#my-desk [data-queue-number]")


def desk_button(page: Page, action: str):
    return page.locator(f"#my-desk .desk-actions button[formaction$='/{action}']")


def free_my_desk(page: Page) -> None:
    """The donor still at my desk is called again twice and marked absent: the console has no
    other way to let a donor go (only their screening or donation record moves them on)."""
    while at_my_desk(page).count():
        action = "recall" if page.locator("#no-show-hint").count() else "no-show"
        answered = f"/{action}"
        with page.expect_response(lambda response, path=answered: response.url.endswith(path)):
            desk_button(page, action).click()
        page.wait_for_load_state()


def call_next(page: Page) -> int:
    """Presses "call next" (first marking absent whoever is still at the desk); returns the
    number."""
    free_my_desk(page)
    page.locator("button[data-call-next]").click()
    expect(at_my_desk(page)).to_have_count(1)
    return int(at_my_desk(page).get_attribute("data-queue-number"))


def assert_nothing_sticks_out(page: Page) -> None:
    """No sideways scrolling: the page fits the width of the screen."""
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide on a {widths[1]} px screen"
