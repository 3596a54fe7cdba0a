"""A donor registers in Arabic at a kiosk whose thermal printer is unplugged: the ticket page says
the ticket will print when the printer is back and still shows the QR code; once the printer is
plugged in, the same page says, by itself, that the ticket is printed. One ticket comes out."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.kiosk_pages import (
    TICKET_URL,
    Donor,
    answer_questionnaire,
    fill_contact,
    fill_identity,
    give_consent,
    go_next,
    next_button,
    unique_cin,
)
from tests.server import running_server

INIT = b"\x1b@"


@pytest.fixture
def printer_folder(tmp_path):
    return tmp_path / "printer"


@pytest.fixture
def printing_server(tmp_path, printer_folder):
    env = {"KIOSK_PRINTER": f"file:{printer_folder / 'lp0'}", "KIOSK_IDLE_SECONDS": "600"}
    with running_server(tmp_path, **env) as url:
        yield url


def test_an_unplugged_printer_keeps_the_ticket_and_prints_it_when_back(
    page: Page, printing_server, printer_folder, artifacts
):
    donor = Donor("فاطمة", "الزهراء", sex="F", cin=unique_cin("PR"), category="citizen")
    page.goto(f"{printing_server}/kiosk/register?lang=ar")
    fill_identity(page, donor)
    go_next(page, "contact")
    fill_contact(page, donor)
    go_next(page, "questionnaire")
    answer_questionnaire(page, None)
    go_next(page, "consent")
    give_consent(page)
    go_next(page, "review")
    next_button(page).click()
    page.wait_for_url(TICKET_URL)

    status = page.locator("#print-status")
    expect(status).to_have_attribute("data-print-status", "waiting", timeout=15_000)
    expect(status).to_contain_text("عند عودة الطابعة")
    expect(page.locator(".ticket .qr svg")).to_be_visible()
    page.screenshot(path=artifacts / "printing-waiting-ar.png", full_page=True)

    printer_folder.mkdir()  # plugged in
    expect(status).to_have_attribute("data-print-status", "printed", timeout=60_000)
    expect(status).to_contain_text("طُبعت تذكرتك")
    page.screenshot(path=artifacts / "printing-printed-ar.png", full_page=True)
    assert (printer_folder / "lp0").read_bytes().count(INIT) == 1
