"""The nurse's phone and the kiosk tablet held sideways, in a real browser:

- from the console, the called donor's record is one tap away (the queue number is a link), and a
  number typed into the scan field opens that donor's record;
- the record starts with the stage's form (the doctor's screening, the phlebotomist's donation)
  within the first screen of a 390 × 844 phone, in French and Arabic; no field overlaps another at
  360 px; every staff button, link and field is at least 44 px tall;
- at 1280 × 800 (a tablet in landscape) the kiosk's "Next" is on screen at every step without
  scrolling, and a field being typed in stays above the keyboard and the button bar.

Screenshots go to test-artifacts/e2e/ for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.kiosk_pages import (
    Donor,
    answer_questionnaire,
    fill_contact,
    fill_identity,
    give_consent,
    go_next,
    next_button,
    unique_cin,
    wizard_step,
)
from tests.e2e.staff_pages import PHONE, assert_nothing_sticks_out, log_in, pick_desk, register
from tests.server import running_server
from tests.support.staff_http import add_staff_and_desks

STAFF = {"infirmiere": "doctor", "prelevement": "phlebotomist"}
DESKS = {"Médecin 1": "interview", "Fauteuil 1": "collection"}
NARROW_PHONE = {"width": 360, "height": 740}
TABLET_LANDSCAPE = {"width": 1280, "height": 800}
LANGUAGES = {"fr": "ltr", "ar": "rtl"}
RECORD_URL = re.compile(r"/staff/visits/(\d+)(\?.*)?$")
# What a finger presses on the staff pages; radio buttons and checkboxes are pressed by their label.
TARGETS = (
    "a[href], button, select, textarea, summary, label.choice, "
    "input:not([type=hidden]):not([type=radio]):not([type=checkbox])"
)
CONTROLS = (
    "input:not([type=hidden]):not([type=radio]):not([type=checkbox]), "
    "select, textarea, button, label.choice"
)
MIN_TARGET_PX = 44
SCREENING = {
    "weight_kg": "68",
    "systolic": "120",
    "diastolic": "80",
    "pulse": "72",
    "hemoglobin_g_dl": "13.8",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("phone-server")) as base_url:
        add_staff_and_desks(base_url.instance, STAFF, DESKS)
        yield base_url


@contextmanager
def device(browser: Browser, viewport=PHONE) -> Iterator[Page]:
    context = browser.new_context(viewport=viewport, has_touch=True)
    try:
        yield context.new_page()
    finally:
        context.close()


# --- measuring in the browser --------------------------------------------------------------------


def small_targets(page: Page) -> list[dict]:
    """Every visible target under MIN_TARGET_PX tall (folded sections opened first)."""
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    return page.evaluate(
        """([selector, least]) => [...document.querySelectorAll(selector)]
          .filter(e => { const r = e.getBoundingClientRect();
                         return r.width > 1 && r.height > 1 && !e.closest('.visually-hidden'); })
          .map(e => ({what: e.outerHTML.slice(0, 90), height: e.getBoundingClientRect().height}))
          .filter(t => t.height < least - 0.5)""",
        [TARGETS, MIN_TARGET_PX],
    )


def overlapping_controls(page: Page, scope: str) -> list[tuple[str, str]]:
    """Pairs of visible controls of `scope` whose boxes intersect (by more than half a pixel)."""
    return page.evaluate(
        """([scope, selector]) => {
          const boxes = [...document.querySelectorAll(scope + ' :is(' + selector + ')')]
            .map(e => [e, e.getBoundingClientRect()])
            .filter(([e, r]) => r.width > 1 && r.height > 1);
          const pairs = [];
          for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
            const [a, r] = boxes[i], [b, s] = boxes[j];
            if (a.contains(b) || b.contains(a)) continue;
            const x = Math.min(r.right, s.right) - Math.max(r.left, s.left);
            const y = Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top);
            const label = e => e.name || e.textContent.trim();
            if (x > 0.5 && y > 0.5) pairs.push([label(a), label(b)]);
          }
          return pairs;
        }""",
        [scope, CONTROLS],
    )


def controls_out_of_their_box(page: Page, scope: str) -> list[str]:
    """Controls of `scope` wider than their field (or the form): what runs into the next one."""
    return page.evaluate(
        """([scope, selector]) => [...document.querySelectorAll(scope + ' :is(' + selector + ')')]
          .filter(e => {
            const r = e.getBoundingClientRect();
            if (r.width <= 1 || r.height <= 1) return false;
            const box = (e.parentElement.closest('.field') || e.closest('form'))
              .getBoundingClientRect();
            return r.left < box.left - 0.5 || r.right > box.right + 0.5;
          })
          .map(e => e.name || e.textContent.trim())""",
        [scope, CONTROLS],
    )


def top_of(page: Page, selector: str) -> float:
    """Where `selector` starts, from the top of the page (the page scrolled to its top)."""
    page.evaluate("() => window.scrollTo(0, 0)")
    return page.locator(selector).first.evaluate("e => e.getBoundingClientRect().top")


def assert_inside_the_screen(page: Page, locator, what: str) -> None:
    box = locator.evaluate(
        "e => { const r = e.getBoundingClientRect(); return [r.top, r.bottom]; }"
    )
    height = page.viewport_size["height"]
    assert box[0] >= 0 and box[1] <= height, f"{what}: {box} on a screen {height} px tall"


# --- the console: one tap to the record -----------------------------------------------------------


def call(page: Page) -> int:
    page.locator("button[data-call-next]").click()
    number = page.locator("#my-desk [data-queue-number]")
    expect(number).to_have_count(1)
    return int(number.get_attribute("data-queue-number"))


def test_the_nurse_opens_the_called_donor_in_one_tap_and_by_number(browser: Browser, server):
    first = register(server, "Salma", "Idrissi")[1]
    second = register(server, "Youssef", "Alaoui")[1]
    with device(browser) as phone:
        log_in(phone, server, "infirmiere")
        pick_desk(phone, server, "Médecin 1")
        phone.goto(f"{server}/staff/queue/interview?lang=fr")
        assert call(phone) == first
        phone.screenshot(path=ARTIFACTS / "phone-console-fr.png", full_page=True)
        assert small_targets(phone) == []
        assert_nothing_sticks_out(phone)

        # One tap on the number being served: the donor's record, keyed by a row id.
        phone.locator("#my-desk a.record-link").tap()
        phone.wait_for_url(RECORD_URL)
        record = phone.locator("main.record")
        expect(record).to_have_attribute("data-status", "interview")
        expect(record.locator(".record-head [data-queue-number]")).to_have_attribute(
            "data-queue-number", str(first)
        )
        assert top_of(phone, "form#screening") < PHONE["height"]

        # The waiting list's numbers are links too.
        phone.go_back()
        phone.locator(f"#waiting li[data-queue-number='{second}'] a.record-link").tap()
        phone.wait_for_url(RECORD_URL)
        expect(phone.locator(".record-head [data-queue-number]")).to_have_attribute(
            "data-queue-number", str(second)
        )

        # The number typed into the scan field, as people type it.
        for typed in (f"{first:03d}", f"#{first}", f" {first} "):
            phone.goto(f"{server}/staff/queue/interview")
            phone.fill("#scan-code", typed)
            phone.press("#scan-code", "Enter")
            phone.wait_for_url(RECORD_URL)
            expect(phone.locator(".record-head [data-queue-number]")).to_have_attribute(
                "data-queue-number", str(first)
            )

        # A number nobody has: a message in the page's language, and the typed text kept.
        phone.fill("#scan-code", "987")
        phone.press("#scan-code", "Enter")
        expect(phone.locator("#desk-picker [role=alert]")).to_contain_text("987")
        expect(phone.locator("#scan-code")).to_have_value("987")
        phone.screenshot(path=ARTIFACTS / "phone-scan-unknown-fr.png", full_page=True)


# --- the record: the stage's form first -----------------------------------------------------------


def check_record(page: Page, url: str, form: str, name: str) -> None:
    """In each language at 390 px: the form within the first screen, screenshots, targets of 44
    px; at 360 px: no control over another."""
    for language, direction in LANGUAGES.items():
        page.set_viewport_size(PHONE)
        page.goto(f"{url}?lang={language}")
        expect(page.locator("html")).to_have_attribute("dir", direction)
        expect(page.locator(form)).to_be_visible()
        top = top_of(page, form)
        assert top < PHONE["height"] - 100, f"{name} {language}: the form starts at {top} px"
        page.screenshot(path=ARTIFACTS / f"phone-{name}-{language}.png")
        page.screenshot(path=ARTIFACTS / f"phone-{name}-{language}-whole.png", full_page=True)
        assert_nothing_sticks_out(page)
        assert small_targets(page) == [], language

        for viewport in (PHONE, NARROW_PHONE):
            page.set_viewport_size(viewport)
            page.goto(f"{url}?lang={language}")
            width = viewport["width"]
            assert_nothing_sticks_out(page)
            assert overlapping_controls(page, form) == [], (language, width)
            assert controls_out_of_their_box(page, form) == [], (language, width)
            times = page.locator(f"{form} input[name=started_at], {form} input[name=ended_at]")
            if times.count() == 2:
                first, second = (times.nth(i).bounding_box() for i in range(2))
                apart = (
                    first["x"] + first["width"] <= second["x"] + 0.5
                    or second["x"] + second["width"] <= first["x"] + 0.5
                    or first["y"] + first["height"] <= second["y"] + 0.5
                )
                assert apart, (language, width, first, second)
        page.screenshot(path=ARTIFACTS / f"phone-360-{name}-{language}.png", full_page=True)


def test_the_record_starts_with_the_form_of_the_stage(browser: Browser, server):
    _, number = register(server, "Nadia", "Bennani", sex="F")
    with device(browser) as doctor:
        log_in(doctor, server, "infirmiere")
        pick_desk(doctor, server, "Médecin 1")
        serve_until(doctor, server, number)
        doctor.locator("#my-desk a.record-link").tap()
        doctor.wait_for_url(RECORD_URL)
        url = doctor.url.split("?")[0]
        check_record(doctor, url, "form#screening", "record-interview")
        doctor.set_viewport_size(PHONE)
        doctor.goto(url)
        screen(doctor)
        expect(doctor.locator("main.record")).to_have_attribute("data-status", "waiting_collection")

    with device(browser) as chair:
        log_in(chair, server, "prelevement")
        pick_desk(chair, server, "Fauteuil 1", stage="collection")
        call(chair)  # whoever is first at the chair: the donors of the test before come first
        chair.locator("#my-desk a.record-link").tap()
        chair.wait_for_url(RECORD_URL)
        expect(chair.locator("main.record")).to_have_attribute("data-status", "collection")
        check_record(chair, chair.url.split("?")[0], "form#donation", "record-collection")


def serve_until(page: Page, server: str, number: int) -> None:
    """Screens whoever the desk serves (the donors of the test before) until `number` is called."""
    serving = page.locator("#my-desk [data-queue-number]")
    while not serving.count() or int(serving.get_attribute("data-queue-number")) != number:
        if not serving.count():
            call(page)
            continue
        page.locator("#my-desk a.record-link").tap()
        page.wait_for_url(RECORD_URL)
        screen(page)
        page.goto(f"{server}/staff/queue/interview")


def screen(page: Page) -> None:
    for name, value in SCREENING.items():
        page.fill(f"#screening input[name={name}]", value)
    page.locator("label.choice:has(input[name=decision][value=eligible])").tap()
    page.fill("#screening textarea[name=note]", "Vu et examiné : apte.")  # if the rules differ
    page.locator("#screening button[type=submit]").click()
    page.wait_for_load_state()
    errors = page.locator(".field-error, .form-error")
    assert not errors.count(), errors.all_inner_texts()
    expect(page.locator("form#screening")).to_have_count(0)


# --- the kiosk on a tablet held sideways ----------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_next_is_on_screen_at_every_step_in_landscape(browser: Browser, server, language):
    donor = Donor("Fatima", "Zahraoui", cin=unique_cin("LS"))
    with device(browser, TABLET_LANDSCAPE) as tablet:
        tablet.goto(f"{server}/kiosk?lang={language}")
        start = tablet.locator("a[href='/kiosk/register']")
        assert_inside_the_screen(tablet, start, "language step")
        tablet.screenshot(path=ARTIFACTS / f"landscape-language-{language}.png")
        start.click()
        steps = {
            "identity": lambda: fill_identity(tablet, donor),
            "contact": lambda: fill_contact(tablet, donor),
            "questionnaire": lambda: answer_questionnaire(tablet),
            "consent": lambda: give_consent(tablet),
            "review": lambda: None,
        }
        following = [*list(steps)[1:], None]
        for (step, fill), after in zip(steps.items(), following, strict=True):
            expect(wizard_step(tablet)).to_have_attribute("data-step", step)
            tablet.evaluate("() => window.scrollTo(0, 0)")
            assert_inside_the_screen(tablet, next_button(tablet), f"{step}, {language}")
            tablet.screenshot(path=ARTIFACTS / f"landscape-{step}-{language}.png")
            fill()
            # After filling (the page scrolled as the fields were reached): still on screen.
            assert_inside_the_screen(tablet, next_button(tablet), f"{step} filled, {language}")
            back = tablet.locator(".actions button[name=go][value=back]")
            if back.count():
                assert_inside_the_screen(tablet, back, f"{step} back, {language}")
            if after:
                go_next(tablet, after)
        next_button(tablet).click()
        tablet.wait_for_url(re.compile(r"/ticket/"))


def test_the_field_being_typed_stays_above_the_keyboard(browser: Browser, server):
    """The keyboard takes the bottom of the screen (the page is resized with it): the field keeps
    above it and above the button bar, with the page's CSS alone and with its script."""
    with device(browser, TABLET_LANDSCAPE) as tablet:
        tablet.goto(f"{server}/kiosk/register?lang=fr")
        expect(wizard_step(tablet)).to_have_attribute("data-step", "identity")
        bar = tablet.locator("form#wizard > .actions")
        with_keyboard = {"width": 1280, "height": 420}

        def visible_above_the_bar(selector: str) -> None:
            field = tablet.locator(selector).evaluate(
                "e => { const r = e.getBoundingClientRect(); return [r.top, r.bottom]; }"
            )
            top_of_bar = bar.evaluate("e => e.getBoundingClientRect().top")
            assert field[0] >= 0 and field[1] <= top_of_bar, (selector, field, top_of_bar)

        # Focus moves to a field once the keyboard is up (Tab, or "next" on the keyboard).
        tablet.set_viewport_size(with_keyboard)
        for selector in ("input[name=cin]", "input[name=birth_year]", "input[name=last_name]"):
            tablet.focus(selector)
            visible_above_the_bar(selector)
        tablet.screenshot(path=ARTIFACTS / "landscape-keyboard-fr.png")

        # A field tapped first, then the keyboard comes up over it.
        tablet.set_viewport_size(TABLET_LANDSCAPE)
        tablet.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
        tablet.focus("input[name=last_name]")
        tablet.set_viewport_size(with_keyboard)
        tablet.wait_for_timeout(300)
        visible_above_the_bar("input[name=last_name]")
