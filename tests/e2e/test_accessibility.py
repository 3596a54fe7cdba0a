"""Accessibility of every page a donor sees, in every language of the kiosk: axe-core (vendored
under tests/vendor, injected by the test, never served by the app) finds no serious or critical
violation, colour contrast included (WCAG AA); every touch target is at least 48 × 48 CSS px,
measured in the browser.

The pages: the start page, each step of the wizard (and the identity step with its messages),
the "already registered" page, the ticket and the ticket's /t/ page."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from kiosk.config import DEFAULTS
from tests.e2e.kiosk_pages import (
    TICKET_URL,
    Donor,
    answer_questionnaire,
    fill_contact,
    fill_identity,
    give_consent,
    go_next,
    next_button,
    open_registration,
    unique_cin,
)

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe-core-4.14.1" / "axe.min.js"
LANGUAGES = tuple(DEFAULTS["LANGUAGES"])
MIN_TARGET = 48  # CSS px (WCAG 2.5.5 AAA, and the promise)

# Every control a finger may aim at; a radio or a checkbox is aimed at through its label.
TOUCH_TARGETS = """
() => {
  const small = [];
  const seen = new Set();
  const controls = "a[href], button, input:not([type=hidden]), select, textarea, summary, "
    + "[role=button]";
  document.querySelectorAll(controls).forEach((control) => {
    if (control.closest(".visually-hidden, [hidden], [aria-hidden=true]")) { return; }
    const target = control.matches("input[type=radio], input[type=checkbox]")
      ? (control.closest("label") || control) : control;
    if (seen.has(target)) { return; }
    seen.add(target);
    const box = target.getBoundingClientRect();
    const style = getComputedStyle(target);
    if ((box.width === 0 && box.height === 0) || style.visibility === "hidden") { return; }
    if (box.width < MIN - 0.5 || box.height < MIN - 0.5) {
      small.push(`${target.tagName.toLowerCase()}${target.name ? "[name=" + target.name + "]" : ""}`
        + ` "${(target.textContent || target.value || "").trim().slice(0, 30)}"`
        + ` ${Math.round(box.width)}×${Math.round(box.height)}`);
    }
  });
  return small;
}
""".replace("MIN", str(MIN_TARGET))

AXE_RUN = """
async () => {
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): `
      + v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", "));
}
"""


@pytest.fixture
def page(browser, base_url):
    """A tablet-sized page that lets the test inject axe-core (the app's policy forbids any script
    not served by itself, rightly)."""
    context = browser.new_context(
        base_url=base_url, bypass_csp=True, viewport={"width": 1280, "height": 800}
    )
    # A voice for every language: the listen buttons show, and are checked like the rest.
    voices = ", ".join(f'{{lang: "{code}-MA", name: "{code}"}}' for code in LANGUAGES)
    context.add_init_script(
        "Object.defineProperty(window, 'speechSynthesis', {value: {getVoices: () => ["
        + voices
        + "], speak() {}, cancel() {}, addEventListener() {}}});"
    )
    page = context.new_page()
    yield page
    context.close()


def problems_on(page: Page, name: str) -> list[str]:
    page.wait_for_load_state()
    page.add_script_tag(path=str(AXE))
    found = [f"{name}: {problem}" for problem in page.evaluate(AXE_RUN)]
    found += [f"{name}: touch target {target}" for target in page.evaluate(TOUCH_TARGETS)]
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_donor_page_passes_axe_and_has_large_targets(page: Page, language, artifacts):
    problems = []
    page.goto(f"/kiosk?lang={language}")
    expect(page.locator("[data-listen=start]")).to_be_visible()
    problems += problems_on(page, "start")
    page.screenshot(path=artifacts / f"accessibility-start-{language}.png")

    donor = Donor("Salma", "Amrani", cin=unique_cin("AX"))
    open_registration(page, language)
    next_button(page).click()  # nothing typed: the step with its messages
    expect(page.locator(".field-error").first).to_be_visible()
    problems += problems_on(page, "identity with errors")
    fill_identity(page, donor)
    problems += problems_on(page, "identity")
    go_next(page, "contact")
    fill_contact(page, donor)
    problems += problems_on(page, "contact")
    go_next(page, "questionnaire")
    problems += problems_on(page, "questionnaire")
    page.screenshot(path=artifacts / f"accessibility-questionnaire-{language}.png")
    answer_questionnaire(page)
    go_next(page, "consent")
    problems += problems_on(page, "consent")
    give_consent(page)
    go_next(page, "review")
    problems += problems_on(page, "review")
    next_button(page).click()
    page.wait_for_url(TICKET_URL)
    token = TICKET_URL.search(page.url).group(1)
    problems += problems_on(page, "ticket")
    page.screenshot(path=artifacts / f"accessibility-ticket-{language}.png", full_page=True)

    page.goto(f"/t/{token}?lang={language}")
    problems += problems_on(page, "/t/ page")

    # The same CIN again: the "already registered" page.
    open_registration(page, language)
    fill_identity(page, donor)
    page.locator("button[name=go][value=lookup]").click()
    expect(page.locator("[data-already-registered]")).to_be_visible()
    problems += problems_on(page, "already registered")

    assert not problems, "\n".join(problems)
