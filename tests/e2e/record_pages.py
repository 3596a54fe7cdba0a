"""A visit's record in a real browser: a device of its own, opening the record, typing the
measurements, submitting a form and expecting the 303 back."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.staff_pages import (
    LAPTOP,
    PHONE,
    assert_nothing_sticks_out,
)

LANGUAGES = {"fr": "ltr", "ar": "rtl"}


@contextmanager
def device(browser: Browser, viewport=LAPTOP, **options) -> Iterator[Page]:
    """Someone's own tablet, laptop or phone: a browser context of its own (its own cookies)."""
    context = browser.new_context(viewport=viewport, **options)
    try:
        yield context.new_page()
    finally:
        context.close()


def record(page: Page):
    return page.locator("main.record")


def findings(page: Page):
    return page.locator("#findings")


def finding(page: Page, rule: str):
    return page.locator(f"#findings [data-rule='{rule}']")


def open_record(page: Page, server: str, token: str, language: str = "fr") -> None:
    page.goto(f"{server}/staff/visits/{token}?lang={language}")
    expect(record(page)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("dir", LANGUAGES[language])


def type_measurements(page: Page, systolic: int = 120, **values) -> None:
    """The doctor types the measurements of a healthy adult (or the ones given)."""
    typed = {
        "weight_kg": "68",
        "systolic": str(systolic),
        "diastolic": "80",
        "pulse": "72",
        "hemoglobin_g_dl": "13,8",  # as typed on a French keyboard
        "temperature_c": "36.8",
        **values,
    }
    for name, value in typed.items():
        page.locator(f"#screening input[name={name}]").fill(value)


def type_systolic(page: Page, value: int) -> float:
    """Types a systolic pressure; returns when (time.monotonic()) it was typed."""
    field = page.locator("#screening input[name=systolic]")
    field.fill("")
    field.press_sequentially(str(value))
    return time.monotonic()


def submit(page: Page, form: str, path: str) -> None:
    """Presses the form's button; the server answers 303 back to the record."""
    with page.expect_response(
        lambda response: response.request.method == "POST" and response.url.endswith(path)
    ) as answer:
        page.locator(f"form{form} button[type=submit]").click()
    page.wait_for_load_state()
    if answer.value.status != 303:
        errors = page.locator(".field-error, .form-error").all_inner_texts()
        raise AssertionError(f"{path}: HTTP {answer.value.status}, {errors}")


def screenshots_of(page: Page, url: str, name: str, ready: Callable[[Page, str], None]) -> None:
    """`url` in French and Arabic, on a laptop and on a phone; `ready(page, language)` prepares
    and checks the page once it is open. Ends back in French (the language is remembered in a
    cookie)."""
    for language, direction in LANGUAGES.items():
        page.set_viewport_size(LAPTOP)
        page.goto(f"{url}?lang={language}")
        expect(page.locator("html")).to_have_attribute("dir", direction)
        ready(page, language)
        page.screenshot(path=ARTIFACTS / f"{name}-{language}.png", full_page=True)
        assert_nothing_sticks_out(page)
        page.set_viewport_size(PHONE)
        page.screenshot(path=ARTIFACTS / f"{name}-{language}-phone.png", full_page=True)
        assert_nothing_sticks_out(page)
    page.set_viewport_size(LAPTOP)
    page.goto(f"{url}?lang=fr")
