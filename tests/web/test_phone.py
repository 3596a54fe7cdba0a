"""Registering on the donor's own phone: the kiosk's wizard and rules, no idle reset, a half-filled
form kept for that phone only, the thermal ticket printed at reception unless the coordinator chose
at once, the /t/ page's code for reception, and the poster that leads there."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kiosk.db import db
from kiosk.domain.campaigns import CampaignDetails, open_campaign
from kiosk.models import PrintJob, Visit
from tests.support.factories import CAMPAIGN_DAY, VALID_DONOR, fresh_form
from tests.support.staff import create_staff_and_desks, log_in

FRENCH = {"Accept-Language": "fr"}


@pytest.fixture
def printer_app(make_app, clock, tmp_path):
    def make(**settings):
        app = make_app(PRINTER=f"file:{tmp_path / 'lp0'}", **settings)
        with app.app_context():
            details = CampaignDetails("Don de sang", "Khénifra", CAMPAIGN_DAY, "CRTS Meknès")
            open_campaign(db.session, details, clock())
        create_staff_and_desks(app)
        return app

    return make


def a_phone(app):
    phone = app.test_client()
    assert phone.get("/phone").headers["Location"].endswith("/kiosk")
    return phone


def identity_step(client) -> dict[str, str]:
    form = fresh_form(client)
    fields = ("first_name", "last_name", "sex", "birth_date", "cin")
    return {**form, **{name: VALID_DONOR[name] for name in fields}, "step": "identity"}


def submit(client, headers=None, **fields):
    """The whole registration, posted at once, as the wizard's last step does."""
    data = {**fresh_form(client), **VALID_DONOR, **fields}
    return client.post("/kiosk/register", data=data, headers=headers or {})


def print_jobs(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(PrintJob.id)))


def test_a_phone_has_no_idle_reset_and_the_tablet_keeps_its_own(app):
    phone, tablet = a_phone(app), app.test_client()
    assert "data-idle-seconds" not in phone.get("/kiosk/register").text
    assert "data-idle-seconds" in tablet.get("/kiosk/register").text


def test_a_phone_comes_back_to_its_half_filled_form(app):
    phone = a_phone(app)
    step = phone.post("/kiosk/wizard", data=identity_step(phone), headers=FRENCH)
    assert step.status_code == 200 and 'value="contact"' in step.text
    again = phone.get("/kiosk/register", headers=FRENCH).text
    assert 'name="step" value="contact"' in again
    assert 'value="Fatima"' in again
    # Never on the tablet, and never in an address.
    assert "Fatima" not in app.test_client().get("/kiosk/register").text
    assert "Fatima" not in step.headers.get("Location", "")


def test_registering_forgets_the_draft_and_shows_the_phones_ticket(printer_app):
    app = printer_app()
    phone = a_phone(app)
    phone.post("/kiosk/wizard", data=identity_step(phone))
    done = submit(phone)
    assert done.status_code == 303
    ticket = phone.get(done.headers["Location"], headers=FRENCH).text
    assert "Suivre mon tour" in ticket and "data-idle-seconds" not in ticket
    assert 'class="qr"' in ticket
    assert print_jobs(app) == 0  # printed at reception, when the donor shows the phone
    assert 'name="step" value="identity"' in phone.get("/kiosk/register").text
    assert "Fatima" not in phone.get("/kiosk/register").text


def test_the_coordinator_may_print_phone_tickets_at_once(printer_app):
    app = printer_app(PHONE_TICKETS_PRINT_AT_ONCE=True)
    phone = a_phone(app)
    assert submit(phone).status_code == 303
    assert print_jobs(app) == 1


def test_the_tablet_still_prints_at_once(printer_app):
    app = printer_app()
    tablet = app.test_client()
    assert submit(tablet).status_code == 303
    assert print_jobs(app) == 1


def test_a_phone_refuses_what_the_kiosk_refuses(app):
    phone = a_phone(app)
    bad = submit(phone, headers=FRENCH, cin="<b>x</b>")
    assert bad.status_code == 422
    assert submit(phone).status_code == 303
    other = a_phone(app)
    again = submit(other)
    assert "/ticket/" not in again.headers.get("Location", "")  # no second ticket for a CIN
    with app.app_context():
        assert db.session.scalar(select(func.count(Visit.id))) == 1


def test_the_status_page_shows_its_code_for_reception_while_waiting(app, register):
    token = register().headers["Location"].rsplit("/", 1)[1]
    page = app.test_client().get(f"/t/{token}", headers=FRENCH).text
    assert "<svg" in page and "Pas encore de ticket papier" in page
    fragment = app.test_client().get(f"/t/{token}", headers={"HX-Request": "true"}).text
    assert "<svg" not in fragment


def test_the_poster_is_a_one_page_pdf_for_the_coordinator_only(staffed, make_app):
    anonymous = staffed.test_client().get("/staff/admin/poster.pdf")
    assert anonymous.status_code in (302, 303, 401)
    doctor = staffed.test_client()
    log_in(doctor, "doctor")
    assert doctor.get("/staff/admin/poster.pdf").status_code == 403
    coordinator = staffed.test_client()
    log_in(coordinator, "coordinator")
    poster = coordinator.get("/staff/admin/poster.pdf")
    assert poster.status_code == 200 and poster.mimetype == "application/pdf"
    assert poster.data.startswith(b"%PDF") and poster.data.count(b"/Type /Page\n") <= 1
    assert b"/Count 1" in poster.data
