"""The coordinator downloads the day's bundle from the coordinator's page, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from kiosk.domain.exchange.verify import verify_bundle
from tests.e2e.staff_pages import LAPTOP, PHONE, assert_nothing_sticks_out, log_in, register
from tests.server import running_server
from tests.support.staff_http import add_staff_and_desks

PASSPHRASE = "thé à la menthe 2026"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("export-server")) as base_url:
        add_staff_and_desks(base_url.instance, {"coordination": "coordinator"}, {})
        for _ in range(2):
            register(base_url)
        yield base_url


def export_panel(page: Page):
    return page.locator("section.export-download")


def test_the_coordinator_downloads_an_encrypted_bundle(page: Page, server, artifacts, tmp_path):
    log_in(page, server, "coordination")
    page.set_viewport_size(LAPTOP)
    page.goto(f"{server}/staff/admin")
    panel = export_panel(page)
    expect(panel).to_be_visible()
    panel.locator("input[name=passphrase]").fill(PASSPHRASE)
    panel.locator("input[name=passphrase_again]").fill(PASSPHRASE)
    with page.expect_download() as download_info:
        panel.locator("button[type=submit]").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".zip")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    report = verify_bundle(saved.read_bytes(), PASSPHRASE)
    assert report.ok and report.encrypted, report.problems
    page.set_viewport_size(PHONE)
    export_panel(page).screenshot(path=artifacts / "staff-admin-export-phone.png")
    assert_nothing_sticks_out(page)


def test_two_passphrases_that_differ_give_the_message_by_the_field(page: Page, server):
    log_in(page, server, "coordination")
    page.goto(f"{server}/staff/admin")
    panel = export_panel(page)
    panel.locator("input[name=passphrase]").fill(PASSPHRASE)
    panel.locator("input[name=passphrase_again]").fill(PASSPHRASE + "!")
    panel.locator("button[type=submit]").click()
    expect(page.locator("#err-export-passphrase")).to_contain_text("diffèrent")
    expect(page.locator("input[name=passphrase]")).to_have_value("")
