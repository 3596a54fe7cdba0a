"""The kiosk's routes through the Flask test client: the wizard, the final POST, bad input."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from kiosk.db import db
from kiosk.models import Donor, Visit
from tests.support.factories import VALID_DONOR, fresh_form, ticket_token

HTMX = {"HX-Request": "true"}


def visits(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Visit.id)))


def test_root_leads_to_the_kiosk(client):
    response = client.get("/?lang=ar")
    assert response.status_code == 302
    assert response.headers["Location"] == "/kiosk?lang=ar"


def test_start_page_shows_campaign_languages_and_the_notice(client):
    html = client.get("/kiosk?lang=fr").get_data(as_text=True)
    assert "Don de sang" in html and "Khénifra" in html
    assert "العربية" in html and "Français" in html
    assert "CRTS Meknès" in html  # who receives the data, before any personal question
    assert "09-08" in html
    assert 'href="/kiosk/register"' in html


def test_start_page_without_an_open_campaign_says_so(app_without_campaign):
    html = app_without_campaign.test_client().get("/kiosk?lang=fr").get_data(as_text=True)
    assert "Aucune collecte n’est ouverte" in html
    assert "/kiosk/register" not in html


def test_registration_page_carries_csrf_and_a_fresh_request_id(client):
    first, second = fresh_form(client), fresh_form(client)
    assert first["csrf_token"]
    assert len(first["request_id"]) >= 16
    assert first["request_id"] != second["request_id"]


def test_a_whole_registration_in_one_plain_post(app, register):
    response = register()
    assert response.status_code == 303
    token = ticket_token(response)
    with app.app_context():
        visit = db.session.scalar(select(Visit))
        assert visit.queue_number == 1
        assert visit.donor.cin == "AB123456"
        assert visit.donor.phone == "+212612345678"
        assert token not in str(visit.request_id)


def test_htmx_registration_answers_with_hx_redirect(register):
    response = register(headers=HTMX)
    assert response.status_code == 200
    assert ticket_token(response)


def test_replayed_request_id_gives_the_same_visit_and_number(app, client, register):
    form = fresh_form(client)
    first = register(form=form)
    again = register(form=form)
    assert first.status_code == again.status_code == 303
    assert visits(app) == 1
    numbers = {
        re.search(r'data-queue-number="(\d+)"', client.get(r.headers["Location"]).text).group(1)
        for r in (first, again)
    }
    assert numbers == {"1"}


def test_a_cin_registered_today_is_sent_to_reception_without_a_ticket(app, client, register):
    register()
    again = register(first_name="Fatima")
    assert visits(app) == 1
    assert again.status_code == 200
    page = again.get_data(as_text=True)
    assert "data-already-registered" in page
    assert "/ticket/" not in page and "/t/" not in page
    assert "Fatima" not in page and "data-queue-number" not in page


def test_numbers_follow_each_other(app, client, register):
    for cin in ("AA100001", "AA100002", "AA100003"):
        register(cin=cin)
    with app.app_context():
        numbers = db.session.scalars(select(Visit.queue_number).order_by(Visit.id)).all()
    assert numbers == [1, 2, 3]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("birth_date", "2010-01-01", "au moins 18 ans"),
        ("birth_date", "1950-01-01", "au plus 65 ans"),
        ("birth_date", "1990-02-30", "Cette date n’existe pas"),
        ("first_name", "12345", "ne peut pas contenir de chiffres"),
        ("last_name", "", "Veuillez remplir ce champ"),
        ("cin", "123ABC", "une ou deux lettres suivies de chiffres"),
        ("phone", "12345", "numéro marocain"),
        ("sex", "X", "choisir une des options"),
        ("category", "army", "choisir une des options"),
        ("consent", None, "qu’avec votre accord"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_is_stored(
    app, register, field, value, message
):
    response = register(headers={"Accept-Language": "fr"}, **{field: value})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert f'id="err-{field}"' in html
    assert visits(app) == 0


def test_a_refused_registration_keeps_what_was_typed(register):
    html = register(birth_date="2010-01-01", first_name="Yassine").get_data(as_text=True)
    assert 'value="Yassine"' in html
    assert 'value="AB123456"' not in html or "ab123456" in html.lower()


def test_the_same_cin_with_another_birth_date_gets_the_same_answer(app, client, register):
    right = register().headers["Location"]
    ticket_before = client.get(right.replace("/ticket/", "/t/")).text
    answers = [register(birth_date="1991-05-17", first_name="Salma") for _ in range(2)]
    answers.append(register())
    assert {a.status_code for a in answers} == {200}
    assert len({a.get_data() for a in answers}) == 1
    assert visits(app) == 1
    assert client.get(right.replace("/ticket/", "/t/")).text == ticket_before


def test_registration_without_an_open_campaign_is_refused_kindly(app_without_campaign):
    client = app_without_campaign.test_client()
    data = {**fresh_form(client), **VALID_DONOR}
    response = client.post("/kiosk/register", data=data, headers={"Accept-Language": "fr"})
    assert response.status_code == 409
    assert "aucune collecte n’est ouverte" in response.text
    with app_without_campaign.app_context():
        assert db.session.scalar(select(func.count(Donor.id))) == 0


def test_a_missing_or_odd_request_id_still_registers_once(app, client):
    data = {**fresh_form(client), **VALID_DONOR, "request_id": "<script>"}
    assert client.post("/kiosk/register", data=data).status_code == 303
    assert visits(app) == 1


def test_over_long_values_are_cut_and_refused_not_crashed(app, register):
    response = register(first_name="A" * 100_000)
    assert response.status_code == 422
    assert visits(app) == 0


def test_without_csrf_token_nothing_is_stored(app, client):
    data = {**VALID_DONOR, "request_id": "request-no-csrf-000001"}
    response = client.post("/kiosk/register", data=data, headers={"Accept-Language": "fr"})
    assert response.status_code == 400
    assert "Cette page a expiré" in response.text
    assert visits(app) == 0


def test_a_token_from_another_session_is_refused(app, client):
    other = app.test_client()
    data = {**fresh_form(other), **VALID_DONOR}
    fresh_form(client)
    assert client.post("/kiosk/register", data=data).status_code == 400
    assert visits(app) == 0


class TestWizard:
    def step(self, client, form, step, headers=None, **fields):
        data = {**form, "step": step, **fields}
        return client.post("/kiosk/wizard", data=data, headers=headers or {})

    def test_the_wizard_walks_identity_contact_consent_review(self, client):
        form = fresh_form(client)
        identity = {k: VALID_DONOR[k] for k in ("first_name", "last_name", "sex", "birth_date")}
        response = self.step(client, form, "identity", **identity)
        assert response.status_code == 200
        assert 'data-step="contact"' in response.text
        assert 'type="hidden" name="first_name" value="Fatima"' in response.text
        response = self.step(client, form, "contact", **identity, category="citizen")
        assert 'data-step="questionnaire"' in response.text
        assert 'name="q_vaccine"' in response.text
        unanswered = self.step(client, form, "questionnaire", **identity, category="citizen")
        assert unanswered.status_code == 422
        answers = {k: v for k, v in VALID_DONOR.items() if k.startswith("q_")}
        response = self.step(client, form, "questionnaire", **identity, **answers)
        assert 'data-step="consent"' in response.text
        assert 'type="hidden" name="q_vaccine" value="no"' in response.text
        response = self.step(client, form, "consent", **identity, category="citizen", consent="yes")
        assert 'data-step="review"' in response.text
        assert 'action="/kiosk/register"' in response.text

    def test_the_birth_date_comes_in_three_boxes(self, client):
        form = fresh_form(client)
        identity = {k: VALID_DONOR[k] for k in ("first_name", "last_name", "sex")}
        parts = {"birth_day": "7", "birth_month": "3", "birth_year": "1990"}
        response = self.step(client, form, "identity", **identity, **parts)
        assert 'data-step="contact"' in response.text
        assert 'name="birth_date" value="1990-03-07"' in response.text

    def test_a_wrong_birth_date_is_shown_back_as_typed(self, client):
        form = fresh_form(client)
        parts = {"birth_day": "31", "birth_month": "2", "birth_year": "1990"}
        response = self.step(client, form, "identity", {"Accept-Language": "fr"}, **parts)
        assert response.status_code == 422
        assert "Cette date n’existe pas" in response.text
        assert 'name="birth_day" type="text" inputmode="numeric" maxlength="2" value="31"' in (
            response.text
        )
        assert '<option value="2" selected>février (2)</option>' in response.text

    def test_months_are_named_in_the_donors_language(self, client):
        html = client.get("/kiosk/register?lang=ar").text
        assert ">يناير (1)</option>" in html
        # As Morocco names them (ar_MA), not مايو, أغسطس, ديسمبر
        for month in ("ماي (5)", "غشت (8)", "شتنبر (9)", "دجنبر (12)"):
            assert f">{month}</option>" in html
        html = client.get("/kiosk/register?lang=fr").text
        assert ">janvier (1)</option>" in html

    def test_a_step_with_errors_stays_put_with_its_messages(self, client):
        form = fresh_form(client)
        response = self.step(client, form, "identity", {"Accept-Language": "fr"}, first_name="1")
        assert response.status_code == 422
        assert 'data-step="identity"' in response.text
        assert "ne peut pas contenir de chiffres" in response.text
        assert 'aria-invalid="true"' in response.text

    def test_htmx_gets_only_the_wizard_fragment(self, client):
        form = fresh_form(client)
        response = self.step(client, form, "identity", HTMX, first_name="")
        assert response.text.lstrip().startswith("<form")
        assert "<html" not in response.text

    def test_back_keeps_the_values(self, client):
        form = fresh_form(client)
        response = self.step(client, form, "contact", go="back", first_name="Karim")
        assert 'data-step="identity"' in response.text
        assert 'value="Karim"' in response.text

    def test_switching_language_keeps_the_step_and_values(self, client):
        form = fresh_form(client)
        response = self.step(client, form, "contact", switch_lang="ar", first_name="Karim")
        assert 'lang="ar" dir="rtl"' in response.text
        assert 'data-step="contact"' in response.text
        assert 'value="Karim"' in response.text
        assert "lang=ar" in response.headers["Set-Cookie"]

    def test_an_unknown_step_starts_at_identity(self, client):
        response = self.step(client, fresh_form(client), "hacking")
        assert 'data-step="identity"' in response.text

    def test_the_review_cannot_be_reached_by_skipping_steps(self, client):
        response = self.step(client, fresh_form(client), "identity", go="review")
        assert response.status_code == 422
        assert 'data-step="identity"' in response.text


def test_wrong_methods_get_a_page_not_a_traceback(client):
    response = client.get("/kiosk/wizard")
    assert response.status_code == 405
    assert "<html" in response.text


def test_health_check(client):
    assert client.get("/healthz").text == "ok"
