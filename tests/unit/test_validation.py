"""The registration rules at their boundaries."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.domain.validation import (
    STEPS,
    Invalid,
    age_on,
    check_fields,
    clean_birth_date,
    clean_category,
    clean_cin,
    clean_consent,
    clean_name,
    clean_phone,
    clean_sex,
    next_step,
    previous_step,
    step_of_first_error,
    validate_registration,
)

TODAY = date(2026, 11, 24)


def code_of(check, raw: str, today: date = TODAY) -> str:
    with pytest.raises(Invalid) as raised:
        check(raw, today)
    return raised.value.code


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (date(2008, 11, 24), date(2026, 11, 24), 18),  # birthday today
        (date(2008, 11, 25), date(2026, 11, 24), 17),  # birthday tomorrow
        (date(2008, 2, 29), date(2026, 2, 28), 17),  # leap-day birthday in a common year
        (date(2008, 2, 29), date(2026, 3, 1), 18),
        (date(2008, 2, 29), date(2028, 2, 29), 20),
    ],
)
def test_age_counts_completed_years(birth, day, age):
    assert age_on(birth, day) == age


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2008-11-24", date(2008, 11, 24)),  # 18 today: the youngest accepted
        ("1960-11-25", date(1960, 11, 25)),  # 65 until tomorrow: the oldest accepted
        (" 1990-01-31 ", date(1990, 1, 31)),
        ("١٩٩٠-٠١-٣١", date(1990, 1, 31)),  # Arabic-Indic digits
    ],
)
def test_birth_dates_inside_the_age_range_are_accepted(raw, expected):
    assert clean_birth_date(raw, TODAY) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("2008-11-25", "too_young"),  # 18 tomorrow
        ("1960-11-24", "too_old"),  # 66 today
        ("2027-01-01", "date_future"),
        ("1990-02-30", "date_invalid"),
        ("1990-13-01", "date_invalid"),
        ("31/01/1990", "date_invalid"),
        ("19900131", "date_invalid"),
        ("", "required"),
        ("   ", "required"),
    ],
)
def test_birth_dates_outside_the_rules_are_refused(raw, code):
    assert code_of(clean_birth_date, raw) == code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Fatima", "Fatima"),
        ("  Fatima   Zahra ", "Fatima Zahra"),
        ("فاطمة الزهراء", "فاطمة الزهراء"),
        ("Aït-Ben Haddou", "Aït-Ben Haddou"),
        ("O’Neil", "O’Neil"),
        ("مُحَمَّد", "مُحَمَّد"),  # Arabic with vowel marks
        ("x" * 60, "x" * 60),
    ],
)
def test_names_in_arabic_and_latin_are_accepted(raw, expected):
    assert clean_name(raw, TODAY) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "required"),
        ("12345", "name_digits"),
        ("Fatima2", "name_digits"),
        ("٣٤٥", "name_digits"),
        ("<script>", "name_characters"),
        ("Fatima\u202e", "name_characters"),  # right-to-left override
        ("Fa\x00tima", "name_characters"),
        ("- '", "name_characters"),
        ("x" * 61, "too_long"),
    ],
)
def test_names_that_are_not_names_are_refused(raw, code):
    assert code_of(clean_name, raw) == code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("AB123456", "AB123456"),
        ("ab 123-456", "AB123456"),
        ("K123", "K123"),
        ("", None),
        ("  ", None),
    ],
)
def test_cin_is_normalised_and_optional(raw, expected):
    assert clean_cin(raw, TODAY) == expected


@pytest.mark.parametrize("raw", ["123456", "ABC123456", "AB12", "AB1234567", "A-B", "1AB234"])
def test_malformed_cin_is_refused(raw):
    assert code_of(clean_cin, raw) == "cin_invalid"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0612345678", "+212612345678"),
        ("06 12 34 56 78", "+212612345678"),
        ("06-12-34-56-78", "+212612345678"),
        ("07.12.34.56.78", "+212712345678"),
        ("0522123456", "+212522123456"),
        ("+212612345678", "+212612345678"),
        ("+212 6 12 34 56 78", "+212612345678"),
        ("+212 (0)6 12 34 56 78", "+212612345678"),
        ("00212612345678", "+212612345678"),
        ("212612345678", "+212612345678"),
        ("٠٦١٢٣٤٥٦٧٨", "+212612345678"),
        ("", None),
    ],
)
def test_moroccan_phone_numbers_become_e164(raw, expected):
    assert clean_phone(raw, TODAY) == expected


@pytest.mark.parametrize(
    "raw", ["061234567", "06123456789", "0812345678", "+33612345678", "phone", "+2126123456"]
)
def test_other_phone_numbers_are_refused(raw):
    assert code_of(clean_phone, raw) == "phone_invalid"


def test_choices_accept_only_their_values():
    assert clean_sex("f", TODAY) == "F"
    assert code_of(clean_sex, "X") == "choice_invalid"
    assert code_of(clean_sex, "") == "required"
    assert clean_category("police", TODAY) == "police"
    assert code_of(clean_category, "army") == "choice_invalid"
    assert code_of(clean_category, "") == "required"


@pytest.mark.parametrize("raw", ["yes", "on", "true", "1", "YES"])
def test_consent_given(raw):
    assert clean_consent(raw, TODAY) is True


@pytest.mark.parametrize("raw", ["", "no", "0", "off"])
def test_consent_missing(raw):
    assert code_of(clean_consent, raw) == "consent_required"


def test_a_whole_registration_is_cleaned():
    form = {
        "first_name": "Fatima",
        "last_name": "Zahra",
        "sex": "F",
        "birth_date": "1990-05-17",
        "cin": "ab123456",
        "phone": "",
        "category": "citizen",
        "consent": "yes",
    }
    registration, errors = validate_registration(form, TODAY)
    assert errors == {}
    assert registration.cin == "AB123456"
    assert registration.phone is None
    assert registration.birth_date == date(1990, 5, 17)


def test_every_bad_field_is_reported_at_once():
    registration, errors = validate_registration({"first_name": "123"}, TODAY)
    assert registration is None
    assert set(errors) == {"first_name", "last_name", "sex", "birth_date", "category", "consent"}
    assert step_of_first_error(errors) == "identity"


def test_a_step_checks_only_its_own_fields():
    clean, errors = check_fields({"phone": "0612345678"}, ("phone", "category"), TODAY)
    assert clean == {"phone": "+212612345678"}
    assert set(errors) == {"category"}
    assert step_of_first_error(errors) == "contact"


def test_steps_go_forward_and_back_within_the_wizard():
    assert [next_step(step) for step in STEPS] == [
        "contact",
        "questionnaire",
        "consent",
        "review",
        "review",
    ]
    assert [previous_step(step) for step in STEPS] == [
        "identity",
        "identity",
        "contact",
        "questionnaire",
        "consent",
    ]


@pytest.mark.parametrize(
    ("day", "month", "year", "expected"),
    [
        ("7", "3", "1990", "1990-03-07"),
        ("07", "03", "1990", "1990-03-07"),
        (" 31 ", "12", "1985", "1985-12-31"),
        ("٧", "٣", "١٩٩٠", "1990-03-07"),
        ("", "", "", ""),
    ],
)
def test_three_date_boxes_make_one_iso_date(day, month, year, expected):
    from kiosk.domain.validation import join_date_parts

    assert join_date_parts(day, month, year) == expected


@pytest.mark.parametrize(
    ("day", "month", "year", "code"),
    [
        ("30", "2", "1990", "date_invalid"),
        ("7", "3", "90", "year_digits"),  # a two-digit year is not guessed
        ("7", "", "1990", "date_incomplete"),
        ("x", "3", "1990", "date_invalid"),
        ("²", "3", "1990", "date_invalid"),
    ],
)
def test_three_boxes_that_make_no_date_are_refused_as_such(day, month, year, code):
    from kiosk.domain.validation import join_date_parts

    assert code_of(clean_birth_date, join_date_parts(day, month, year)) == code


def test_an_iso_date_goes_back_into_the_boxes():
    from kiosk.domain.validation import split_iso_date

    assert split_iso_date("1990-03-07") == ("7", "3", "1990")
    assert split_iso_date("invalid") == ("", "", "")
