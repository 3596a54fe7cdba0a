"""Numbers and Latin runs inside Arabic text read in their own order, measured on screen.

In an Arabic paragraph, "09-08" after an Arabic word is two Arabic numbers around a neutral dash,
and the browser draws them right to left: "08-09". The phone example's groups turn round the same
way ("78 56 34 12 06"). Isolating the run (Unicode LRI … PDI in the message, <bdi> in a template)
keeps it in its written order. These tests find the run's text node, take each character's box
with a DOM Range, and check that the characters stand left to right on one line.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.kiosk_pages import (
    Donor,
    answer_questionnaire,
    field_error,
    fill_contact,
    fill_identity,
    give_consent,
    go_next,
    next_button,
    open_registration,
    unique_cin,
    wizard_step,
)

LAW = "09-08"
PHONE_EXAMPLE = "06 12 34 56 78"

# Every character of the first text node under `root` holding `run`: its box on screen.
CHARACTER_BOXES = """([root, run]) => {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    // A no-break space or hyphen (kept on one line) stands for the space or dash it looks like.
    const text = node.data.replace(/\u00a0/g, " ").replace(/\u2011/g, "-");
    const start = text.indexOf(run);
    if (start < 0) { continue; }
    const boxes = [];
    for (let i = start; i < start + run.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const box = range.getBoundingClientRect();
      boxes.push({character: text[i], left: box.left, right: box.right, top: box.top,
                  bottom: box.bottom});
    }
    return boxes;
  }
  return null;
}"""


def assert_reads_left_to_right(page: Page, selector: str, run: str) -> None:
    root = page.locator(selector).first
    expect(root).to_be_visible()
    boxes = root.evaluate("(root, run) => (" + CHARACTER_BOXES + ")([root, run])", run)
    assert boxes is not None, f"{run!r} is not written as one piece of text in {selector}"
    order = "".join(box["character"] for box in sorted(boxes, key=lambda box: box["left"]))
    assert order == run, f"{run!r} is shown as {order!r} in {selector}"
    for before, after in zip(boxes, boxes[1:], strict=False):
        assert before["left"] < after["left"], (run, selector, before, after)
        # On one line: a run broken at its dash reads "09-" here and "08" there.
        assert abs(before["top"] - after["top"]) < 2, (run, selector, before, after)


@pytest.fixture(
    params=[{"width": 1280, "height": 800}, {"width": 390, "height": 844}], ids=["tablet", "phone"]
)
def sized_page(page: Page, request) -> Page:
    page.set_viewport_size(request.param)
    return page


def test_the_law_number_reads_in_order_on_the_arabic_start_page(sized_page: Page):
    sized_page.goto("/kiosk?lang=ar")
    expect(sized_page.locator("html")).to_have_attribute("dir", "rtl")
    assert_reads_left_to_right(sized_page, ".notice", LAW)


def test_the_phone_example_and_the_law_number_read_in_order_in_the_arabic_wizard(
    sized_page: Page,
):
    page = sized_page
    donor = Donor("سلمى", "العلوي", cin=unique_cin("RT"))
    open_registration(page, "ar")
    fill_identity(page, donor)
    go_next(page, "contact")
    assert_reads_left_to_right(page, "#hint-phone", PHONE_EXAMPLE)

    page.fill("input[name=phone]", "12")
    page.check(f"input[name=category][value={donor.category}]")
    next_button(page).click()
    expect(field_error(page, "phone")).to_be_visible()
    assert_reads_left_to_right(page, "#err-phone", PHONE_EXAMPLE)

    fill_contact(page, donor)
    go_next(page, "questionnaire")
    answer_questionnaire(page)
    go_next(page, "consent")
    expect(wizard_step(page)).to_have_attribute("data-step", "consent")
    assert_reads_left_to_right(page, ".notice", LAW)
    give_consent(page)
