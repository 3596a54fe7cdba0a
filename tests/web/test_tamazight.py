"""Tamazight (zgh, Tifinagh) on the donor's pages; Arabic or French on the staff's.

The kiosk, the ticket, the /t/ page and the display speak Tamazight when it is chosen, with the
campaign's and the desks' names in Tamazight where they are given and dates from Babel's zgh
locale; a staff page asked for in Tamazight (a kiosk tablet's cookie) is shown in the staff
language the browser prefers, else French, never in English."""

from __future__ import annotations

import re

import pytest
from babel.dates import format_date

from kiosk.db import db
from kiosk.domain.campaigns import CampaignDetails, open_campaign
from kiosk.domain.queue import add_desk
from tests.support.factories import CAMPAIGN_DAY
from tests.support.staff import post

HTMX = {"HX-Request": "true"}
SITE_ZGH = "ⵅⵏⵉⴼⵔⴰ"
CENTRE_ZGH = "ⴰⵎⵎⴰⵙ ⴰⵏⴰⵎⵏⴰⴹ ⵏ ⵎⴽⵏⴰⵙ"
DESK_ZGH = "ⴰⵎⵊⵊⴰⵢ 3"
TIFINAGH = re.compile(r"[\u2D30-\u2D7F]")


def html_tag(response) -> str:
    return response.text.split("<head>")[0]


def test_the_kiosk_speaks_tamazight_left_to_right(client):
    response = client.get("/kiosk?lang=zgh")
    assert 'lang="zgh" dir="ltr"' in html_tag(response)
    assert "ⴰⵣⵎⵎⴻⵎ" in response.text or "ⵣⵎⵎⴻⵎ" in response.text
    assert "Register to give blood" not in response.text
    assert "lang=zgh" in response.headers["Set-Cookie"]


def test_the_tamazight_button_stands_beside_arabic_and_french(client):
    html = client.get("/kiosk?lang=fr").text
    buttons = re.findall(r'class="button language[^"]*" lang="(\w+)"[^>]*>([^<]+)</a>', html)
    assert buttons == [("ar", "العربية"), ("fr", "Français"), ("zgh", "ⵜⴰⵎⴰⵣⵉⵖⵜ")]


def test_the_questionnaire_in_tamazight_has_pictograms_and_big_yes_no(client):
    html = client.get("/kiosk/questionnaire?lang=zgh").text
    legends = re.findall(r"<legend>([^<]*)</legend>", html)
    questions = [legend for legend in legends if "?" in legend]
    assert questions and all(TIFINAGH.search(question) for question in questions)
    # Decorative: the question's text is beside the picture.
    assert re.search(r'<img class="pictogram" src="/static/pictograms/syringe\.svg" alt=""', html)
    assert html.count('type="radio"') == 2 * len(questions)
    assert "✓" in html and "✗" in html and "ⵢⴰⵀ" in html and "ⵓⵀⵓ" in html


def test_a_validation_message_reaches_the_donor_in_tamazight(client):
    page = client.get("/kiosk/register?lang=zgh").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    request_id = re.search(r'name="request_id" value="([^"]*)"', page).group(1)
    response = client.post(
        "/kiosk/wizard",
        data={"csrf_token": token, "step": "identity", "go": "next", "request_id": request_id},
    )
    errors = re.findall(r'class="field-error"[^>]*>([^<]+)<', response.text)
    assert errors and all(TIFINAGH.search(error) for error in errors)


def test_the_ticket_and_status_page_in_tamazight_with_babel_zgh_dates(client, register):
    client.get("/kiosk?lang=zgh")  # the donor's button, remembered in a cookie
    response = register()
    ticket = client.get(response.headers["Location"]).text
    assert 'lang="zgh"' in ticket and "ⵜⴰⵡⵔⵉⵇⵜ" in ticket
    month = format_date(CAMPAIGN_DAY, "MMMM", locale="zgh")
    assert TIFINAGH.search(month) and month in ticket
    token = response.headers["Location"].rsplit("/", 1)[1]
    status = client.get(f"/t/{token}").text
    assert 'lang="zgh"' in status and "ⴰⴷⵖⴰⵔ ⵏⵏⴽ" in status


def test_the_names_per_language_reach_the_tamazight_pages(app, clock, login_as):
    with app.app_context():
        details = CampaignDetails(
            "Don de sang",
            "Khénifra",
            CAMPAIGN_DAY,
            "CRTS Meknès",
            site_names={"zgh": SITE_ZGH},
            centre_names={"zgh": CENTRE_ZGH},
        )
        open_campaign(db.session, details, clock())
    kiosk = app.test_client().get("/kiosk?lang=zgh").text
    assert SITE_ZGH in kiosk and CENTRE_ZGH in kiosk and "Khénifra" not in kiosk


@pytest.fixture
def zgh_desk(staffed):
    with staffed.app_context():
        add_desk(db.session, "Médecin 3", "interview", {"ar": "الطبيب 3", "zgh": DESK_ZGH})
    return staffed


def test_the_display_announces_in_three_languages_with_the_tamazight_desk_name(
    zgh_desk, login_as, register
):
    register()
    doctor = login_as("doctor", desk="Médecin 3")
    assert post(doctor, "/staff/queue/interview/call-next").status_code == 200
    board = zgh_desk.test_client().get("/display/board?lang=zgh", headers=HTMX).text
    said = dict(re.findall(r'data-say-(ar|fr|zgh)="([^"]*)"', board))
    assert set(said) == {"ar", "fr", "zgh"}
    assert DESK_ZGH in said["zgh"] and "ⵓⵟⵟⵓⵏ" in said["zgh"]
    page = zgh_desk.test_client().get("/display?lang=zgh").text
    assert f'<bdi class="desk">{DESK_ZGH}</bdi>' in page and 'lang="zgh"' in page


@pytest.mark.parametrize(
    ("accept", "expected"), [("", "fr"), ("ar-MA,ar;q=0.9", "ar"), ("zgh,fr;q=0.5", "fr")]
)
def test_a_staff_page_asked_in_tamazight_falls_back_to_arabic_or_french(client, accept, expected):
    headers = {"Accept-Language": accept} if accept else {}
    response = client.get("/login?lang=zgh", headers=headers)
    assert f'lang="{expected}"' in html_tag(response)
    assert "ⵜⴰⵎⴰⵣⵉⵖⵜ" not in response.text  # no Tamazight button on a staff page
    assert "Log in" not in response.text  # never English


def test_the_kiosk_cookie_keeps_tamazight_for_donors_only(client):
    client.get("/kiosk?lang=zgh")
    assert 'lang="zgh"' in html_tag(client.get("/kiosk"))
    assert 'lang="fr"' in html_tag(client.get("/login"))
    assert 'lang="zgh"' in html_tag(client.get("/kiosk"))


def test_a_missing_page_is_explained_in_tamazight(client):
    response = client.get("/no-such-page?lang=zgh")
    assert response.status_code == 404
    assert 'lang="zgh"' in html_tag(response) and "ⵓⵔ ⵜⵜⵓⴼⴰ ⵜⴰⵙⵏⴰ." in response.text
