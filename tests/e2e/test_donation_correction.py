"""The coordinator corrects a donation record in a real browser, after the day is closed.

A donor goes through the interview and the donation, the coordinator closes the campaign day,
opens the record, corrects the bag number and the volume, and reads the notice and the history
line naming the fields changed. A correction no donor can show (5000 mL) is refused next to the
field, and the stored values stay. In French and in Arabic, with screenshots in test-artifacts/e2e
for a person to look at.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.kiosk_pages import VENUE
from tests.e2e.record_pages import (
    LANGUAGES,
    device,
    open_record,
    record,
    submit,
    type_measurements,
)
from tests.e2e.staff_pages import (
    PHONE,
    assert_nothing_sticks_out,
    call_next,
    log_in,
    pick_desk,
    register,
)
from tests.server import running_server
from tests.support.staff_http import add_staff_and_desks

STAFF = {"medecin": "doctor", "prelevement": "phlebotomist", "coordination": "coordinator"}
DESKS = {"Médecin 1": "interview", "Fauteuil 1": "collection"}
BAG = "G123498654321"
CORRECTED_BAG = "G123498654322"
# What the history line says in each language (kiosk/web/messages.py, the .po catalogues).
CORRECTED_LINE = {
    "fr": "Fiche du don corrigée (Numéro de poche et Volume (mL))",
    "ar": "تم تصحيح سجل التبرع (رقم الكيس والحجم (مل))",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("correction-server")) as base_url:
        add_staff_and_desks(base_url.instance, STAFF, DESKS)
        yield base_url


def donate(browser: Browser, server: str, token: str, number: int) -> None:
    """The doctor accepts the donor; the phlebotomist records 450 mL in bag BAG."""
    with device(browser) as doctor:
        log_in(doctor, server, "medecin")
        pick_desk(doctor, server, "Médecin 1")
        assert call_next(doctor) == number
        open_record(doctor, server, token)
        type_measurements(doctor)
        doctor.check("input[name=decision][value=eligible]")
        submit(doctor, "#screening", f"/staff/visits/{token}/screening")
        expect(record(doctor)).to_have_attribute("data-status", "waiting_collection")

    with device(browser) as chair:
        log_in(chair, server, "prelevement")
        pick_desk(chair, server, "Fauteuil 1", stage="collection")
        assert call_next(chair) == number
        open_record(chair, server, token)
        now = datetime.now(VENUE)
        started = max(now - timedelta(minutes=9), now.replace(hour=0, minute=0, second=0))
        form = chair.locator("form#donation")
        form.locator("input[name=bag_number]").fill(BAG)
        form.locator("input[name=volume_ml]").fill("450")
        form.locator("input[name=started_at]").fill(started.strftime("%H:%M"))
        form.locator("input[name=ended_at]").fill(now.strftime("%H:%M"))
        submit(chair, "#donation", f"/staff/visits/{token}/donation")
        expect(record(chair)).to_have_attribute("data-status", "rest")
        # The phlebotomist may not correct: the panel is the coordinator's.
        expect(chair.locator("details.correction")).to_have_count(0)


def close_the_day(page: Page, server: str) -> None:
    page.goto(f"{server}/staff/admin?lang=fr")
    close = page.locator("form[action$='/admin/close']")
    close.locator("input[name=confirm]").check()
    close.locator("button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("form[action$='/admin/close']")).to_have_count(0)


def correction_panel(page: Page):
    return page.locator("details.correction")


def correction_form(page: Page):
    return page.locator("form#donation-correction")


def stored(page: Page) -> tuple[str, str]:
    """The bag number and the volume the record shows as stored."""
    bag = page.locator("[data-bag-number]")
    volume = page.locator("[data-volume-ml]")
    return bag.get_attribute("data-bag-number"), volume.get_attribute("data-volume-ml")


def open_the_correction(page: Page) -> None:
    panel = correction_panel(page)
    expect(panel).not_to_have_attribute("open", "")
    expect(correction_form(page)).to_be_hidden()
    panel.locator("summary").click()
    expect(correction_form(page)).to_be_visible()


def screenshot(page: Page, artifacts, name: str) -> None:
    page.screenshot(path=artifacts / f"{name}.png", full_page=True)
    assert_nothing_sticks_out(page)


def test_the_coordinator_corrects_the_bag_and_volume_after_the_day_is_closed(
    browser: Browser, server, artifacts
):
    token, number = register(server, "Hicham", "Ouazzani", sex="M", birth_date="1985-06-02")
    donate(browser, server, token, number)

    with device(browser) as coordinator:
        log_in(coordinator, server, "coordination")
        close_the_day(coordinator, server)
        open_record(coordinator, server, token, "fr")
        assert stored(coordinator) == (BAG, "450")

        # A correction no donor can show: refused next to the field, nothing changed.
        open_the_correction(coordinator)
        form = correction_form(coordinator)
        expect(form.locator("input[name=bag_number]")).to_have_value(BAG)
        expect(form.locator("input[name=volume_ml]")).to_have_value("450")
        form.locator("input[name=bag_number]").fill(CORRECTED_BAG)
        form.locator("input[name=volume_ml]").fill("5000")
        with pytest.raises(AssertionError, match="HTTP 422"):
            submit(coordinator, "#donation-correction", f"/staff/visits/{token}/donation/correct")
        expect(correction_panel(coordinator)).to_have_attribute("open", "")
        volume = form.locator("input[name=volume_ml]")
        expect(volume).to_have_attribute("aria-invalid", "true")
        next_to_volume = form.locator(
            ".field.has-error", has=coordinator.locator("input[name=volume_ml]")
        ).locator("#err-volume_ml")
        expect(next_to_volume).to_be_visible()
        expect(form.locator(".field-error")).to_have_count(1)
        expect(volume).to_have_value("5000")  # as typed, to put right
        expect(form.locator("input[name=bag_number]")).to_have_value(CORRECTED_BAG)
        assert stored(coordinator) == (BAG, "450")
        expect(coordinator.locator(".history li[data-action=correct_donation]")).to_have_count(0)
        screenshot(coordinator, artifacts, "correction-refused-fr")

        # The right values: stored, the notice says so, the history names the fields.
        volume.fill("430")
        submit(coordinator, "#donation-correction", f"/staff/visits/{token}/donation/correct")
        assert stored(coordinator) == (CORRECTED_BAG, "430")
        expect(coordinator.locator(".notice-line[role=status]")).to_be_visible()
        expect(correction_panel(coordinator)).not_to_have_attribute("open", "")
        line = coordinator.locator(".history li[data-action=correct_donation]")
        expect(line).to_have_count(1)
        expect(line).to_contain_text(CORRECTED_LINE["fr"])
        expect(line).to_contain_text("coordination")
        screenshot(coordinator, artifacts, "correction-done-fr")

        # The same values again change nothing and write no history line.
        open_the_correction(coordinator)
        submit(coordinator, "#donation-correction", f"/staff/visits/{token}/donation/correct")
        expect(coordinator.locator(".history li[data-action=correct_donation]")).to_have_count(1)

        # In Arabic, on a laptop and on a phone: the panel open, a refusal, the history line.
        open_record(coordinator, server, token, "ar")
        expect(line).to_contain_text(CORRECTED_LINE["ar"])
        open_the_correction(coordinator)
        screenshot(coordinator, artifacts, "correction-open-ar")
        correction_form(coordinator).locator("input[name=volume_ml]").fill("5000")
        with pytest.raises(AssertionError, match="HTTP 422"):
            submit(coordinator, "#donation-correction", f"/staff/visits/{token}/donation/correct")
        expect(coordinator.locator("html")).to_have_attribute("dir", LANGUAGES["ar"])
        expect(correction_form(coordinator).locator("#err-volume_ml")).to_be_visible()
        assert stored(coordinator) == (CORRECTED_BAG, "430")
        screenshot(coordinator, artifacts, "correction-refused-ar")
        coordinator.set_viewport_size(PHONE)
        screenshot(coordinator, artifacts, "correction-refused-ar-phone")
        open_record(coordinator, server, token, "fr")
        open_the_correction(coordinator)
        screenshot(coordinator, artifacts, "correction-open-fr-phone")
