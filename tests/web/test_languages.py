"""Language choice: ?lang= → cookie → Accept-Language → French; Arabic right to left."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po

from kiosk.config import CHECKOUT


def html_tag(response) -> str:
    return response.text.split("<head>")[0]


def test_french_is_the_default(client):
    assert 'lang="fr" dir="ltr"' in html_tag(client.get("/kiosk"))


def test_accept_language_is_followed(client):
    response = client.get("/kiosk", headers={"Accept-Language": "ar-MA,ar;q=0.9"})
    assert 'lang="ar" dir="rtl"' in html_tag(response)


def test_unsupported_languages_fall_back_to_french(client):
    response = client.get("/kiosk", headers={"Accept-Language": "en-US,de"})
    assert 'lang="fr"' in html_tag(response)


def test_the_query_wins_and_is_remembered_in_a_cookie(client):
    response = client.get("/kiosk?lang=ar", headers={"Accept-Language": "fr"})
    assert 'lang="ar" dir="rtl"' in html_tag(response)
    assert "lang=ar" in response.headers["Set-Cookie"]
    later = client.get("/kiosk", headers={"Accept-Language": "fr"})
    assert 'lang="ar"' in html_tag(later)
    assert "Set-Cookie" not in later.headers


def test_an_unknown_lang_value_is_ignored(client):
    response = client.get("/kiosk?lang=xx<script>")
    assert 'lang="fr"' in html_tag(response)
    assert "Set-Cookie" not in response.headers


def test_arabic_pages_read_in_arabic(client):
    html = client.get("/kiosk?lang=ar").text
    assert "تبرع بالدم واجعل العالم ينبض بالحياة" in html
    assert "سجّل للتبرع بالدم" in html


@pytest.mark.parametrize("language", ["ar", "fr"])
def test_every_message_is_translated(language):
    path = CHECKOUT / f"kiosk/translations/{language}/LC_MESSAGES/messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    untranslated = [
        message.id
        for message in catalog
        if message.id
        and (
            message.fuzzy
            or not (all(message.string) if isinstance(message.string, tuple) else message.string)
        )
    ]
    assert untranslated == []


def test_the_catalogue_template_knows_every_message(language="fr"):
    """A msgid in the code but not in the .po would show up in English."""
    pot = CHECKOUT / "kiosk/translations/messages.pot"
    po = CHECKOUT / f"kiosk/translations/{language}/LC_MESSAGES/messages.po"
    with pot.open("rb") as a, po.open("rb") as b:
        template_ids = {m.id for m in read_po(a) if m.id}
        translated_ids = {m.id for m in read_po(b) if m.id}
    assert template_ids <= translated_ids


def test_language_buttons_keep_the_rest_of_the_address(client):
    html = client.get("/login?next=/staff/queue/interview").text
    assert 'href="/login?next=%2Fstaff%2Fqueue%2Finterview&amp;lang=ar"' in html
