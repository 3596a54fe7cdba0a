"""The medical side through the test client: screening, donation, the donor's page afterwards,
the coordinator's settings, returning donors at the kiosk and the import command."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kiosk.db import db
from kiosk.domain.campaigns import current_campaign
from kiosk.models import Donation, Donor, Event, Screening, Visit
from tests.support.factories import VALID_DONOR, fresh_form
from tests.support.medical_forms import GOOD_DONATION, GOOD_SCREENING
from tests.support.staff import log_in, pick_desk, post

FR = {"Accept-Language": "fr"}


@pytest.fixture
def token(register):
    return register().headers["Location"].rsplit("/", 1)[1]


def staff(app, username, desk=None):
    client = app.test_client()
    assert log_in(client, username).status_code == 303
    if desk:
        assert pick_desk(client, desk).status_code == 303
    return client


@pytest.fixture
def doctor(staffed, token):
    """A doctor at Médecin 1 with the donor called to the desk."""
    client = staff(staffed, "doctor", "Médecin 1")
    post(client, "/staff/queue/interview/call-next")
    return client


def visit(app) -> Visit:
    with app.app_context():
        found = db.session.scalar(select(Visit))
        db.session.expunge_all()
        return found


def screen(client, token, **fields):
    return post(client, f"/staff/visits/{token}/screening", {**GOOD_SCREENING, **fields})


class TestScreening:
    def test_the_record_shows_answers_and_findings(self, doctor, token):
        page = doctor.get(f"/staff/visits/{token}", headers=FR).text
        assert 'data-question="vaccine"' in page
        assert 'id="findings"' in page and 'data-verdict="ok"' in page
        assert 'id="screening"' in page

    def test_eligible_sends_the_visit_to_the_collection_line(self, staffed, doctor, token):
        response = screen(doctor, token)
        assert response.status_code == 303
        assert visit(staffed).stage == "waiting_collection"

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("weight_kg", "5", "pas plausible"),
            ("systolic", "400", "pas plausible"),
            ("hemoglobin_g_dl", "60", "pas plausible"),
            ("pulse", "", "Veuillez remplir ce champ"),
            ("weight_kg", "heavy", "Tapez un nombre"),
            ("decision", "maybe", "choisir une des options"),
        ],
    )
    def test_absurd_values_are_refused_and_nothing_stored(
        self, staffed, doctor, token, field, value, message
    ):
        response = doctor.post(
            f"/staff/visits/{token}/screening",
            data={**GOOD_SCREENING, field: value, "csrf_token": _csrf(doctor)},
            headers=FR,
        )
        assert response.status_code == 422
        assert message in response.text
        assert visit(staffed).stage == "interview"
        with staffed.app_context():
            assert db.session.scalar(select(Screening)) is None

    def test_a_decision_against_the_rules_needs_a_note(self, staffed, doctor, token):
        low = screen(doctor, token, hemoglobin_g_dl="11.0")
        assert low.status_code == 422
        assert 'id="err-note"' in low.text
        assert screen(doctor, token, hemoglobin_g_dl="11.0", note="Rechecked: 13.2").status_code
        assert visit(staffed).stage == "waiting_collection"

    def test_a_temporary_deferral_ends_the_visit_and_the_donor_page_says_until(
        self, staffed, client, doctor, token
    ):
        response = screen(
            doctor,
            token,
            hemoglobin_g_dl="11.0",
            decision="deferred_temporary",
            deferral_reason="low_hemoglobin",
            deferral_until="2027-02-24",
        )
        assert response.status_code == 303
        assert visit(staffed).stage == "deferred"
        page = client.get(f"/t/{token}", headers=FR).text
        assert 'data-deferred-until="2027-02-24"' in page
        assert "24 février 2027" in page
        assert "Hémoglobine basse" not in page  # the doctor did not allow the reason
        with staffed.app_context():
            assert db.session.scalar(select(Donor)).deferred_until.isoformat() == "2027-02-24"

    def test_the_public_page_never_shows_the_reason(self, client, doctor, token):
        """Anyone holding the ticket's address reads /t/: the reason is on the printed slip
        (when the doctor allows) and in the staff record, never there (issue 14)."""
        screen(
            doctor,
            token,
            decision="deferred_permanent",
            deferral_reason="chronic_illness",
            tell_reason="yes",
            note="History of hepatitis",
        )
        page = client.get(f"/t/{token}?lang=ar").text
        assert "لا يمكنك التبرع" in page
        assert 'data-deferred-until=""' in page
        assert "مرض مزمن" not in page  # even when the doctor allows it on the slip

    def test_a_temporary_deferral_needs_a_future_date(self, doctor, token):
        for until in ("", "2026-11-24", "2031-01-01", "tomorrow"):
            response = screen(
                doctor,
                token,
                decision="deferred_temporary",
                deferral_reason="other",
                deferral_until=until,
                note="x",
            )
            assert response.status_code == 422, until

    def test_live_findings_follow_the_typed_values(self, doctor, token):
        response = post(doctor, f"/staff/visits/{token}/findings", {"systolic": "175"})
        assert 'data-verdict="temporary"' in response.text
        assert 'data-rule="systolic"' in response.text

    def test_a_phlebotomist_cannot_record_a_screening(self, staffed, doctor, token):
        other = staff(staffed, "phlebotomist")
        assert screen(other, token).status_code == 403
        assert post(other, f"/staff/visits/{token}/findings", {}).status_code == 403

    def test_no_screening_before_the_donor_is_called(self, staffed, token):
        client = staff(staffed, "doctor2", "Médecin 2")
        response = client.post(
            f"/staff/visits/{token}/screening",
            data={**GOOD_SCREENING, "csrf_token": _csrf(client)},
            headers=FR,
        )
        assert response.status_code == 422
        assert "n’est pas à un poste d’entretien" in response.text


def _csrf(client):
    from tests.support.staff import csrf_of

    return csrf_of(client, "/staff/")


@pytest.fixture
def at_the_chair(staffed, doctor, token):
    screen(doctor, token)
    chair = staff(staffed, "phlebotomist", "Fauteuil 1")
    post(chair, "/staff/queue/collection/call-next")
    return chair


def record(client, token, **fields):
    return post(client, f"/staff/visits/{token}/donation", {**GOOD_DONATION, **fields})


class TestDonation:
    def test_a_donation_moves_to_rest_and_the_donor_page_thanks(
        self, staffed, client, at_the_chair, token
    ):
        assert record(at_the_chair, token).status_code == 303
        assert visit(staffed).stage == "rest"
        page = client.get(f"/t/{token}", headers=FR).text
        assert 'data-next-donation="2027-03-16"' in page  # 16 weeks for a woman
        assert "Merci" in page
        assert post(at_the_chair, f"/staff/visits/{token}/finish").status_code == 303
        assert visit(staffed).stage == "done"

    def test_the_record_does_not_count_its_own_donation_against_the_donor(
        self, at_the_chair, token
    ):
        record(at_the_chair, token)
        page = at_the_chair.get(f"/staff/visits/{token}").text
        assert 'data-verdict="ok"' in page

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("bag_number", ""),
            ("volume_ml", "5000"),
            ("started_at", "25:00"),
            ("ended_at", "09:00"),
            ("outcome", "fine"),
            ("adverse_event", "hiccups"),
        ],
    )
    def test_bad_donation_forms_are_refused(self, staffed, at_the_chair, token, field, value):
        assert record(at_the_chair, token, **{field: value}).status_code == 422
        assert visit(staffed).stage == "collection"

    def test_an_adverse_event_needs_its_severity(self, at_the_chair, token):
        assert record(at_the_chair, token, adverse_event="vasovagal").status_code == 422
        fine = record(at_the_chair, token, adverse_event="vasovagal", adverse_severity="mild")
        assert fine.status_code == 303

    def test_isbt128_bag_numbers_are_checked(self, staffed, at_the_chair, token):
        with staffed.app_context():
            current_campaign(db.session).bag_numbers = "isbt128"
            db.session.commit()
        wrong = record(at_the_chair, token, bag_number="=G1234986543210 0A")
        assert wrong.status_code == 422
        right = record(at_the_chair, token, bag_number="=G123498654321 00 H")
        assert right.status_code == 303
        with staffed.app_context():
            assert db.session.scalar(select(Donation)).bag_number == "G123498654321"

    def test_a_bag_number_is_used_once(self, staffed, at_the_chair, token, register, doctor):
        record(at_the_chair, token)
        second = register(cin="AA200002").headers["Location"].rsplit("/", 1)[1]
        post(doctor, "/staff/queue/interview/call-next")
        screen(doctor, second)
        post(at_the_chair, "/staff/queue/collection/call-next")
        response = post(at_the_chair, f"/staff/visits/{second}/donation", GOOD_DONATION)
        assert response.status_code == 422
        assert "G123498654321" in response.text

    def test_a_doctor_cannot_record_a_donation(self, staffed, at_the_chair, token):
        assert record(staff(staffed, "doctor2"), token).status_code == 403


class TestCoordinatorSettings:
    def test_rules_thresholds_and_bag_policy_are_saved(self, staffed):
        client = staff(staffed, "coordinator")
        page = client.get("/staff/admin").text
        assert 'name="hemoglobin_min_f"' in page
        form = {name: value for name, value in _threshold_fields(page)}
        form.update(rules="who2012", bag_numbers="isbt128", hemoglobin_min_f="12.2")
        assert post(client, "/staff/admin/medical", form).status_code == 200
        with staffed.app_context():
            campaign = current_campaign(db.session)
            assert (campaign.rules, campaign.bag_numbers) == ("who2012", "isbt128")
            assert '"hemoglobin_min_f": 12.2' in campaign.thresholds

    @pytest.mark.parametrize(
        ("change", "said_in_french"),
        [
            ({"hemoglobin_min_f": "3"}, "Hémoglobine minimale, femmes (g/dL) doit être entre"),
            ({"bag_numbers": "regex:("}, "Le contrôle des numéros de poche n’est pas valide"),
            ({"rules": "mars"}, "Choisissez une des tables de règles proposées."),
            ({"systolic_max": "high"}, "Indiquez un nombre pour : Systolique maximale (mmHg)"),
        ],
    )
    def test_bad_settings_are_refused_whole(self, staffed, change, said_in_french):
        """Refused whole, and said in the page's language (it used to answer in English)."""
        client = staff(staffed, "coordinator")
        form = dict(_threshold_fields(client.get("/staff/admin").text))
        form.update({"rules": "morocco", "bag_numbers": "any", **change})
        answer = post(client, "/staff/admin/medical", form, headers={"Accept-Language": "fr"})
        assert answer.status_code == 422
        assert said_in_french in answer.text
        with staffed.app_context():
            assert current_campaign(db.session).thresholds == "{}"

    def test_only_the_coordinator_changes_them(self, staffed):
        assert post(staff(staffed, "doctor"), "/staff/admin/medical", {}).status_code == 403


def _threshold_fields(page: str):
    import re

    return re.findall(r'name="([a-z_]+_(?:min|max|kg|repeat|f|m))"[^>]*value="([^"]*)"', page)


class TestReturningDonors:
    def known(self, app):
        with app.app_context():
            from kiosk.domain.exchange.donor_list import import_donors
            from tests.support.factories import FROZEN_NOW

            lines = [
                "cin,last_name,first_name,sex,birth_date,blood_group,last_donation_date",
                "BK123456,Alaoui,Meryem,F,1985-04-02,O+,2026-01-10",
            ]
            report = import_donors(db.session, lines, FROZEN_NOW)
            assert report.added == 1, report.problems

    def lookup(self, client, cin, birth):
        year, month, day = birth.split("-")
        data = {
            **fresh_form(client),
            "step": "identity",
            "go": "lookup",
            "cin": cin,
            "birth_day": day,
            "birth_month": month,
            "birth_year": year,
        }
        return client.post("/kiosk/wizard", data=data, headers=FR)

    def test_cin_and_birth_date_fill_in_the_details(self, app, client):
        self.known(app)
        page = self.lookup(client, "bk123456", "1985-04-02").text
        assert 'value="Meryem"' in page and 'value="Alaoui"' in page

    @pytest.mark.parametrize(
        ("cin", "birth"), [("BK123456", "1985-04-03"), ("BK999999", "1985-04-02")]
    )
    def test_a_wrong_pair_reveals_nothing(self, app, client, cin, birth):
        self.known(app)
        page = self.lookup(client, cin, birth).text
        assert "Meryem" not in page and "Alaoui" not in page
        unknown = self.lookup(client, "ZZ000001", birth).text
        strip = lambda text: text.replace(cin, "").replace("ZZ000001", "")  # noqa: E731
        assert len(strip(page)) == len(strip(unknown))

    def test_repeated_misses_are_slowed_then_ignored(self, app, client, sleeps):
        self.known(app)
        for n in range(12):
            self.lookup(client, f"BK{n:06d}", "1985-04-02")
        assert sleeps
        page = self.lookup(client, "BK123456", "1985-04-02").text
        assert "Meryem" not in page  # locked for the minute, and it does not say so

    def test_the_history_feeds_the_rules(self, staffed, client):
        self.known(staffed)
        data = {
            **fresh_form(client),
            **VALID_DONOR,
            "cin": "BK123456",
            "birth_date": "1985-04-02",
            "first_name": "Meryem",
            "last_name": "Alaoui",
        }
        token = client.post("/kiosk/register", data=data).headers["Location"].rsplit("/", 1)[1]
        doctor = staff(staffed, "doctor", "Médecin 1")
        post(doctor, "/staff/queue/interview/call-next")
        page = doctor.get(f"/staff/visits/{token}", headers=FR).text
        assert "O+" in page
        assert 'data-rule="donations_per_year"' not in page  # one donation this year: fine


class TestClosing:
    def test_the_coordinator_closes_the_day_and_registrations_stop(self, staffed, token, client):
        coordinator = staff(staffed, "coordinator")
        unconfirmed = post(coordinator, "/staff/admin/close")
        assert unconfirmed.status_code == 422
        assert post(coordinator, "/staff/admin/close", {"confirm": "yes"}).status_code == 200
        assert visit(staffed).stage == "left"
        data = {**fresh_form(client), **VALID_DONOR, "cin": "AA300003"}
        assert client.post("/kiosk/register", data=data).status_code == 409

    def test_only_the_coordinator_closes(self, staffed):
        doctor = staff(staffed, "doctor")
        assert post(doctor, "/staff/admin/close", {"confirm": "yes"}).status_code == 403


class TestCorrection:
    @pytest.fixture
    def donated(self, staffed, at_the_chair, token):
        assert record(at_the_chair, token).status_code == 303
        return staff(staffed, "coordinator")

    def correct(self, client, token, **fields):
        return post(client, f"/staff/visits/{token}/donation/correct", {**GOOD_DONATION, **fields})

    def test_the_coordinator_corrects_a_donation_after_the_day_is_closed(
        self, staffed, donated, token
    ):
        assert post(donated, "/staff/admin/close", {"confirm": "yes"}).status_code == 200
        page = donated.get(f"/staff/visits/{token}", headers=FR).text
        assert 'id="donation-correction"' in page and 'value="G123498654321"' in page
        response = self.correct(donated, token, bag_number="G123498654322", volume_ml="430")
        assert response.status_code == 303 and "notice=corrected" in response.headers["Location"]
        with staffed.app_context():
            donation = db.session.scalar(select(Donation))
            assert (donation.bag_number, donation.volume_ml) == ("G123498654322", 430)
            event = db.session.scalar(select(Event).where(Event.action == "correct_donation"))
            assert (event.actor, event.detail) == ("coordinator", "bag_number volume_ml")
        page = donated.get(response.headers["Location"], headers=FR).text
        assert "Fiche du don corrigée (Numéro de poche et Volume (mL))" in page

    def test_the_same_values_change_nothing_and_write_no_event(self, staffed, donated, token):
        response = self.correct(donated, token)
        assert "notice=unchanged" in response.headers["Location"]
        with staffed.app_context():
            corrections = select(Event).where(Event.action == "correct_donation")
            assert db.session.scalar(corrections) is None

    def test_a_bad_correction_is_refused_and_the_record_kept(self, staffed, donated, token):
        response = self.correct(donated, token, volume_ml="5000", bag_number="G123498654322")
        assert response.status_code == 422
        assert 'id="donation-correction"' in response.text and "open" in response.text
        with staffed.app_context():
            donation = db.session.scalar(select(Donation))
            assert (donation.bag_number, donation.volume_ml) == ("G123498654321", 450)

    def test_a_bag_number_of_another_donation_is_refused(
        self, staffed, donated, token, register, doctor, at_the_chair
    ):
        second = register(cin="AA200002").headers["Location"].rsplit("/", 1)[1]
        post(doctor, "/staff/queue/interview/call-next")
        screen(doctor, second)
        post(at_the_chair, "/staff/queue/collection/call-next")
        record(at_the_chair, second, bag_number="G123498654322")
        response = self.correct(donated, token, bag_number="G123498654322")
        assert response.status_code == 422 and "G123498654322" in response.text

    def test_only_the_coordinator_corrects(self, staffed, donated, token, at_the_chair):
        assert self.correct(at_the_chair, token, volume_ml="400").status_code == 403
        page = at_the_chair.get(f"/staff/visits/{token}").text
        assert 'id="donation-correction"' not in page

    def test_a_visit_without_a_donation_has_nothing_to_correct(self, staffed, doctor, token):
        coordinator = staff(staffed, "coordinator")
        response = self.correct(coordinator, token)
        assert response.status_code == 422
