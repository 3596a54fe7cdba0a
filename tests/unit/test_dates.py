"""Dates and times as people type them: one reader for every date field (three boxes, or
YYYY-MM-DD from a script), one for the 24-hour clock, at their boundaries."""

from __future__ import annotations

from datetime import date, time

import pytest

from kiosk.domain.questionnaire import Answer, clean_answers, implied_findings, questions_for
from kiosk.domain.validation import (
    Invalid,
    date_boxes,
    date_part_names,
    date_text,
    join_date_parts,
    read_clock,
    read_date,
)

TODAY = date(2026, 12, 3)


def boxes(day: str, month: str, year: str) -> date | None:
    """What the three boxes of a date field read as."""
    return read_date(join_date_parts(day, month, year))


def refused(day: str, month: str, year: str) -> str:
    with pytest.raises(Invalid) as raised:
        boxes(day, month, year)
    return raised.value.code


@pytest.mark.parametrize(
    ("day", "month", "year", "expected"),
    [
        ("1", "12", "2026", date(2026, 12, 1)),  # the vaccine of the defect: 1 December
        ("01", "12", "2026", date(2026, 12, 1)),
        ("1", "1", "2026", date(2026, 1, 1)),
        ("31", "1", "2026", date(2026, 1, 31)),  # the last day of a long month
        ("30", "4", "2026", date(2026, 4, 30)),
        ("31", "12", "2026", date(2026, 12, 31)),
        ("29", "2", "2028", date(2028, 2, 29)),  # a leap year
        ("29", "2", "2000", date(2000, 2, 29)),  # divisible by 400: leap
        ("28", "2", "2026", date(2026, 2, 28)),
        (" 7 ", " 3 ", " 1990 ", date(1990, 3, 7)),  # spaces around
        ("٧", "٣", "١٩٩٠", date(1990, 3, 7)),  # Arabic-Indic digits
        ("۷", "۳", "۱۹۹۰", date(1990, 3, 7)),  # Eastern Arabic-Indic (Persian) digits
        ("", "", "", None),  # nothing typed: the field's own rule says if it is required
    ],
)
def test_three_boxes_read_as_a_date(day, month, year, expected):
    assert boxes(day, month, year) == expected


@pytest.mark.parametrize(
    ("day", "month", "year", "code"),
    [
        ("0", "12", "2026", "date_invalid"),  # day 0
        ("32", "12", "2026", "date_invalid"),  # day 32
        ("31", "4", "2026", "date_invalid"),  # April has 30 days
        ("1", "13", "2026", "date_invalid"),  # month 13
        ("1", "0", "2026", "date_invalid"),  # month 0
        ("29", "2", "2026", "date_invalid"),  # not a leap year
        ("29", "2", "1900", "date_invalid"),  # divisible by 100, not by 400
        ("31", "2", "2026", "date_invalid"),  # 31 February
        ("", "12", "2026", "date_incomplete"),  # partial: each box missing in turn
        ("1", "", "2026", "date_incomplete"),
        ("1", "12", "", "date_incomplete"),
        ("1", "", "", "date_incomplete"),
        ("a", "12", "2026", "date_invalid"),  # not digits
        ("1", "déc", "2026", "date_invalid"),
        ("1", "12", "2O26", "date_invalid"),  # a letter O for a zero
        ("1.", "12", "2026", "date_invalid"),
        ("-1", "12", "2026", "date_invalid"),
        ("²", "12", "2026", "date_invalid"),  # a digit for Python, not for a date
        ("001", "12", "2026", "date_invalid"),  # three digits for a day
        ("1", "12", "26", "year_digits"),  # a two-digit year is not guessed
        ("1", "12", "20266", "year_digits"),
        ("1", "12", "0", "year_digits"),
    ],
)
def test_boxes_that_make_no_date_are_refused_with_a_reason(day, month, year, code):
    assert refused(day, month, year) == code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-12-01", date(2026, 12, 1)),
        (" 2026-12-01 ", date(2026, 12, 1)),
        ("٢٠٢٦-١٢-٠١", date(2026, 12, 1)),
        ("", None),
        ("  ", None),
    ],
)
def test_a_script_may_send_the_iso_date_itself(raw, expected):
    assert read_date(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["01/12/2026", "12/01/2026", "1 décembre 2026", "2026-2-1", "20261201", "2026-02-30", "x"],
)
def test_no_other_written_form_is_guessed(raw):
    """01/12/2026 is 1 December in Morocco and 12 January in a US browser: refused, not guessed."""
    with pytest.raises(Invalid) as raised:
        read_date(raw)
    assert raised.value.code == "date_invalid"


def test_the_boxes_of_a_field_are_named_after_it():
    assert date_part_names("birth_date") == ("birth_day", "birth_month", "birth_year")
    vaccine_boxes = ("q_vaccine_day", "q_vaccine_month", "q_vaccine_year")
    assert date_part_names("q_vaccine_date") == vaccine_boxes
    assert date_part_names("deferral_until") == (
        "deferral_until_day",
        "deferral_until_month",
        "deferral_until_year",
    )


def test_the_boxes_win_over_the_field_when_both_are_sent():
    form = {"q_vaccine_date": "2026-01-12", "q_vaccine_day": "1", "q_vaccine_month": "12"}
    form["q_vaccine_year"] = "2026"
    assert date_text(form, "q_vaccine_date") == "2026-12-01"
    assert date_text({"q_vaccine_date": "2026-12-01"}, "q_vaccine_date") == "2026-12-01"
    assert date_text({}, "q_vaccine_date") == ""


def test_the_boxes_show_what_was_typed_or_the_fields_date():
    typed = {"deferral_until_day": "31", "deferral_until_month": "2", "deferral_until_year": "x"}
    assert date_boxes(typed, "deferral_until") == ("31", "2", "x")
    assert date_boxes({"day": "2026-12-01"}, "day") == ("1", "12", "2026")
    assert date_boxes({}, "day") == ("", "", "")


def vaccine(day: str, month: str, year: str) -> dict[str, str]:
    form = {q.field_name: "no" if q.expected == "any" else q.expected for q in questions_for("M")}
    return form | {
        "q_vaccine": "yes",
        "q_vaccine_day": day,
        "q_vaccine_month": month,
        "q_vaccine_year": year,
    }


def test_a_vaccine_on_the_first_of_december_is_that_day_and_defers():
    """The defect: 01/12/2026 in a month-first picker was 12 January, and no notice came."""
    answers, errors = clean_answers(vaccine("01", "12", "2026"), "M", TODAY)
    assert errors == {}
    assert answers["vaccine"] == Answer("yes", date(2026, 12, 1))
    findings = implied_findings(answers, "M", TODAY)
    assert [(f.code, f.outcome, f.until) for f in findings] == [
        ("vaccine", "temporary", date(2026, 12, 22))
    ]


@pytest.mark.parametrize(
    ("parts", "code"),
    [
        (("4", "12", "2026"), "date_future"),  # tomorrow: a vaccine has not been given yet
        (("31", "11", "2026"), "date_invalid"),
        (("1", "", "2026"), "date_incomplete"),
        (("", "", ""), "date_required"),
        (("1", "12", "26"), "year_digits"),
    ],
)
def test_a_vaccine_date_in_boxes_is_checked_like_the_birth_date(parts, code):
    answers, errors = clean_answers(vaccine(*parts), "M", TODAY)
    assert errors == {"q_vaccine_date": code}
    assert "vaccine" not in answers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("00:00", time(0, 0)),
        ("23:59", time(23, 59)),
        ("8:09", time(8, 9)),
        ("08:09", time(8, 9)),
        ("14h05", time(14, 5)),  # as French writes it
        ("14H05", time(14, 5)),
        ("14.05", time(14, 5)),
        ("14 05", time(14, 5)),
        ("1405", time(14, 5)),  # a phone's number pad may have no colon
        ("905", time(9, 5)),
        ("١٤:٠٥", time(14, 5)),  # Arabic-Indic digits
        (" 14:05 ", time(14, 5)),
        ("", None),
    ],
)
def test_a_time_is_read_on_the_24_hour_clock(raw, expected):
    assert read_clock(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["24:00", "23:60", "10h", "10", "2 pm", "08:09 AM", "1:5", "12345", "14:05:00", "ab:cd"],
)
def test_what_is_no_time_of_the_24_hour_clock_is_refused(raw):
    with pytest.raises(Invalid) as raised:
        read_clock(raw)
    assert raised.value.code == "time_invalid"
