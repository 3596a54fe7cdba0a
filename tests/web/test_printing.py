"""Thermal printing through the test client: every registration queues its ticket in the same
transaction, the kiosk and the coordinator see what the printer does, staff reprint, the
doctor's and the phlebotomist's decisions queue their slips, and the `kiosk printer` commands.

The printer is a file printer whose folder is missing until the test "plugs it in"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk.config import ConfigError
from kiosk.db import db
from kiosk.domain.campaigns import CampaignDetails, open_campaign
from kiosk.models import Event, PrintJob, Visit
from kiosk.printing.escpos_ticket import ticket_image
from kiosk.printing.jobs import print_next
from kiosk.printing.layout import Layout
from kiosk.web.printing import SETTINGS
from tests.server import KioskCommandFailed, run_kiosk
from tests.support.factories import CAMPAIGN_DAY, FROZEN_NOW, fresh_form
from tests.support.medical_forms import GOOD_DONATION, GOOD_SCREENING
from tests.support.staff import create_staff_and_desks, csrf_of, log_in, pick_desk, post

FR = {"Accept-Language": "fr"}
AR = {"Accept-Language": "ar"}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "printing"


@pytest.fixture
def device(tmp_path):
    """Where the printer's bytes land once its folder exists ("plugged in")."""
    return tmp_path / "printer" / "lp0"


@pytest.fixture
def app(make_app, clock, device):
    app = make_app(PRINTER=f"file:{device}", PRINTER_PROFILE="80mm")
    with app.app_context():
        details = CampaignDetails("Don de sang", "Khénifra", CAMPAIGN_DAY, "CRTS Meknès")
        open_campaign(db.session, details, clock())
    create_staff_and_desks(app)
    yield app
    with app.app_context():
        db.engine.dispose()


def token_of(response) -> str:
    assert response.status_code == 303, response.text
    return response.headers["Location"].split("?")[0].rsplit("/", 1)[1]


def print_once(app):
    settings = app.extensions[SETTINGS]
    with app.app_context():
        return print_next(db.session, settings.render, settings.send, lambda: FROZEN_NOW)


def all_jobs(app) -> list[PrintJob]:
    with app.app_context():
        found = db.session.scalars(select(PrintJob).order_by(PrintJob.id)).all()
        db.session.expunge_all()
        return found


def save_picture(app, layout: Layout, name: str) -> None:
    """The slip as the printer draws it, to look at in test-artifacts/printing/."""
    settings = app.extensions[SETTINGS]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ticket_image(layout, settings.paper, settings.font_path).save(ARTIFACTS / name)


def staff_client(app, username, desk=None):
    client = app.test_client()
    assert log_in(client, username).status_code == 303
    if desk:
        assert pick_desk(client, desk).status_code == 303
    return client


class TestRegistrationPrints:
    def test_the_ticket_is_queued_with_the_visit_in_the_donors_language(self, app, register):
        token = token_of(register(headers=AR))
        [job] = all_jobs(app)
        assert (job.kind, job.status, job.attempts) == ("ticket", "pending", 0)
        layout = Layout.from_json(job.layout)
        assert layout.language == "ar" and layout.number == 1
        assert layout.first_name == "Fatima"
        assert layout.url.endswith(f"/t/{token}")
        assert layout.number_label == "رقمك"
        with app.app_context():
            assert job.visit_id == db.session.scalar(select(Visit.id))

    def test_the_printer_off_twice_then_back_prints_the_ticket_exactly_once(
        self, app, client, register, device
    ):
        token = token_of(register(headers=FR))  # registration never waits for the printer
        for attempt in (1, 2):
            assert not print_once(app).printed
            assert all_jobs(app)[0].attempts == attempt
        page = client.get(f"/ticket/{token}", headers=FR).text
        assert 'data-print-status="waiting"' in page
        assert "quand l’imprimante sera de retour" in page
        assert 'class="qr"' in page  # the ticket is still on the screen with its QR code
        device.parent.mkdir()  # plugged in
        assert print_once(app).printed
        assert print_once(app) is None
        data = device.read_bytes()
        assert data.count(b"\x1b@") == 1  # one ticket
        assert token.encode() in data  # in the printer's own QR command
        [job] = all_jobs(app)
        assert (job.status, job.layout) == ("printed", None)
        status = client.get(f"/ticket/{token}/printing", headers=FR).text
        assert 'data-print-status="printed"' in status and "hx-get" not in status

    def test_the_ticket_page_polls_while_the_ticket_prints(self, client, register):
        token = token_of(register(headers=FR))
        page = client.get(f"/ticket/{token}", headers=FR).text
        assert 'data-print-status="printing"' in page
        assert f'hx-get="/ticket/{token}/printing"' in page

    def test_a_double_tap_queues_one_ticket_and_a_ticket_asked_again_queues_another(
        self, app, client, register
    ):
        form = fresh_form(client)
        token_of(register(form=form))
        token_of(register(form=form))
        assert len(all_jobs(app)) == 1
        again = register()  # same CIN, new form: to reception, no ticket, nothing printed
        assert again.status_code == 200
        assert len(all_jobs(app)) == 1

    def test_a_bad_registration_queues_nothing(self, app, register):
        assert register(first_name="").status_code == 422
        assert all_jobs(app) == []

    def test_an_unknown_ticket_has_no_print_status(self, client):
        assert client.get("/ticket/" + "A" * 32 + "/printing").status_code == 404


class TestWithoutPrinter:
    def test_browser_printing_only_queues_nothing(self, make_app, clock):
        app = make_app()
        with app.app_context():
            details = CampaignDetails("Don de sang", "Khénifra", CAMPAIGN_DAY, "CRTS Meknès")
            open_campaign(db.session, details, clock())
            create_staff_and_desks(app)
        client = app.test_client()
        form = fresh_form(client)
        from tests.support.factories import VALID_DONOR

        token = token_of(client.post("/kiosk/register", data={**form, **VALID_DONOR}))
        assert all_jobs(app) == []
        assert "data-print-status" not in client.get(f"/ticket/{token}").text
        reception = staff_client(app, "reception")
        page = reception.get(f"/staff/visits/{token}", headers=FR).text
        assert f'href="/ticket/{token}"' in page
        assert post(reception, f"/staff/visits/{token}/reprint").headers["Location"] == (
            f"/ticket/{token}"
        )
        admin = staff_client(app, "coordinator").get("/staff/admin", headers=FR).text
        assert "KIOSK_PRINTER" in admin

    @pytest.mark.parametrize(
        "settings",
        [
            {"PRINTER": "lpt1"},
            {"PRINTER_PROFILE": "110mm"},
            {"PRINTER": "file:/x", "PRINTER_FONT": "/no.ttf"},
        ],
    )
    def test_bad_printer_settings_stop_the_start_with_a_clear_message(self, make_app, settings):
        with pytest.raises(ConfigError, match="KIOSK_PRINTER"):
            make_app(**settings)


class TestReprint:
    def test_staff_reprint_queues_a_new_ticket_and_audits_it(self, app, register):
        token = token_of(register())
        reception = staff_client(app, "reception")
        page = reception.get(f"/staff/visits/{token}", headers=FR).text
        assert 'data-print-status="pending"' in page
        response = post(reception, f"/staff/visits/{token}/reprint")
        assert response.status_code == 303
        assert response.headers["Location"] == f"/staff/visits/{token}#printing"
        assert [job.kind for job in all_jobs(app)] == ["ticket", "ticket"]
        assert all_jobs(app)[1].requested_by == "reception"
        with app.app_context():
            event = db.session.scalar(select(Event).where(Event.action == "reprint_ticket"))
            assert (event.actor, event.from_stage, event.to_stage) == (
                "reception",
                "waiting_interview",
                "waiting_interview",
            )
        page = reception.get(f"/staff/visits/{token}", headers=FR).text
        assert "Ticket imprimé à nouveau" in page

    def test_reprint_needs_a_login_a_csrf_token_and_a_real_ticket(self, app, client, register):
        token = token_of(register())
        response = client.post(
            f"/staff/visits/{token}/reprint", data={"csrf_token": csrf_of(client)}
        )
        assert response.status_code in (302, 303) and "/login" in response.headers["Location"]
        reception = staff_client(app, "reception")
        assert reception.post(f"/staff/visits/{token}/reprint").status_code == 400
        assert post(reception, "/staff/visits/" + "A" * 32 + "/reprint").status_code == 404
        assert len(all_jobs(app)) == 1


class TestSlips:
    @pytest.fixture
    def token(self, register):
        return token_of(register(headers=AR))

    @pytest.fixture
    def doctor(self, app, token):
        client = staff_client(app, "doctor", "Médecin 1")
        post(client, "/staff/queue/interview/call-next")
        return client

    def test_a_deferral_queues_the_slip_in_the_donors_language(self, app, doctor, token):
        response = post(
            doctor,
            f"/staff/visits/{token}/screening",
            {
                **GOOD_SCREENING,
                "hemoglobin_g_dl": "11.0",
                "decision": "deferred_temporary",
                "deferral_reason": "low_hemoglobin",
                "deferral_until": "2027-02-24",
                "tell_reason": "yes",
            },
        )
        assert response.status_code == 303
        slip = all_jobs(app)[-1]
        assert (slip.kind, slip.requested_by) == ("deferral", "doctor")
        layout = Layout.from_json(slip.layout)
        assert layout.url == "" and layout.language == "ar"
        assert "2027" in layout.lines[0] and "فبراير" in layout.lines[0]
        assert len(layout.lines) == 3  # the reason, as the doctor allowed, and what to do
        assert "الحديد" in layout.lines[2]  # iron-rich food
        save_picture(app, layout, "slip-deferral-ar.png")

    def test_a_tamazight_donor_gets_the_deferral_slip_in_tamazight(self, app, register):
        token = token_of(register(headers={"Accept-Language": "zgh"}))
        doctor = staff_client(app, "doctor", "Médecin 1")
        post(doctor, "/staff/queue/interview/call-next")
        screening = {
            **GOOD_SCREENING,
            "hemoglobin_g_dl": "11.0",
            "decision": "deferred_temporary",
            "deferral_reason": "low_hemoglobin",
            "deferral_until": "2027-02-24",
            "tell_reason": "yes",
        }
        assert post(doctor, f"/staff/visits/{token}/screening", screening).status_code == 303
        layout = Layout.from_json(all_jobs(app)[-1].layout)
        assert layout.language == "zgh" and layout.number_label == "ⵓⵟⵟⵓⵏ"
        # Babel's zgh month names (CLDR), the reason worded in Tamazight, no English left.
        assert "2027" in layout.lines[0] and "ⴱⵕⴰⵢⵕ" in layout.lines[0]
        assert layout.lines[1] == "ⵜⴰⵎⵏⵜⵉⵍⵜ: ⵉⵡⵔⵙ ⵓⵀⵉⵎⵓⴳⵍⵓⴱⵉⵏ"
        assert not re.search(r"[A-Za-z]", " ".join(layout.lines))
        save_picture(app, layout, "slip-deferral-zgh.png")

    def test_an_eligible_donor_gets_no_slip_and_a_donation_gets_the_thank_you(
        self, app, doctor, token
    ):
        assert post(doctor, f"/staff/visits/{token}/screening", GOOD_SCREENING).status_code == 303
        assert [job.kind for job in all_jobs(app)] == ["ticket"]
        chair = staff_client(app, "phlebotomist", "Fauteuil 1")
        post(chair, "/staff/queue/collection/call-next")
        assert post(chair, f"/staff/visits/{token}/donation", GOOD_DONATION).status_code == 303
        thanks = all_jobs(app)[-1]
        assert thanks.kind == "thanks"
        layout = Layout.from_json(thanks.layout)
        assert any("2027" in line for line in layout.lines)  # the next eligible date
        save_picture(app, layout, "slip-thanks-ar.png")


class TestCoordinator:
    def test_the_admin_page_shows_the_printer_and_what_waits(self, app, register):
        token_of(register())
        print_once(app)  # the printer's folder is missing: an error
        coordinator = staff_client(app, "coordinator")
        page = coordinator.get("/staff/admin", headers=FR).text
        assert "80mm, 576 dots" in page
        assert 'data-print-pending="1"' in page
        assert "data-printer-error" in page and "cannot open" in page
        panel = coordinator.get("/staff/printing", headers=FR)
        assert panel.status_code == 200 and 'id="printing-panel"' in panel.text

    def test_only_the_coordinator_sees_the_panel(self, app):
        assert staff_client(app, "reception").get("/staff/printing").status_code == 403


class TestCommand:
    def test_printer_test_prints_a_page_and_says_so_in_one_line(self, tmp_path):
        device = tmp_path / "lp0"
        output = run_kiosk(tmp_path / "instance", "printer", "test", KIOSK_PRINTER=f"file:{device}")
        assert output.strip().count("\n") == 0
        assert "test page sent" in output and "576 dots" in output
        data = device.read_bytes()
        assert max(_raster_widths(data)) <= 576 and b"\x1dV" in data

    def test_printer_test_reports_an_unplugged_printer_in_one_line(self, tmp_path):
        with pytest.raises(KioskCommandFailed, match="test page not printed: .*cannot open"):
            run_kiosk(
                tmp_path / "instance", "printer", "test", KIOSK_PRINTER=f"file:{tmp_path}/no/lp0"
            )

    def test_printer_test_without_a_printer_says_how_to_set_one(self, tmp_path):
        with pytest.raises(KioskCommandFailed, match="KIOSK_PRINTER"):
            run_kiosk(tmp_path / "instance", "printer", "test")


def _raster_widths(data: bytes) -> list[int]:
    from tests.support.escpos import raster_widths

    return raster_widths(data)


def test_printer_preview_saves_the_test_page_without_a_printer(tmp_path):
    picture = tmp_path / "page.png"
    output = run_kiosk(
        tmp_path / "instance", "printer", "preview", str(picture), KIOSK_PRINTER_PROFILE="58mm"
    )
    assert "384 dots wide" in output
    from PIL import Image

    with Image.open(picture) as image:
        assert image.width == 384


def test_the_printer_is_set_in_the_instance_config_file(make_app, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.toml").write_text(
        f'printer = "file:{tmp_path / "lp0"}"\nprinter_profile = "58mm"\n', encoding="utf-8"
    )
    settings = make_app().extensions[SETTINGS]
    assert (str(settings.spec), settings.paper.dots) == (f"file:{tmp_path / 'lp0'}", 384)


def test_a_ticket_that_cannot_be_laid_out_never_fails_the_registration(app, register, monkeypatch):
    import kiosk.web.printing

    def broken(*args):
        raise KeyError("boom")

    # The registration lays its ticket out before its write transaction (issue 18).
    monkeypatch.setattr(kiosk.web.printing, "_ticket_layout", broken)
    assert register().status_code == 303
    assert all_jobs(app) == []
