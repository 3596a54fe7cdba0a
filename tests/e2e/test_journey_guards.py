"""No donor reaches the chair unscreened, on the staff's phones (390 × 844).

The doctor's console has no button that sends the called donor on: only the screening recorded on
the donor's record does, and a forged post of the old "send on" is refused with the donor where
they were. The phlebotomist likewise cannot send a donor to rest, nor end their rest, without a
donation recorded. The record of a donor not yet screened says so in its rules panel.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.kiosk_pages import VENUE
from tests.e2e.record_pages import (
    device,
    open_record,
    record,
    submit,
    type_measurements,
)
from tests.e2e.staff_pages import PHONE, call_next, log_in, pick_desk, register
from tests.server import running_server
from tests.support.staff_http import add_staff_and_desks

STAFF = {"medecin": "doctor", "prelevement": "phlebotomist"}
DESKS = {"Médecin 1": "interview", "Fauteuil 1": "collection"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("guards-server")) as base_url:
        add_staff_and_desks(base_url.instance, STAFF, DESKS)
        yield base_url


def forged_post(page: Page, url: str) -> int:
    """A post made by hand with the page's own form token, as a curious user's tool would."""
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    return page.request.post(url, form={"csrf_token": token}, max_redirects=0).status


def desk_buttons(page: Page) -> list[str]:
    """Where each button of my desk posts to."""
    return page.locator("#my-desk button").evaluate_all(
        "buttons => buttons.map(b => b.getAttribute('formaction') || b.form?.action || '')"
    )


def test_the_doctor_and_the_phlebotomist_cannot_skip_a_step(browser: Browser, server, artifacts):
    token, number = register(server, "Imane", "Bennani", sex="F", birth_date="1992-04-11")

    with device(browser, viewport=PHONE) as doctor:
        log_in(doctor, server, "medecin")
        pick_desk(doctor, server, "Médecin 1")
        assert call_next(doctor) == number
        posts = desk_buttons(doctor)
        assert posts and all(url.endswith(("/recall", "/no-show")) for url in posts), posts
        doctor.screenshot(path=artifacts / "guards-doctor-console.png", full_page=True)

        assert forged_post(doctor, f"{server}/staff/queue/interview/send-on") == 404
        open_record(doctor, server, token)
        expect(record(doctor)).to_have_attribute("data-status", "interview")
        panel = doctor.locator("#findings")
        expect(panel).to_have_attribute("data-unscreened", "")
        expect(panel.locator("[data-rule=unscreened]")).to_be_visible()
        expect(panel.locator(".finding.outcome-ok")).to_have_count(0)
        # A doctor cannot record a donation; the record stays at the interview.
        assert forged_post(doctor, f"{server}/staff/visits/{token}/donation") == 403
        open_record(doctor, server, token)
        expect(record(doctor)).to_have_attribute("data-status", "interview")

        type_measurements(doctor)
        doctor.check("input[name=decision][value=eligible]")
        submit(doctor, "#screening", f"/staff/visits/{token}/screening")
        expect(record(doctor)).to_have_attribute("data-status", "waiting_collection")
        expect(doctor.locator("#findings")).not_to_have_attribute("data-unscreened", "")

    with device(browser, viewport=PHONE) as chair:
        log_in(chair, server, "prelevement")
        pick_desk(chair, server, "Fauteuil 1", stage="collection")
        assert call_next(chair) == number
        posts = desk_buttons(chair)
        assert posts and all(url.endswith(("/recall", "/no-show")) for url in posts), posts
        assert forged_post(chair, f"{server}/staff/queue/collection/send-on") == 404

        open_record(chair, server, token)
        expect(record(chair)).to_have_attribute("data-status", "collection")
        expect(chair.locator(f"form[action$='/staff/visits/{token}/finish']")).to_have_count(0)
        assert forged_post(chair, f"{server}/staff/visits/{token}/finish") == 422
        open_record(chair, server, token)
        expect(record(chair)).to_have_attribute("data-status", "collection")

        now = datetime.now(VENUE)
        started = max(now - timedelta(minutes=9), now.replace(hour=0, minute=0, second=0))
        form = chair.locator("form#donation")
        form.locator("input[name=bag_number]").fill("G123498654321")
        form.locator("input[name=volume_ml]").fill("450")
        form.locator("input[name=started_at]").fill(started.strftime("%H:%M"))
        form.locator("input[name=ended_at]").fill(now.strftime("%H:%M"))
        submit(chair, "#donation", f"/staff/visits/{token}/donation")
        expect(record(chair)).to_have_attribute("data-status", "rest")
        submit(chair, f"[action$='/staff/visits/{token}/finish']", f"/staff/visits/{token}/finish")
        expect(record(chair)).to_have_attribute("data-status", "done")
