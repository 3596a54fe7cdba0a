"""Names per language through the pages, and what every full page has: one h1, a favicon.

The campaign's site and centre and each desk can be named in Arabic (and French); the kiosk, the
ticket, the /t/ page and the display use the page's language, and the display's Arabic voice says
the Arabic desk name. The app's own actors ("kiosk", "system") are worded in the page's language.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from kiosk import create_app
from kiosk.cli import cli
from kiosk.db import db
from kiosk.domain.campaigns import CampaignDetails, current_campaign, open_campaign
from kiosk.domain.names import parse
from kiosk.domain.queue import add_desk
from kiosk.domain.staff import AccountError, add_staff
from kiosk.models import Campaign, Desk
from tests.support.factories import CAMPAIGN_DAY, FROZEN_NOW
from tests.support.staff import create_staff_and_desks, log_in, post

HTMX = {"HX-Request": "true"}
CENTRE_AR = "المركز الجهوي لتحاقن الدم بمكناس"
SITE_AR = "خنيفرة"
DESK_AR = "الطبيب 3"


@pytest.fixture
def staffed(app):
    create_staff_and_desks(app)
    with app.app_context():
        add_desk(db.session, "Médecin 3", "interview", {"ar": DESK_AR})
    return app


@pytest.fixture
def named_campaign(app, clock):
    """The open campaign (nobody registered yet) given its Arabic site and centre."""
    with app.app_context():
        details = CampaignDetails(
            "Don de sang",
            "Khénifra",
            CAMPAIGN_DAY,
            "CRTS Meknès",
            site_names={"ar": SITE_AR},
            centre_names={"ar": CENTRE_AR, "fr": "CRTS de Meknès"},
        )
        open_campaign(db.session, details, clock())
    return app


def token_of(response) -> str:
    return response.headers["Location"].rsplit("/", 1)[1]


def desk_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Desk.id)))


# --- the campaign's names -------------------------------------------------------------------------


def test_the_kiosk_names_the_centre_and_site_in_the_page_language(named_campaign):
    client = named_campaign.test_client()
    arabic = client.get("/kiosk?lang=ar").text
    assert CENTRE_AR in arabic and SITE_AR in arabic
    assert "CRTS" not in arabic and "Khénifra" not in arabic
    french = client.get("/kiosk?lang=fr").text
    assert "CRTS de Meknès" in french and "Khénifra" in french
    assert CENTRE_AR not in french


def test_a_campaign_without_names_per_language_shows_its_one_name(client):
    arabic = client.get("/kiosk?lang=ar").text
    assert "CRTS Meknès" in arabic and "Khénifra" in arabic


def test_the_ticket_and_the_status_page_name_the_site_in_the_donor_language(
    named_campaign, register
):
    response = register(headers={"Accept-Language": "ar"})
    client = named_campaign.test_client()
    ticket = client.get(response.headers["Location"], headers={"Accept-Language": "ar"}).text
    assert SITE_AR in ticket
    status = client.get(f"/t/{token_of(response)}?lang=ar").text
    assert SITE_AR in status
    assert "Khénifra" in client.get(f"/t/{token_of(response)}?lang=fr").text


def test_campaign_open_takes_the_names_in_arabic_and_french(tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = CliRunner().invoke(
        cli,
        ["campaign", "open", "--name", "Don", "--site", "Khénifra", "--site-ar", SITE_AR,
         "--centre", "CRTS Meknès", "--centre-ar", CENTRE_AR, "--date", "2026-06-14"],
        prog_name="kiosk",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    refused = CliRunner().invoke(
        cli,
        ["campaign", "open", "--name", "Don", "--site", "K", "--site-ar", "خنيفرة\u202e"],
        prog_name="kiosk",
    )
    assert refused.exit_code == 1 and "hidden characters" in refused.output
    app = create_app({"INSTANCE": tmp_path / "instance"})
    with app.app_context():
        campaign = db.session.scalar(select(Campaign))
        assert campaign.site == "Khénifra"
        assert parse(campaign.site_names) == {"ar": SITE_AR}
        assert parse(campaign.centre_names) == {"ar": CENTRE_AR}
        db.engine.dispose()


def test_the_default_campaign_speaks_both_languages(make_app):
    from kiosk.cli.campaign import default_campaign

    app = make_app()
    with app.app_context():
        open_campaign(db.session, default_campaign(app), FROZEN_NOW)
        campaign = current_campaign(db.session)
        assert parse(campaign.site_names)["ar"] == SITE_AR
        assert parse(campaign.centre_names) == {
            "ar": CENTRE_AR,
            "fr": "CRTS Meknès",
            "zgh": "ⴰⵎⵎⴰⵙ ⴰⵏⴰⵎⵏⴰⴹ ⵏ ⵓⵙⵏⴽⵛⵎ ⵏ ⵉⴷⴰⵎⵎⵏ ⵏ ⵎⴽⵏⴰⵙ",
        }
        assert parse(campaign.site_names)["zgh"] == "ⵅⵏⵉⴼⵔⴰ"
        db.engine.dispose()


# --- desks ----------------------------------------------------------------------------------------


def test_a_desk_is_added_with_its_arabic_name(login_as, staffed):
    client = login_as("coordinator")
    response = post(
        client,
        "/staff/admin/desks",
        {"name": "Fauteuil 3", "name_ar": " كرسي  3 ", "stage": "collection"},
    )
    assert response.status_code == 200
    with staffed.app_context():
        desk = db.session.scalar(select(Desk).where(Desk.name == "Fauteuil 3"))
        assert parse(desk.names) == {"ar": "كرسي 3"}
    assert "كرسي 3" in client.get("/staff/admin").text
    phlebotomist = login_as("phlebotomist")
    assert "كرسي 3" in phlebotomist.get("/staff/?lang=ar").text
    assert "كرسي 3" not in phlebotomist.get("/staff/?lang=fr").text


def test_a_desk_without_an_arabic_name_keeps_one_name(login_as, staffed):
    client = login_as("coordinator")
    assert (
        post(
            client, "/staff/admin/desks", {"name": "Fauteuil 4", "stage": "collection"}
        ).status_code
        == 200
    )
    with staffed.app_context():
        assert db.session.scalar(select(Desk.names).where(Desk.name == "Fauteuil 4")) is None


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"name": "Fauteuil 5", "name_ar": "كرسي\u202e 5"}, "err-desk-name-ar", "invisible"),
        ({"name": "Fauteuil 5", "name_ar": "كرسي\u200b5\u0000"}, "err-desk-name-ar", "invisible"),
        ({"name": "Fauteuil 5", "name_ar": "ك" * 41}, "err-desk-name-ar", "40"),
        ({"name": "Fauteuil\u2066 5", "name_ar": "كرسي 5"}, "err-desk-name", "invisible"),
        ({"name": "", "name_ar": "كرسي 5"}, "err-desk-name", "40"),
    ],
)
def test_a_bad_desk_name_in_arabic_is_refused_next_to_its_field(
    login_as, staffed, form, field, message
):
    before = desk_count(staffed)
    client = login_as("coordinator")
    response = post(
        client, "/staff/admin/desks", {**form, "stage": "collection"}, {"Accept-Language": "en"}
    )
    assert response.status_code == 422
    error = re.search(rf'<p class="field-error" id="{field}"[^>]*>([^<]*)</p>', response.text)
    assert error and message in error.group(1), response.text
    assert desk_count(staffed) == before
    # What was typed comes back to be corrected.
    if form["name_ar"] == "كرسي 5":
        assert 'value="كرسي 5"' in response.text


# --- the display ---------------------------------------------------------------------------------


def test_the_display_announces_the_desk_in_each_language(login_as, staffed, register):
    register()
    doctor = login_as("doctor", desk="Médecin 3")
    assert post(doctor, "/staff/queue/interview/call-next").status_code == 200
    board = staffed.test_client().get("/display/board?lang=fr", headers=HTMX).text
    said = dict(re.findall(r'data-say-(ar|fr)="([^"]*)"', board))
    assert DESK_AR in said["ar"] and "Médecin 3" not in said["ar"]
    assert "Médecin 3" in said["fr"] and DESK_AR not in said["fr"]
    arabic = staffed.test_client().get("/display?lang=ar").text
    assert f'<bdi class="desk">{DESK_AR}</bdi>' in arabic
    french = staffed.test_client().get("/display?lang=fr").text
    assert '<bdi class="desk">Médecin 3</bdi>' in french


# --- the app's own actors -----------------------------------------------------------------------


def test_the_record_history_names_the_kiosk_in_the_page_language(login_as, register):
    token = token_of(register())
    client = login_as("reception")
    arabic = client.get(f"/staff/visits/{token}?lang=ar").text
    assert "<bdi>جهاز التسجيل</bdi>" in arabic
    assert "<bdi>kiosk</bdi>" not in arabic
    assert "<bdi>borne d’inscription</bdi>" in client.get(f"/staff/visits/{token}?lang=fr").text


@pytest.mark.parametrize("username", ["kiosk", "system", " Kiosk "])
def test_no_account_takes_the_name_of_an_app_actor(app, username):
    with app.app_context(), pytest.raises(AccountError):
        add_staff(db.session, username, "correct horse", "doctor", FROZEN_NOW)


# --- every full page ------------------------------------------------------------------------------


def test_the_favicon_is_served(client):
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200
        assert response.mimetype == "image/vnd.microsoft.icon"
        assert response.get_data()[:4] == b"\x00\x00\x01\x00"  # an ICO file
        assert "no-store" not in response.headers["Cache-Control"]  # a static file, revalidated


def full_pages(staffed, register) -> list[tuple[str, object, str]]:
    """(who, client, url) for every page a person opens whole."""
    response = register()
    token = token_of(response)
    stranger = staffed.test_client()
    coordinator = staffed.test_client()
    assert log_in(coordinator, "coordinator").status_code == 303
    return [
        ("donor", stranger, "/kiosk"),
        ("donor", stranger, "/kiosk/register"),
        ("donor", stranger, "/kiosk/questionnaire"),
        ("donor", stranger, response.headers["Location"]),
        ("donor", stranger, f"/t/{token}"),
        ("public", stranger, "/display"),
        ("public", stranger, "/login"),
        ("public", stranger, "/no-such-page"),
        ("staff", coordinator, "/staff/"),
        ("staff", coordinator, "/staff/queue/interview"),
        ("staff", coordinator, "/staff/queue/collection"),
        ("staff", coordinator, f"/staff/visits/{token}"),
        ("staff", coordinator, "/staff/scan?code=nothing"),
        ("staff", coordinator, "/staff/admin"),
        ("staff", coordinator, "/report"),
    ]


@pytest.mark.parametrize("language", ["ar", "fr"])
def test_every_full_page_has_exactly_one_h1(staffed, register, language):
    for who, client, url in full_pages(staffed, register):
        separator = "&" if "?" in url else "?"
        response = client.get(f"{url}{separator}lang={language}")
        page = response.text
        assert page.lstrip().lower().startswith("<!doctype html>"), (who, url, response.status_code)
        assert len(re.findall(r"<h1[\s>]", page)) == 1, (who, url, re.findall(r"<h1.*", page))


def test_desk_add_takes_an_arabic_name_and_desk_list_shows_it(tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    runner = CliRunner()
    added = runner.invoke(
        cli, ["desk", "add", "Médecin 3", "--stage", "interview", "--name-ar", DESK_AR]
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(cli, ["desk", "list"])
    assert "Médecin 3" in listed.output and DESK_AR in listed.output
    refused = runner.invoke(
        cli, ["desk", "add", "Médecin 4", "--stage", "interview", "--name-ar", "ط\u202e"]
    )
    assert refused.exit_code == 1 and "invisible" in refused.output
