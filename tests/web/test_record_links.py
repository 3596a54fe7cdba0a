"""The called donor's record one tap from the console: records keyed by the visit's row id, and
queue numbers typed into the scan field. Ticket tokens keep working beside them."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from kiosk.db import db
from kiosk.domain.campaigns import CampaignDetails, close_campaign, open_campaign
from kiosk.domain.queue import Actor
from kiosk.domain.registration import find_visit_by_key, is_row_id, typed_queue_number
from kiosk.models import Screening, Visit
from tests.support.factories import CAMPAIGN_DAY, FROZEN_NOW
from tests.support.staff import log_in, pick_desk, post

FR = {"Accept-Language": "fr"}
AR = {"Accept-Language": "ar"}
SCREENING = {
    "weight_kg": "68",
    "systolic": "125",
    "diastolic": "80",
    "pulse": "72",
    "hemoglobin_g_dl": "13.1",
    "decision": "eligible",
}


@pytest.fixture
def tokens(register):
    """Three donors registered at the kiosk (numbers 1, 2, 3); their ticket tokens."""
    return [register(cin=f"AB20000{n}").headers["Location"].rsplit("/", 1)[1] for n in range(1, 4)]


def ids_by_number(app) -> dict[int, int]:
    with app.app_context():
        return {v.queue_number: v.id for v in db.session.scalars(select(Visit))}


def staff(app, username: str, desk: str | None = None):
    client = app.test_client()
    assert log_in(client, username).status_code == 303
    if desk:
        assert pick_desk(client, desk).status_code == 303
    return client


# --- the domain's pieces --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("4", 4),
        ("004", 4),
        ("#4", 4),
        (" 4 ", 4),
        ("# 0 0 4", 4),
        ("N° 12", 12),
        ("no. 12", 12),
        ("٤", 4),  # Arabic-Indic digits, as an Arabic phone keyboard types them
        ("999999", 999999),
        ("0", None),
        ("000", None),
        ("", None),
        ("#", None),
        ("1234567", None),
        ("4a", None),
        ("-4", None),
        ("4.0", None),
        ("A" * 32, None),
    ],
)
def test_a_typed_queue_number(typed, number):
    assert typed_queue_number(typed) == number


@pytest.mark.parametrize(
    ("key", "row_id"),
    [
        ("1", True),
        ("123456789012345678", True),
        ("1" * 19, False),
        ("A" * 32, False),
        ("1" * 32, False),
        ("٤", False),
        ("", False),
        ("-1", False),
    ],
)
def test_a_key_is_a_row_id_or_a_token(key, row_id):
    assert is_row_id(key) is row_id


def test_keys_find_the_same_visit(app, tokens):
    with app.app_context():
        by_token = find_visit_by_key(db.session, tokens[1])
        assert by_token is not None and by_token.queue_number == 2
        assert find_visit_by_key(db.session, str(by_token.id)).id == by_token.id
        assert find_visit_by_key(db.session, "999999") is None
        assert find_visit_by_key(db.session, "1" * 19) is None


# --- the record by its row id ---------------------------------------------------------------------


def test_strangers_are_sent_to_log_in(staffed, tokens):
    visit_id = ids_by_number(staffed)[1]
    client = staffed.test_client()
    for url in (f"/staff/visits/{visit_id}", "/staff/scan?code=1"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
    response = client.post(f"/staff/visits/{visit_id}/screening", data=SCREENING)
    assert response.status_code in (302, 400)  # no session: no CSRF token, no login


def test_the_console_links_each_number_to_its_record(staffed, tokens):
    ids = ids_by_number(staffed)
    doctor = staff(staffed, "doctor", "Médecin 1")
    post(doctor, "/staff/queue/interview/call-next")
    page = doctor.get("/staff/queue/interview", headers=FR).text
    serving = re.search(r'<div class="serving".*?</div>', page, re.S).group(0)
    assert f'href="/staff/visits/{ids[1]}"' in serving
    waiting = re.search(r'<section id="waiting".*?</section>', page, re.S).group(0)
    for number in (2, 3):
        assert f'href="/staff/visits/{ids[number]}">{number:03d}</a>' in waiting
    # No personal data and no ticket token in the console's links.
    assert not any(token in page for token in tokens)
    assert not re.search(r'href="/staff/visits/[^"]*[A-Za-z]', page)


def test_the_absent_list_links_too(staffed, tokens, app):
    ids = ids_by_number(staffed)
    doctor = staff(staffed, "doctor", "Médecin 1")
    post(doctor, "/staff/queue/interview/call-next")
    for _ in range(staffed.config["NO_SHOW_AFTER_RECALLS"]):
        post(doctor, "/staff/queue/interview/recall")
    assert post(doctor, "/staff/queue/interview/no-show").status_code == 200
    page = doctor.get("/staff/queue/interview").text
    absent = re.search(r'<ul class="absent-list">.*?</ul>', page, re.S).group(0)
    assert f'href="/staff/visits/{ids[1]}"' in absent


def test_the_record_by_id_posts_to_its_id(staffed, tokens):
    ids = ids_by_number(staffed)
    doctor = staff(staffed, "doctor", "Médecin 1")
    post(doctor, "/staff/queue/interview/call-next")
    response = doctor.get(f"/staff/visits/{ids[1]}", headers=FR)
    assert response.status_code == 200
    page = response.text
    assert f'action="/staff/visits/{ids[1]}/screening"' in page
    assert f'hx-post="/staff/visits/{ids[1]}/findings"' in page
    # The form comes before identity, questionnaire and history.
    assert page.index('id="screening"') < page.index('id="identity"')
    assert page.index('id="screening"') < page.index('id="questionnaire"')
    assert page.index('id="screening"') < page.index('id="history"')
    # Without the ticket's token the ticket cannot be printed again: the page says how.
    assert "/reprint" not in page and "/ticket/" not in page
    assert "en scannant le QR code du ticket" in page

    response = post(doctor, f"/staff/visits/{ids[1]}/screening", SCREENING)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/staff/visits/{ids[1]}"
    with staffed.app_context():
        assert db.session.scalar(select(Screening.visit_id)) == ids[1]


def test_the_record_by_token_keeps_its_token(staffed, tokens):
    doctor = staff(staffed, "doctor", "Médecin 1")
    post(doctor, "/staff/queue/interview/call-next")
    page = doctor.get(f"/staff/visits/{tokens[0]}").text
    assert f'action="/staff/visits/{tokens[0]}/screening"' in page
    assert f"/ticket/{tokens[0]}" in page  # no printer here: the ticket's page, to print it


def test_live_findings_by_id(staffed, tokens):
    ids = ids_by_number(staffed)
    doctor = staff(staffed, "doctor", "Médecin 1")
    response = post(doctor, f"/staff/visits/{ids[1]}/findings", {**SCREENING, "systolic": "175"})
    assert response.status_code == 200
    assert 'data-verdict="temporary"' in response.text


@pytest.mark.parametrize(
    ("username", "action"),
    [
        ("phlebotomist", "screening"),
        ("reception", "screening"),
        ("doctor", "donation"),
        ("reception", "donation"),
        ("doctor", "donation/correct"),
    ],
)
def test_a_role_without_the_right_is_refused(staffed, tokens, username, action):
    ids = ids_by_number(staffed)
    client = staff(staffed, username)
    response = post(client, f"/staff/visits/{ids[1]}/{action}", SCREENING)
    assert response.status_code == 403
    with staffed.app_context():
        assert db.session.scalar(select(Screening)) is None


@pytest.mark.parametrize("key", ["999999", "0", "1" * 18, "1" * 19, "-1", "1.0", "%20"])
def test_an_unknown_id_is_404(staffed, tokens, key):
    reception = staff(staffed, "reception")
    assert reception.get(f"/staff/visits/{key}").status_code == 404
    assert post(reception, f"/staff/visits/{key}/finish").status_code == 404


# --- numbers typed into the scan field ------------------------------------------------------------


@pytest.mark.parametrize("typed", ["2", "002", "#2", " 2 ", "# 002", "٢"])
def test_a_typed_number_opens_the_visit(staffed, tokens, typed):
    ids = ids_by_number(staffed)
    response = staff(staffed, "phlebotomist").get("/staff/scan", query_string={"code": typed})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/staff/visits/{ids[2]}"


def test_tickets_still_open_by_their_token(staffed, tokens):
    response = staff(staffed, "doctor").get("/staff/scan", query_string={"code": tokens[2]})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/staff/visits/{tokens[2]}"


@pytest.mark.parametrize(("headers", "text"), [(FR, "Personne n’a le numéro 007"), (AR, "007")])
def test_an_unknown_number_says_so_and_keeps_what_was_typed(staffed, tokens, headers, text):
    response = staff(staffed, "doctor").get(
        "/staff/scan", query_string={"code": "#7"}, headers=headers
    )
    assert response.status_code == 404
    page = html.unescape(response.text)
    assert text in page
    assert 'value="#7"' in page
    if headers is AR:
        assert "Personne" not in page and "Nobody" not in page


def test_a_number_of_another_campaign_is_not_found(staffed, tokens, clock, register):
    with staffed.app_context():
        close_campaign(db.session, Actor("coordinator", "test"), FROZEN_NOW)
        details = CampaignDetails("Deuxième collecte", "Khénifra", CAMPAIGN_DAY, "CRTS Meknès")
        open_campaign(db.session, details, clock())
    register(cin="AB300001")
    with staffed.app_context():
        today = db.session.scalars(select(Visit).order_by(Visit.id.desc())).first()
    assert today.queue_number == 1
    doctor = staff(staffed, "doctor")
    assert doctor.get("/staff/scan", query_string={"code": "1"}).headers["Location"] == (
        f"/staff/visits/{today.id}"
    )
    response = doctor.get("/staff/scan", query_string={"code": "3"}, headers=FR)
    assert response.status_code == 404  # number 3 was given in the closed campaign only
    assert "Personne n’a le numéro 003" in html.unescape(response.text)


def test_a_number_without_an_open_campaign(staffed, tokens):
    with staffed.app_context():
        close_campaign(db.session, Actor("coordinator", "test"), FROZEN_NOW)
    response = staff(staffed, "doctor").get("/staff/scan", query_string={"code": "1"}, headers=FR)
    assert response.status_code == 404
    assert "Aucune collecte n’est ouverte." in html.unescape(response.text)
