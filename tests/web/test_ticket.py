"""The ticket on the kiosk and the public page of its QR code."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from kiosk.db import db
from kiosk.domain.campaigns import current_campaign
from kiosk.domain.queue import add_desk
from kiosk.domain.tokens import new_token
from kiosk.domain.wait_estimate import MIN_SERVICES
from kiosk.models import Event
from tests.support.factories import FROZEN_NOW


@pytest.fixture
def ticket_url(register):
    return register().headers["Location"]


def test_the_ticket_shows_number_first_name_and_a_qr_of_the_status_url(client, ticket_url):
    token = ticket_url.rsplit("/", 1)[1]
    response = client.get(ticket_url, headers={"Accept-Language": "fr"})
    html = response.text
    assert response.status_code == 200
    assert 'data-queue-number="1"' in html
    assert ">001<" in html
    assert "Fatima" in html
    assert "Zahra" not in html  # the first name only
    assert "AB123456" not in html and "612345678" not in html
    assert "<svg" in html and "<path" in html
    assert "Don de sang" in html
    # Local time in Khénifra: tzdata 2026 has Morocco on UTC+0 in November 2026.
    assert "24 novembre 2026 · 09:30" in html
    assert token in response.request.path


def test_the_qr_encodes_the_configured_base_url(make_app, clock):
    import zxingcpp
    from PIL import Image  # noqa: F401  (zxing reads Pillow images)

    from kiosk.printing.qr import qr_svg

    # The SVG is drawn from the same data; decode the data through a raster rendering.
    url = "http://192.168.1.20:5000/t/" + new_token()
    import qrcode

    image = qrcode.make(url).convert("L")
    assert zxingcpp.read_barcodes(image)[0].text == url
    assert "<svg" in qr_svg(url)


def test_the_ticket_page_is_not_stored_and_leaks_no_referrer(client, ticket_url):
    response = client.get(ticket_url)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_the_ticket_page_returns_to_the_start_after_idle_and_printing(client, ticket_url):
    html = client.get(ticket_url).text
    assert 'data-idle-seconds="60"' in html
    assert 'data-home-url="/kiosk"' in html
    assert "data-home-after-print" in html
    assert 'http-equiv="refresh" content="60;url=/kiosk"' in html  # without JavaScript too


def test_print_css_has_receipt_page_sizes(app):
    from pathlib import Path

    text = Path(app.static_folder, "css", "app.css").read_text(encoding="utf-8")
    assert "size: 80mm" in text and "size: 58mm" in text


def test_the_ticket_uses_the_configured_paper(make_app, clock):
    from tests.support.factories import fresh_form

    app = make_app(TICKET_PAPER="58mm")
    from kiosk.db import db
    from kiosk.domain.campaigns import CampaignDetails, open_campaign
    from tests.support.factories import CAMPAIGN_DAY, VALID_DONOR

    with app.app_context():
        open_campaign(db.session, CampaignDetails("D", "K", CAMPAIGN_DAY), clock())
    client = app.test_client()
    response = client.post("/kiosk/register", data={**fresh_form(client), **VALID_DONOR})
    assert "paper-58mm" in client.get(response.headers["Location"]).text


def test_the_public_status_page_shows_number_stage_and_people_ahead_only(client, register):
    first = register(cin="AA100001").headers["Location"].rsplit("/", 1)[1]
    second = register(cin="AA100002").headers["Location"].rsplit("/", 1)[1]
    html = client.get(f"/t/{second}", headers={"Accept-Language": "fr"}).text
    assert 'data-status="waiting_interview"' in html
    assert 'data-queue-number="2"' in html
    assert "1 personne avant vous" in html
    for private in ("Fatima", "Zahra", "AB123456", "AA100002", "612345678", "1990"):
        assert private not in html
    assert (
        "C’est bientôt votre tour"
        in client.get(f"/t/{first}", headers={"Accept-Language": "fr"}).text
    )


def test_the_status_page_in_arabic_uses_arabic_plurals(client, register):
    register(cin="AA100001")
    register(cin="AA100002")
    third = register(cin="AA100003").headers["Location"].rsplit("/", 1)[1]
    html = client.get(f"/t/{third}?lang=ar").text
    assert 'lang="ar" dir="rtl"' in html
    assert "شخصان قبلك" in html


def test_the_status_page_refreshes_as_a_fragment(client, ticket_url):
    token = ticket_url.rsplit("/", 1)[1]
    response = client.get(f"/t/{token}", headers={"HX-Request": "true"})
    assert response.text.lstrip().startswith('<main id="status"')
    assert 'hx-trigger="every 15s, visibilitychange from:document"' in response.text


@pytest.mark.parametrize(
    "token",
    [
        "A" * 32,  # well formed, unknown
        "short",
        "../../etc/passwd",
        "%00" * 5,
        "x" * 500,
    ],
)
@pytest.mark.parametrize("prefix", ["/t/", "/ticket/"])
def test_unknown_or_malformed_tokens_get_the_same_plain_404(client, register, prefix, token):
    register()
    response = client.get(prefix + token, headers={"Accept-Language": "fr"})
    assert response.status_code == 404
    assert "Page introuvable" in response.text
    assert re.search(r"Fatima|data-queue-number", response.text) is None


def test_the_status_page_says_the_wait_once_the_days_pace_is_known(app, client, register):
    token = register(cin="AA100001").headers["Location"].rsplit("/", 1)[1]
    french = {"Accept-Language": "fr"}
    assert "restez à proximité" in client.get(f"/t/{token}", headers=french).text
    with app.app_context():
        doctor = add_desk(db.session, "Médecin 1", "interview").id
        _calls_every_8_minutes(current_campaign(db.session).id, doctor, range(1, MIN_SERVICES))
    assert "pas encore connue" in client.get(f"/t/{token}", headers=french).text
    with app.app_context():
        _calls_every_8_minutes(current_campaign(db.session).id, doctor, range(MIN_SERVICES, 8))
    html = client.get(f"/t/{token}", headers=french).text
    assert 'data-wait-minutes="4"' in html  # next in line: half an 8-minute interview
    assert "Environ 4 minutes avant votre appel" in html


def _calls_every_8_minutes(campaign_id: int, desk_id: int, eights: range) -> None:
    """Calls at the desk 8 × n minutes ago, for each n in `eights`."""
    for n in eights:
        db.session.add(
            Event(
                at=FROZEN_NOW - n * timedelta(minutes=8),
                campaign_id=campaign_id,
                actor="doctor",
                action="call",
                from_stage="waiting_interview",
                to_stage="interview",
                desk_id=desk_id,
            )
        )
    db.session.commit()
