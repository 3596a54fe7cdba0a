"""The coordinator's download of the day's bundle, and the audit line of every export."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from kiosk.db import db
from kiosk.domain.exchange.columns import FHIR_JSON
from kiosk.domain.exchange.verify import bundle_members, verify_bundle
from kiosk.models import Event
from tests.support.staff import create_staff_and_desks, log_in, post

URL = "/staff/export"
PASSPHRASE = "menthe et absinthe"


@pytest.fixture
def login_as(app, register):
    register()  # one donor in the day's bundle
    create_staff_and_desks(app)

    def client_for(username: str):
        client = app.test_client()
        assert log_in(client, username).status_code == 303
        return client

    return client_for


def export_events(app) -> list[Event]:
    with app.app_context():
        return db.session.scalars(select(Event).where(Event.action == "export")).all()


def test_strangers_go_to_the_login_and_other_roles_are_refused(app, login_as):
    stranger = app.test_client()
    response = stranger.post(URL, data={"day": "2026-11-24"})
    assert response.status_code in (302, 400)  # no session: to the login, or no CSRF token
    for role in ("reception", "doctor", "phlebotomist"):
        assert post(login_as(role), URL, {"day": "2026-11-24"}).status_code == 403
    assert export_events(app) == []


def test_the_coordinators_page_has_the_form_with_the_days_date(login_as):
    page = login_as("coordinator").get("/staff/admin").text
    assert f'action="{URL}"' in page
    # The day in three boxes, proposed: 24 / novembre / 2026 (no browser date picker)
    assert 'type="date"' not in page
    assert 'name="day_day" type="text" inputmode="numeric" maxlength="2" value="24"' in page
    assert '<option value="11" selected>novembre (11)</option>' in page
    assert 'name="day_year" type="text" inputmode="numeric" maxlength="4" value="2026"' in page
    assert 'name="passphrase" type="password"' in page
    assert "7-Zip" in page


def test_a_plain_download_is_the_verified_bundle_and_is_logged(app, login_as):
    response = post(
        login_as("coordinator"), URL, {"day": "2026-11-24", "campaign": "KHE-2026-11-24"}
    )
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=KHE-2026-11-24_2026-11-24.zip"
    )
    assert response.headers["Cache-Control"] == "no-store"
    report = verify_bundle(response.data)
    assert report.ok and not report.encrypted and report.files == 5
    (event,) = export_events(app)
    assert (event.actor, event.device, event.visit_id) == ("coordinator", "127.0.0.1", None)
    assert json.loads(event.detail) == {
        "day": "2026-11-24",
        "visits": 1,
        "donations": 0,
        "deferrals": 0,
        "encrypted": False,
    }


def test_with_a_passphrase_the_download_is_encrypted(app, login_as):
    form = {"day": "2026-11-24", "passphrase": PASSPHRASE, "passphrase_again": PASSPHRASE}
    response = post(login_as("coordinator"), URL, form)
    assert response.status_code == 200
    assert verify_bundle(response.data).problems == [
        "the bundle is encrypted: its passphrase is needed"
    ]
    report = verify_bundle(response.data, PASSPHRASE)
    assert report.ok and report.encrypted
    assert json.loads(bundle_members(response.data, PASSPHRASE)[FHIR_JSON])["type"] == "collection"
    (event,) = export_events(app)
    assert json.loads(event.detail)["encrypted"] is True
    assert PASSPHRASE not in event.detail


@pytest.mark.parametrize(
    "parts",
    [
        {"day_day": "24", "day_month": "11", "day_year": "2026"},
        {"day_day": "٢٤", "day_month": "11", "day_year": "٢٠٢٦"},  # Arabic-Indic digits
        {"day_day": "24", "day_month": "11", "day_year": "2026", "day": "2026-11-25"},  # boxes win
    ],
)
def test_the_day_typed_in_three_boxes_downloads_that_day(app, login_as, parts):
    response = post(login_as("coordinator"), URL, {**parts, "campaign": "KHE-2026-11-24"})
    assert response.status_code == 200, response.text
    assert "filename=KHE-2026-11-24_2026-11-24.zip" in response.headers["Content-Disposition"]
    (event,) = export_events(app)
    assert json.loads(event.detail)["day"] == "2026-11-24"


def test_a_refused_day_is_shown_back_as_typed_next_to_its_message(login_as):
    typed = {"day_day": "31", "day_month": "2", "day_year": "2026"}
    response = post(login_as("coordinator"), URL, typed)
    assert response.status_code == 422
    page = response.text
    assert 'name="day_day" type="text" inputmode="numeric" maxlength="2" value="31"' in page
    assert '<option value="2" selected>février (2)</option>' in page
    assert 'id="err-day" role="alert">Cette date n’existe pas' in page


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"day": "2026-11-25"}, "Cette campagne compte un seul jour, le 24 novembre 2026"),
        ({"day": "24/11/2026"}, "Cette date n’existe pas"),
        ({"day": ""}, "Veuillez indiquer la date."),
        ({"day_day": "25", "day_month": "11", "day_year": "2026"}, "un seul jour, le 24 novembre"),
        ({"day_day": "31", "day_month": "11", "day_year": "2026"}, "Cette date n’existe pas"),
        ({"day_day": "24", "day_month": "", "day_year": "2026"}, "Indiquez le jour, le mois et"),
        ({"day_day": "24", "day_month": "11", "day_year": "26"}, "avec ses quatre chiffres"),
        ({"day_day": "", "day_month": "", "day_year": ""}, "Veuillez indiquer la date."),
        ({"day_day": "x" * 5000, "day_month": "11", "day_year": "2026"}, "Cette date n’existe pas"),
        ({"day": "2026-11-24", "campaign": "NOPE"}, "Aucune campagne de ce nom à exporter."),
        (
            {"day": "2026-11-24", "passphrase": PASSPHRASE, "passphrase_again": PASSPHRASE + "!"},
            "Les deux phrases secrètes diffèrent",
        ),
        (
            {"day": "2026-11-24", "passphrase": "short", "passphrase_again": "short"},
            "Une phrase secrète compte de 8 à 200 caractères.",
        ),
        (
            {"day": "2026-11-24", "passphrase": "", "passphrase_again": PASSPHRASE},
            "Les deux phrases secrètes diffèrent",
        ),
        (  # the centre could never type it to open the bundle
            {
                "day": "2026-11-24",
                "passphrase": "thé\x7fmenthe",
                "passphrase_again": "thé\x7fmenthe",
            },
            "ne doit contenir que des caractères tapés au clavier",
        ),
    ],
)
def test_bad_input_gives_the_page_with_a_clear_message(app, login_as, form, message):
    response = post(login_as("coordinator"), URL, form)
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    assert message in response.text
    assert "L’export n’a pas été créé" in response.text
    assert PASSPHRASE not in response.text  # a passphrase is never sent back
    assert export_events(app) == []


def test_the_messages_are_in_the_coordinators_language(login_as):
    response = post(
        login_as("coordinator"), URL, {"day": "2026-11-25"}, headers={"Accept-Language": "ar"}
    )
    assert response.status_code == 422
    assert "لهذه الحملة يوم واحد، 24 نونبر 2026" in response.text


def test_the_command_writes_the_same_audit_line(app, register, tmp_path, kiosk_command):
    register()
    kiosk = kiosk_command(tmp_path / "instance", USER="coord.nadia")
    out = tmp_path / "day.zip"
    result = kiosk("export", "--out", out)
    assert result.exit_code == 0, result.output
    (event,) = export_events(app)
    assert (event.actor, event.device) == ("coord.nadia", "server")
    assert json.loads(event.detail)["visits"] == 1
    assert date.fromisoformat(json.loads(event.detail)["day"]) == date(2026, 11, 24)


def test_without_any_campaign_there_is_nothing_to_download(app_without_campaign):
    create_staff_and_desks(app_without_campaign)
    client = app_without_campaign.test_client()
    assert log_in(client, "coordinator").status_code == 303
    assert f'action="{URL}"' not in client.get("/staff/admin").text
    response = post(client, URL, {"day": "2026-11-24"})
    assert response.status_code == 422
    assert "Aucune campagne de ce nom à exporter." in response.text
