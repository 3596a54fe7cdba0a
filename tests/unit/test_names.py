"""Names per language (kiosk/domain/names.py): the one in the page's language, else the name."""

from __future__ import annotations

import pytest

from kiosk.domain.names import NameProblem, dump, in_language, parse, with_names

STORED = '{"ar": "الطبيب 1", "fr": "Médecin 1"}'


@pytest.mark.parametrize(
    ("raw", "language", "expected"),
    [
        (STORED, "ar", "الطبيب 1"),
        (STORED, "ar_MA", "الطبيب 1"),  # a locale reads as its language
        (STORED, "fr", "Médecin 1"),
        (STORED, "zgh", "Desk 1"),  # no Tamazight name yet: the one name
        (STORED, None, "Desk 1"),
        (STORED, "", "Desk 1"),
        (None, "ar", "Desk 1"),  # a desk from before the column: the one name
        ("", "ar", "Desk 1"),
        ("not json", "ar", "Desk 1"),  # unreadable: the one name, never an error
        ('["ar"]', "ar", "Desk 1"),
        ('{"ar": 7}', "ar", "Desk 1"),
        ('{"ar": "   "}', "ar", "Desk 1"),
        ('{"AR!": "x"}', "AR!", "Desk 1"),
        ('{"zgh": "ⴰⵎⵙⵙⵓⴳⵣ 1"}', "zgh", "ⴰⵎⵙⵙⵓⴳⵣ 1"),  # a third language: one more key
    ],
)
def test_the_name_in_a_language_falls_back_to_the_one_name(raw, language, expected):
    assert in_language(raw, language, "Desk 1") == expected


def test_names_are_stored_as_json_and_none_is_null():
    assert dump({}) is None
    assert dump({"ar": "", "fr": ""}) is None
    assert parse(dump({"fr": "Médecin 1", "ar": "الطبيب 1"})) == {
        "ar": "الطبيب 1",
        "fr": "Médecin 1",
    }
    assert "الطبيب" in dump({"ar": "الطبيب 1"})  # readable in the database, not \u escapes


def test_names_are_cleaned_and_an_empty_one_removes_it():
    stored = with_names(None, {"ar": "  الطبيب   1 ", "fr": ""}, 40)
    assert parse(stored) == {"ar": "الطبيب 1"}
    assert with_names(stored, {"ar": ""}, 40) is None


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ({"ar": "ب" * 41}, "too_long"),
        ({"ar": "الطبيب\u202e 1"}, "hidden_characters"),  # a bidi override
        ({"ar": "الطبيب\u0007"}, "hidden_characters"),
        ({"Arabic": "الطبيب"}, "language"),
    ],
)
def test_a_name_that_cannot_be_stored_is_refused(given, code):
    with pytest.raises(NameProblem) as refused:
        with_names(None, given, 40)
    assert refused.value.code == code
