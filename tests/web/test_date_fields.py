"""Every form that takes a date in three boxes (the questionnaire's dates, the doctor's deferral
end; the export day is in test_exports.py), and the donation's times on the 24-hour clock.
The campaign day is 24 November 2026 (tests/conftest.py)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from kiosk.db import db
from kiosk.models import Donor, Screening, Visit
from tests.support.factories import VALID_DONOR, fresh_form
from tests.support.medical_forms import GOOD_SCREENING
from tests.support.staff import create_staff_and_desks, log_in, pick_desk, post

FR = {"Accept-Language": "fr"}
AR = {"Accept-Language": "ar"}


def vaccine_boxes(day: str, month: str, year: str) -> dict[str, str]:
    return {
        "q_vaccine": "yes",
        "q_vaccine_day": day,
        "q_vaccine_month": month,
        "q_vaccine_year": year,
    }


def stored_answers(app) -> dict:
    with app.app_context():
        return json.loads(db.session.scalar(select(Visit.answers)))


def count_visits(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(Visit)).all())


class TestQuestionnaireDates:
    def test_the_vaccine_date_in_boxes_is_stored_as_that_day(self, app, register):
        response = register(**vaccine_boxes("01", "11", "2026"))
        assert response.status_code == 303
        assert stored_answers(app)["vaccine"] == {"answer": "yes", "date": "2026-11-01"}

    def test_an_iso_date_from_a_script_still_works(self, app, register):
        response = register(q_vaccine="yes", q_vaccine_date="2026-11-01")
        assert response.status_code == 303
        assert stored_answers(app)["vaccine"]["date"] == "2026-11-01"

    @pytest.mark.parametrize(
        ("boxes", "message"),
        [
            (("31", "9", "2026"), "Cette date n’existe pas"),  # 31 September
            (("25", "11", "2026"), "Cette date est dans le futur"),  # tomorrow
            (("1", "", "2026"), "Indiquez le jour, le mois et l’année."),
            (("1", "11", "26"), "avec ses quatre chiffres"),
            (("", "", ""), "Veuillez indiquer la date."),
            (("x", "11", "2026"), "Cette date n’existe pas"),
        ],
    )
    def test_a_bad_date_is_refused_next_to_the_question_and_nothing_stored(
        self, app, register, boxes, message
    ):
        response = register(headers=FR, **vaccine_boxes(*boxes))
        assert response.status_code == 422
        assert 'data-step="questionnaire"' in response.text
        error = response.text.split('id="err-q_vaccine_date" role="alert">')[1].split("</p>")[0]
        assert message in error
        assert count_visits(app) == 0

    def test_the_wizard_carries_the_date_and_the_review_writes_it_in_words(self, client):
        form = fresh_form(client)
        fields = {k: v for k, v in VALID_DONOR.items()}
        fields |= vaccine_boxes("10", "11", "2026")  # 2 weeks ago
        fields.pop("q_vaccine_date", None)
        for step in ("questionnaire", "consent"):
            response = client.post("/kiosk/wizard", data={**form, **fields, "step": step})
            assert response.status_code == 200, response.text
        fr = response.text
        assert 'type="hidden" name="q_vaccine_date" value="2026-11-10"' in fr
        assert 'data-step="review"' in fr
        assert "10 novembre 2026" in fr and "data-doctor-will-talk" in fr
        carried = {k: v for k, v in fields.items() if not k.startswith("q_vaccine_")}
        carried |= {"q_vaccine": "yes", "q_vaccine_date": "2026-11-10", "switch_lang": "ar"}
        ar = client.post("/kiosk/wizard", data={**form, **carried, "step": "review"}).text
        assert "10 نونبر 2026" in ar  # Moroccan month names, not نوفمبر
        assert "2026-11-10</" not in ar

    def test_a_bad_date_comes_back_in_its_boxes_as_typed(self, client):
        form = fresh_form(client)
        fields = dict(VALID_DONOR) | vaccine_boxes("31", "2", "2026")
        response = client.post(
            "/kiosk/wizard", data={**form, **fields, "step": "questionnaire"}, headers=AR
        )
        assert response.status_code == 422
        html = response.text
        assert (
            'name="q_vaccine_day" type="text" inputmode="numeric" maxlength="2" value="31"' in html
        )
        assert '<option value="2" selected>فبراير (2)</option>' in html
        assert 'type="date"' not in html


def defer(client, token, **fields):
    form = {
        **GOOD_SCREENING,
        "hemoglobin_g_dl": "11.0",
        "decision": "deferred_temporary",
        "deferral_reason": "low_hemoglobin",
        **fields,
    }
    return post(client, f"/staff/visits/{token}/screening", form, headers=FR)


@pytest.fixture
def token(register, app):
    from tests.support.factories import ticket_token

    return ticket_token(register())


class TestDeferralEnd:
    @pytest.fixture
    def doctor(self, app, token):
        create_staff_and_desks(app)
        client = app.test_client()
        assert log_in(client, "doctor").status_code == 303
        pick_desk(client, "Médecin 1")
        post(client, "/staff/queue/interview/call-next")
        return client

    def test_the_form_asks_the_end_in_three_boxes(self, doctor, token):
        page = doctor.get(f"/staff/visits/{token}", headers=FR).text
        assert 'name="deferral_until_day"' in page and 'name="deferral_until_year"' in page
        assert ">décembre (12)</option>" in page
        assert 'type="date"' not in page

    def test_the_end_in_boxes_is_stored_and_written_in_words(self, app, doctor, token):
        boxes = {
            "deferral_until_day": "1",
            "deferral_until_month": "2",
            "deferral_until_year": "2027",
        }
        assert defer(doctor, token, **boxes).status_code == 303
        with app.app_context():
            assert db.session.scalar(select(Screening)).deferral_until.isoformat() == "2027-02-01"
            assert db.session.scalar(select(Donor)).deferred_until.isoformat() == "2027-02-01"
        page = doctor.get(f"/staff/visits/{token}", headers=FR).text
        assert "1 février 2027" in page
        page = doctor.get(f"/staff/visits/{token}?lang=ar").text
        assert "1 فبراير 2027" in page

    def test_an_iso_end_from_a_script_still_works(self, app, doctor, token):
        assert defer(doctor, token, deferral_until="2027-02-01").status_code == 303

    @pytest.mark.parametrize(
        ("boxes", "message"),
        [
            (("29", "2", "2027"), "Cette date n’existe pas"),  # 2027 is no leap year
            (("24", "11", "2026"), "postérieure à aujourd’hui"),  # today
            (("1", "1", "2031"), "trois ans au plus"),
            (("1", "", "2027"), "Indiquez le jour, le mois et l’année."),
            (("1", "2", "27"), "avec ses quatre chiffres"),
            (("", "", ""), "Veuillez indiquer la date."),
        ],
    )
    def test_a_bad_end_is_refused_next_to_the_field_and_nothing_stored(
        self, app, doctor, token, boxes, message
    ):
        day, month, year = boxes
        fields = {
            "deferral_until_day": day,
            "deferral_until_month": month,
            "deferral_until_year": year,
        }
        response = defer(doctor, token, **fields)
        assert response.status_code == 422
        assert 'id="err-deferral_until" role="alert">' in response.text
        assert message in response.text
        assert (
            f'name="deferral_until_day" type="text" inputmode="numeric" maxlength="2" value="{day}"'
            in (response.text)
        )
        with app.app_context():
            assert db.session.scalar(select(Screening)) is None


class TestDonationTimes:
    @pytest.fixture
    def chair(self, app, token):
        create_staff_and_desks(app)
        doctor = app.test_client()
        log_in(doctor, "doctor")
        pick_desk(doctor, "Médecin 1")
        post(doctor, "/staff/queue/interview/call-next")
        post(doctor, f"/staff/visits/{token}/screening", GOOD_SCREENING)
        chair = app.test_client()
        log_in(chair, "phlebotomist")
        pick_desk(chair, "Fauteuil 1")
        post(chair, "/staff/queue/collection/call-next")
        return chair

    def test_the_times_are_text_on_the_24_hour_clock(self, chair, token):
        for headers in (FR, AR):
            page = chair.get(f"/staff/visits/{token}", headers=headers).text
            assert 'type="time"' not in page
            assert 'name="started_at" type="text"' in page and 'inputmode="numeric"' in page

    @pytest.mark.parametrize(("started", "ended"), [("09:10", "09:20"), ("0910", "9h20")])
    def test_a_number_pad_time_is_read(self, app, chair, token, started, ended):
        from tests.support.medical_forms import GOOD_DONATION

        form = {**GOOD_DONATION, "started_at": started, "ended_at": ended}
        assert post(chair, f"/staff/visits/{token}/donation", form).status_code == 303

    @pytest.mark.parametrize("typed", ["8:09 AM", "24:00", "9:60"])
    def test_a_time_off_the_24_hour_clock_is_refused(self, chair, token, typed):
        from tests.support.medical_forms import GOOD_DONATION

        form = {**GOOD_DONATION, "started_at": typed}
        response = post(chair, f"/staff/visits/{token}/donation", form, headers=FR)
        assert response.status_code == 422
        assert "Indiquez l’heure sur 24 heures, par exemple 14:05." in response.text
