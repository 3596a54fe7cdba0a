"""Tamazight (zgh) for everything a donor sees: every msgid a donor page, the ticket, its /t/
page, the wall display, an error page or a printed slip can show has a non-empty, non-fuzzy zgh
translation (Flask-Babel would silently show the English of an empty or fuzzy one), and every
question of the questionnaire has its Tamazight text, date label and pictogram.

The msgids are found from the code (tests/support/donor_messages.py), not listed by hand; staff-only
msgids may stay empty in zgh because staff pages never render in Tamazight
(tests/web/test_languages.py proves that)."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from kiosk.config import CHECKOUT
from kiosk.domain.questionnaire import load_questions
from tests.support.donor_messages import donor_msgids

ZGH_PO = CHECKOUT / "kiosk/translations/zgh/LC_MESSAGES/messages.po"
PICTOGRAMS = CHECKOUT / "static/pictograms"
TIFINAGH = re.compile(r"[\u2D30-\u2D7F]")
# Latin left in a Tamazight text: only codes a donor types or reads as such (a CIN example, the
# hepatitis B and C virus letters, the ISBT 128 label format of the staff's bag numbers).
ALLOWED_LATIN = {"AB123456", "B", "C", "ISBT", "G123498654321"}
LATIN_WORD = re.compile(r"[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*")
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")


def _zgh_catalogue():
    with ZGH_PO.open("rb") as handle:
        return read_po(handle, locale="zgh")


def _strings(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def _id(message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


@pytest.fixture(scope="module")
def donor_ids(app_for_messages) -> dict[str, str]:
    with app_for_messages.app_context():
        return donor_msgids(app_for_messages)


@pytest.fixture(scope="module")
def app_for_messages(tmp_path_factory):
    from kiosk import create_app

    folder = tmp_path_factory.mktemp("instance")
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'kiosk.sqlite3'}",
            "INSTANCE": str(folder),
        }
    )


def test_the_donor_set_is_found_from_the_code(donor_ids):
    """A sanity check of the finder: it reaches templates, views, validation tables, slips,
    error pages and the display, not only one of them."""
    for expected in (
        "Who are you?",  # the kiosk's wizard template
        "Please fill in this field.",  # a validation message, through field_message
        "Waiting for the interview",  # the /t/ page's stage labels
        "You may give blood again from %(date)s.",  # the thank-you slip
        "Page not found.",  # the error pages
        "Number %(number)s, please go to %(desk)s.",  # the display's announcement
        "Interview",  # a Jinja global table read by the display's template
    ):
        assert expected in donor_ids
    assert "Log in" not in donor_ids  # a staff page's text is not a donor's


def test_every_donor_msgid_has_a_tamazight_translation(donor_ids):
    catalogue = {_id(message): message for message in _zgh_catalogue() if message.id}
    missing = sorted(msgid for msgid in donor_ids if msgid not in catalogue)
    assert missing == [], "run `make messages`: these msgids are not in the zgh catalogue"
    untranslated = sorted(
        f"{msgid} (from {donor_ids[msgid]})"
        for msgid in donor_ids
        if catalogue[msgid].fuzzy or not all(_strings(catalogue[msgid]))
    )
    assert untranslated == []


def test_tamazight_texts_are_in_tifinagh_with_their_placeholders(donor_ids):
    catalogue = {_id(message): message for message in _zgh_catalogue() if message.id}
    for msgid in donor_ids:
        for text in _strings(catalogue[msgid]):
            assert TIFINAGH.search(text), f"{msgid!r}: no Tifinagh in {text!r}"
            latin = set(LATIN_WORD.findall(PLACEHOLDER.sub("", text))) - ALLOWED_LATIN
            assert not latin, f"{msgid!r}: Latin words {latin} in {text!r}"
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(msgid))


def test_the_catalogue_header_is_not_fuzzy():
    assert not _zgh_catalogue().fuzzy


@pytest.mark.parametrize("question", load_questions(), ids=lambda question: question.code)
def test_every_question_speaks_tamazight_and_has_its_pictogram(question):
    assert TIFINAGH.search(question.text_zgh), question.code
    assert question.text_in("zgh") == question.text_zgh
    if question.asks_date:
        assert TIFINAGH.search(question.date_label_zgh), question.code
    assert question.pictogram, f"{question.code}: no pictogram"
    svg = (PICTOGRAMS / f"{question.pictogram}.svg").read_text()
    assert svg.startswith("<svg ") and 'viewBox="0 0 64 64"' in svg


def test_pictograms_are_our_own_files_with_their_licence_note():
    assert (PICTOGRAMS / "LICENSE.md").is_file()
    for path in PICTOGRAMS.glob("*.svg"):
        text = path.read_text()
        # Simple shapes only: no script, no embedded picture, nothing fetched.
        assert "<script" not in text and "href" not in text, path.name
