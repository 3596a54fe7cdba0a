"""The scripted donor: how long the kiosk takes a donor who is neither quick nor slow.

    python -m bench.donor_pace [--languages ar,fr]

A donor in Chromium (Debian's, headless) waits 150 ms before each action and types 5 characters a
second. Per language: a first-time donor registers from the start page to the ticket, answering
every question (a woman: every question is hers); then, at the next campaign, the same donor comes
back, gives her CIN and birth date, taps "find my details", checks, answers the questionnaire
again (it is asked at every donation) and takes her ticket. Printed per run: screens seen, taps,
characters typed, seconds. The issue's targets (first time ≤ 90 s, returning ≤ 20 s) are printed
beside the figures, never asserted: the figure depends on the machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from kiosk.config import DEFAULTS
from tests.server import run_kiosk, running_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PAUSE_MS = 150  # between two actions
KEY_DELAY_MS = 200  # 5 characters a second
TARGETS = {"first time": 90.0, "returning": 20.0}


@dataclass
class Donor:
    """A scripted donor: counts what she does."""

    page: Page
    taps: int = 0
    typed: int = 0
    screens: list[str] = field(default_factory=list)

    def tap(self, selector: str) -> None:
        self.page.wait_for_timeout(PAUSE_MS)
        self.page.locator(selector).first.click()
        self.taps += 1

    def type(self, selector: str, text: str) -> None:
        self.page.wait_for_timeout(PAUSE_MS)
        self.page.locator(selector).first.click()
        self.taps += 1
        self.page.keyboard.type(text, delay=KEY_DELAY_MS)
        self.typed += len(text)

    def choose(self, selector: str, value: str) -> None:
        self.page.wait_for_timeout(PAUSE_MS)
        self.page.locator(selector).select_option(value)
        self.taps += 2  # open the list, pick the month

    def saw(self, name: str) -> None:
        self.screens.append(name)

    def next_step(self, expected: str) -> None:
        self.tap(".actions button[name=go][value=next]")
        self.page.locator(f"form#wizard[data-step={expected}]").wait_for()
        self.saw(expected)


def identity(donor: Donor, cin: str) -> None:
    donor.type("input[name=cin]", cin)
    donor.type("input[name=birth_day]", "17")
    donor.choose("select[name=birth_month]", "5")
    donor.type("input[name=birth_year]", "1990")


def questionnaire(donor: Donor) -> None:
    for fieldset in donor.page.locator("fieldset[data-question]").all():
        expected = fieldset.get_attribute("data-expected")
        answer = expected if expected in ("yes", "no") else "no"
        code = fieldset.get_attribute("data-question")
        donor.tap(f"fieldset[data-question={code}] input[value={answer}] >> xpath=..")


def finish(donor: Donor) -> None:
    donor.next_step("consent")
    donor.tap("input[name=consent]")
    donor.next_step("review")
    donor.tap(".actions button[name=go][value=next]")
    donor.page.wait_for_url("**/ticket/**")
    donor.saw("ticket")


def start(page: Page, base_url: str, language: str) -> Donor:
    page.goto(f"{base_url}/kiosk?lang={language}")
    donor = Donor(page)
    donor.saw("start")
    donor.tap("a[href='/kiosk/register']")
    page.locator("form#wizard[data-step=identity]").wait_for()
    donor.saw("identity")
    return donor


def first_time(page: Page, base_url: str, language: str, cin: str) -> Donor:
    donor = start(page, base_url, language)
    identity(donor, cin)
    donor.type("input[name=first_name]", "Salma")
    donor.type("input[name=last_name]", "Amrani")
    donor.tap("input[name=sex][value=F]")
    donor.next_step("contact")
    donor.type("input[name=phone]", "0612345678")
    donor.tap("input[name=category][value=civil_servant]")
    donor.next_step("questionnaire")
    questionnaire(donor)
    finish(donor)
    return donor


def returning(page: Page, base_url: str, language: str, cin: str) -> Donor:
    donor = start(page, base_url, language)
    identity(donor, cin)
    donor.tap("button[name=go][value=lookup]")
    page.locator("input[name=first_name][value=Salma]").wait_for()
    donor.saw("identity, found")
    donor.next_step("contact")
    donor.next_step("questionnaire")
    questionnaire(donor)
    finish(donor)
    return donor


def timed(run, *args) -> tuple[Donor, float]:
    began = time.perf_counter()
    donor = run(*args)
    return donor, time.perf_counter() - began


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.donor_pace", description=__doc__)
    parser.add_argument("--languages", default=",".join(DEFAULTS["LANGUAGES"]))
    languages = parser.parse_args(argv).languages.split(",")
    rows = []
    with tempfile.TemporaryDirectory() as folder, running_server(Path(folder)) as base_url:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            cins = {language: f"BP{100_000 + n}" for n, language in enumerate(languages)}
            for language in languages:
                rows.append(
                    (
                        "first time",
                        language,
                        *timed(first_time, page, base_url, language, cins[language]),
                    )
                )
            # The next campaign: the same donors come back.
            run_kiosk(base_url.instance, "campaign", "close", "--yes")
            run_kiosk(base_url.instance, "campaign", "open", "--name", "Next", "--site", "Khénifra")
            for language in languages:
                rows.append(
                    (
                        "returning",
                        language,
                        *timed(returning, page, base_url, language, cins[language]),
                    )
                )
            browser.close()
    print(
        f"Scripted donor: {PAUSE_MS} ms before each action, "
        f"{1000 // KEY_DELAY_MS} characters a second"
    )
    print(
        f"{'donor':<11} {'lang':<5} {'screens':>7} {'taps':>5} {'typed':>6} {'seconds':>8}  target"
    )
    for kind, language, donor, seconds in rows:
        print(
            f"{kind:<11} {language:<5} {len(donor.screens):>7} {donor.taps:>5} {donor.typed:>6} "
            f"{seconds:>8.1f}  ≤ {TARGETS[kind]:.0f} s"
        )


if __name__ == "__main__":
    main()
