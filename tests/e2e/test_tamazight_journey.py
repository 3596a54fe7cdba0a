"""A first-time registration in Tamazight (zgh, Tifinagh), in a real browser, ending on the
ticket: every screen says lang="zgh" dir="ltr", draws its Tifinagh with a real font (the vendored
Noto Sans Tifinagh, not boxes), shows a pictogram beside each question, and has no Latin or
English word left in what the donor reads, apart from the codes a donor types or reads as such.
Screenshots are saved under test-artifacts/e2e/ (zgh-*.png)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.kiosk_pages import (
    Donor,
    answer_questionnaire,
    expect_ticket_for,
    fill_contact,
    fill_identity,
    get_ticket,
    give_consent,
    go_next,
    open_registration,
    questions,
    unique_cin,
    wizard_step,
)

LATIN_WORD = re.compile(r"[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*")
# Codes, not words: the hepatitis B and C virus letters in a question, the CIN example. The other
# languages' buttons name themselves (lang="ar", lang="fr") and are left out with every text
# marked as another language's, and so is the campaign's name, typed by the coordinator.
ALLOWED_CODES = {"B", "C", "AB123456"}


def latin_words(page: Page, allowed: set[str]) -> set[str]:
    text = page.evaluate(
        """() => {
          const skip = el => el.closest(
            ".campaign-name, .ticket-campaign, [lang=ar], [lang=fr], .visually-hidden");
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          const parts = [];
          while (walker.nextNode()) {
            const node = walker.currentNode, el = node.parentElement;
            if (!el || skip(el) || !el.getClientRects().length) continue;
            if (getComputedStyle(el).visibility === 'hidden') continue;
            parts.push(node.textContent);
          }
          document.querySelectorAll('button, option:checked').forEach(
            el => { if (!skip(el)) parts.push(el.innerText || ''); });
          return parts.join(' ');
        }"""
    )
    return set(LATIN_WORD.findall(text)) - allowed


def tifinagh_font_is_used(page: Page) -> bool:
    """The vendored font loaded and covers the Tifinagh block: no device falls back to boxes."""
    return page.evaluate(
        """async () => {
          await document.fonts.ready;
          const loaded = [...document.fonts].some(
            face => face.family.replace(/"/g, '') === 'Nabd Tifinagh' && face.status === 'loaded');
          return loaded && document.fonts.check('16px "Nabd Tifinagh"', 'ⵜⴰⵎⴰⵣⵉⵖⵜ');
        }"""
    )


def no_box_glyphs(page: Page) -> bool:
    """Each Tifinagh letter on the page is drawn wider than nothing and unlike the font's
    missing-glyph box (compared on a canvas with the same font)."""
    return page.evaluate(
        """() => {
          const letters = [...new Set(document.body.innerText.match(/[\\u2D30-\\u2D7F]/g) || [])];
          const canvas = document.createElement('canvas'); canvas.width = 64; canvas.height = 64;
          const ctx = canvas.getContext('2d', {willReadFrequently: true});
          const picture = ch => { ctx.clearRect(0, 0, 64, 64); ctx.font = '40px "Nabd Tifinagh"';
            ctx.fillText(ch, 8, 48); return ctx.getImageData(0, 0, 64, 64).data.join(','); };
          const box = picture('\\uE000');
          return letters.length > 10 && letters.every(ch => picture(ch) !== box);
        }"""
    )


def check_screen(page: Page, artifacts, shot: str, allowed: set[str]) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "zgh")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    assert tifinagh_font_is_used(page), f"{shot}: the Tifinagh font is not used"
    assert no_box_glyphs(page), f"{shot}: a Tifinagh letter is drawn as a box"
    page.screenshot(path=artifacts / f"zgh-{shot}.png", full_page=True)
    left = latin_words(page, allowed)
    assert not left, f"{shot}: Latin words on a Tamazight page: {sorted(left)}"


def test_a_first_registration_in_tamazight_ends_on_the_ticket(page: Page, artifacts):
    # An Arabic-script name, as on the CIN; the CIN and the phone are codes, not words.
    donor = Donor("يطو", "أوحمو", sex="F", cin=unique_cin("ZG"), birth_date="1994-03-08")
    allowed = ALLOWED_CODES | {donor.cin}

    page.goto("/kiosk?lang=fr")
    page.locator("a.language[lang=zgh]").click()
    page.wait_for_url("**/kiosk?lang=zgh")
    check_screen(page, artifacts, "1-start", allowed)

    open_registration(page, "zgh")
    fill_identity(page, donor)
    check_screen(page, artifacts, "2-identity", allowed)
    go_next(page, "contact")
    fill_contact(page, donor)
    check_screen(page, artifacts, "3-contact", allowed)
    go_next(page, "questionnaire")
    # One look at every question (the kiosk goes back to its start when left idle): a
    # pictogram beside each, drawn (not a broken image) and decorative; yes and no at least
    # 48 × 48 CSS px.
    page.wait_for_function(
        "[...document.querySelectorAll('img.pictogram')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    seen = questions(page).evaluate_all(
        """sets => sets.map(set => {
          const img = set.querySelector('img.pictogram');
          const sizes = [...set.querySelectorAll('label.choice')].map(label => {
            const box = label.getBoundingClientRect(); return [box.width, box.height]; });
          return {code: set.dataset.question, alt: img && img.getAttribute('alt'),
                  drawn: !!img && img.complete && img.naturalWidth > 0, sizes};
        })"""
    )
    assert len(seen) >= 14
    for question in seen:
        assert question["alt"] == "" and question["drawn"], question
        assert len(question["sizes"]) == 2, question
        assert all(width >= 48 and height >= 48 for width, height in question["sizes"]), question
    answer_questionnaire(page)
    check_screen(page, artifacts, "4-questionnaire", allowed)
    go_next(page, "consent")
    expect(page.locator(".data-story img")).to_have_count(4)
    check_screen(page, artifacts, "5-consent", allowed)
    give_consent(page)
    go_next(page, "review")
    expect(wizard_step(page)).to_contain_text(donor.first_name)
    check_screen(page, artifacts, "6-review", allowed)

    get_ticket(page)
    expect_ticket_for(page, donor)
    check_screen(page, artifacts, "7-ticket", allowed)
