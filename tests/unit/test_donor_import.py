"""Importing the regional centre's list of known donors: good rows kept, bad rows reported by
line, nothing merged that should not be, and a second import changes nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from kiosk.db import db, write_transaction
from kiosk.domain.exchange.donor_list import (
    ImportReport,
    RowProblem,
    import_donors,
    read_donor_rows,
)
from kiosk.models import Donor
from tests.support.factories import FROZEN_NOW

HEADER = (
    "cin,last_name,first_name,sex,birth_date,blood_group,last_donation_date,"
    "deferred_until,deferred_permanently,deferral_reason"
)
FATIMA = "AB123456,Zahra,Fatima,F,1990-05-17,O+,2026-06-01,,,"
YOUSSEF = "D98765,Amrani,Youssef,M,1975-02-28,AB-,,2027-01-15,no,tattoo"
AICHA = (
    "UC4321,Ait Ali,Aïcha,F,1948-12-01,,,,yes,hepatitis"  # 77: too old for the kiosk, known here
)
GOOD_FILE = "\n".join([HEADER, FATIMA, YOUSSEF, AICHA]) + "\n"
LATER = FROZEN_NOW + timedelta(days=3)


@pytest.fixture
def session(app):
    with app.app_context():
        yield db.session


def run(session, text: str, now=FROZEN_NOW) -> ImportReport:
    return import_donors(session, text.splitlines(keepends=True), now)


def donor(session, cin: str) -> Donor:
    return session.scalar(select(Donor).where(Donor.cin == cin))


def all_donors(session) -> list[dict]:
    columns = [column.key for column in Donor.__table__.columns]
    donors = session.scalars(select(Donor).order_by(Donor.id))
    return [{name: getattr(d, name) for name in columns} for d in donors]


def donor_count(session) -> int:
    return session.scalar(select(func.count(Donor.id)))


def test_a_good_file_adds_every_donor(session):
    report = run(session, GOOD_FILE)
    assert (report.added, report.updated, report.unchanged, report.problems) == (3, 0, 0, [])
    fatima = donor(session, "AB123456")
    assert (fatima.first_name, fatima.last_name, fatima.sex) == ("Fatima", "Zahra", "F")
    assert fatima.birth_date == date(1990, 5, 17)
    assert fatima.blood_group == "O+"
    assert fatima.last_donation_on == date(2026, 6, 1)
    assert (fatima.deferred_until, fatima.deferred_permanently, fatima.deferral_reason) == (
        None,
        False,
        None,
    )
    assert fatima.category == "citizen"
    assert fatima.phone is None
    assert fatima.created_at == fatima.updated_at == FROZEN_NOW
    youssef = donor(session, "D98765")
    assert (youssef.deferred_until, youssef.deferred_permanently) == (date(2027, 1, 15), False)
    assert (youssef.deferral_reason, youssef.blood_group) == ("tattoo", "AB-")
    aicha = donor(session, "UC4321")
    assert (aicha.first_name, aicha.birth_date) == ("Aïcha", date(1948, 12, 1))
    assert (aicha.deferred_permanently, aicha.deferral_reason, aicha.blood_group) == (
        True,
        "hepatitis",
        None,
    )


def test_a_file_by_path_with_bom_semicolons_and_windows_line_endings(session, tmp_path):
    text = "\r\n".join(line.replace(",", ";") for line in GOOD_FILE.splitlines()) + "\r\n"
    path = tmp_path / "donneurs.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    report = import_donors(session, path, FROZEN_NOW)
    assert (report.added, report.problems) == (3, [])
    assert donor(session, "UC4321").first_name == "Aïcha"
    assert import_donors(session, str(path), LATER).unchanged == 3


def test_lines_given_with_a_bom_and_without_line_endings(session):
    report = import_donors(session, ["\ufeff" + HEADER, FATIMA, YOUSSEF], FROZEN_NOW)
    assert (report.added, report.problems) == (2, [])


def test_columns_in_any_order_any_case_with_optional_ones_left_out_and_extra_ones_ignored(session):
    text = (
        " Birth_Date ;SEX;First_Name;Last_Name;CIN;address\n"
        "1990-05-17;f;Fatima;Zahra;ab-123456;12 rue des Roses\n"
    )
    report = run(session, text)
    assert (report.added, report.problems) == (1, [])
    fatima = donor(session, "AB123456")
    assert (fatima.sex, fatima.blood_group, fatima.last_donation_on) == ("F", None, None)


def test_quoted_values_and_blank_lines_keep_the_line_numbers_of_the_file(session):
    text = "\n".join(
        [
            HEADER,
            '"AB123456","Zahra","Fatima","F","1990-05-17","O+","2026-06-01",,,',
            "",
            'D98765,Amrani,Youssef,M,1975-02-28,AB-,,2027-01-15,no,"tattoo,',
            'piercing"',
            "ZZ1,Bad,Row,M,1975-02-28,,,,,",
        ]
    )
    report = run(session, text)
    assert report.added == 2
    assert donor(session, "D98765").deferral_reason == "tattoo, piercing"
    assert [problem.line for problem in report.problems] == [6]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (",Zahra,Fatima,F,1990-05-17,,,,,", "cin: required"),
        ("123456,Zahra,Fatima,F,1990-05-17,,,,,", "cin: not a CIN"),
        ("ABC123456,Zahra,Fatima,F,1990-05-17,,,,,", "cin: not a CIN"),
        ("AB123456,,Fatima,F,1990-05-17,,,,,", "last_name: required"),
        ("AB123456,Zahra,Fatima2,F,1990-05-17,,,,,", "first_name: has digits in it"),
        ("AB123456,Zahra,Fatima!,F,1990-05-17,,,,,", "first_name: has characters that are not"),
        ("AB123456," + "Z" * 61 + ",Fatima,F,1990-05-17,,,,,", "last_name: longer than 60"),
        ("AB123456,Zahra,Fatima,X,1990-05-17,,,,,", "sex: must be F or M"),
        ("AB123456,Zahra,Fatima,,1990-05-17,,,,,", "sex: required"),
        ("AB123456,Zahra,Fatima,F,,,,,,", "birth_date: required"),
        ("AB123456,Zahra,Fatima,F,17/05/1990,,,,,", "birth_date: not a date (YYYY-MM-DD)"),
        ("AB123456,Zahra,Fatima,F,1990-02-30,,,,,", "birth_date: not a date (YYYY-MM-DD)"),
        ("AB123456,Zahra,Fatima,F,2026-11-25,,,,,", "birth_date: in the future"),
        ("AB123456,Zahra,Fatima,F,1899-12-31,,,,,", "birth_date: before 1900"),
        ("AB123456,Zahra,Fatima,F,1990-05-17,C+,,,,", "blood_group: must be one of O+, O-"),
        ("AB123456,Zahra,Fatima,F,1990-05-17,A,,,,", "blood_group: must be one of"),
        ("AB123456,Zahra,Fatima,F,1990-05-17,,2026-11-25,,,", "last_donation_date: in the future"),
        ("AB123456,Zahra,Fatima,F,1990-05-17,,1989-01-01,,,", "last_donation_date: before the"),
        ("AB123456,Zahra,Fatima,F,1990-05-17,,2026-13-01,,,", "last_donation_date: not a date"),
        ("AB123456,Zahra,Fatima,F,1990-05-17,,,2027-1-5,,", "deferred_until: not a date"),
        ("AB123456,Zahra,Fatima,F,1990-05-17,,,,maybe,", "deferred_permanently: must be yes"),
        ("AB123456,Zahra,Fatima,F,1990-05-17,,,,yes," + "x" * 41, "deferral_reason: longer than"),
        ("AB123456,Zahra,Fatima,F,1990-05-17,,,,,tattoo", "deferral_reason: given without"),
        ("AB123456,Zahra,Fatima,F,1990-05-17,,,,,,surplus", "11 values where the header has 10"),
    ],
)
def test_each_bad_row_is_reported_on_its_line_and_the_good_ones_are_kept(session, row, message):
    report = run(session, "\n".join([HEADER, YOUSSEF, row, AICHA]))
    assert report.added == 2
    assert len(report.problems) == 1
    assert report.problems[0].line == 3
    assert report.problems[0].message.startswith(message)
    # A deferral is never lost to a refused row: the row's line says it is kept (issue 13).
    kept = report.problems[0].message.endswith("its deferral (permanent) is kept for CIN AB123456")
    assert kept == (message == "deferral_reason: longer than")
    stored = donor(session, "AB123456")
    assert stored is None if not kept else stored.deferred_permanently


def test_a_row_with_several_mistakes_lists_them_all_on_one_line(session):
    report = run(session, HEADER + "\nAB123456,Zahra,,Q,1990-05-17,Z,,,,\n")
    assert report.problems == [
        RowProblem(
            2,
            "first_name: required; sex: must be F or M; blood_group: must be one of "
            "O+, O-, A+, A-, B+, B-, AB+, AB-",
        )
    ]


@pytest.mark.parametrize(
    ("cell", "stored"),
    [("yes", True), ("YES", True), ("1", True), ("no", False), ("0", False), ("", False)],
)
def test_deferred_permanently_values(session, cell, stored):
    report = run(session, f"{HEADER}\nAB123456,Zahra,Fatima,F,1990-05-17,,,,{cell},\n")
    assert report.problems == []
    assert donor(session, "AB123456").deferred_permanently is stored


@pytest.mark.parametrize(("cell", "stored"), [("o+", "O+"), ("0-", "O-"), (" ab + ", "AB+")])
def test_blood_groups_are_read_kindly(session, cell, stored):
    run(session, f"{HEADER}\nAB123456,Zahra,Fatima,F,1990-05-17,{cell},,,,\n")
    assert donor(session, "AB123456").blood_group == stored


def test_a_deferral_that_has_ended_and_a_short_row_are_accepted(session):
    report = run(session, f"{HEADER}\nAB123456,Zahra,Fatima,F,1990-05-17,,,2025-01-01\n")
    assert report.problems == []
    assert donor(session, "AB123456").deferred_until == date(2025, 1, 1)


def test_a_category_column_is_used_for_new_donors(session):
    text = "cin,last_name,first_name,sex,birth_date,category\n"
    text += "AB123456,Zahra,Fatima,F,1990-05-17,police\nD98765,Amrani,Youssef,M,1975-02-28,\n"
    text += "UC4321,Ait Ali,Aicha,F,1948-12-01,astronaut\n"
    report = run(session, text)
    assert donor(session, "AB123456").category == "police"
    assert donor(session, "D98765").category == "citizen"
    assert report.problems[0].line == 4
    assert report.problems[0].message.startswith("category: must be one of civil_servant")


def test_importing_the_same_file_twice_changes_nothing(session):
    run(session, GOOD_FILE)
    before = all_donors(session)
    again = run(session, GOOD_FILE, now=LATER)
    assert (again.added, again.updated, again.unchanged, again.problems) == (0, 0, 3, [])
    assert all_donors(session) == before
    assert donor_count(session) == 3


def test_a_second_file_updates_what_changed_and_only_that(session):
    run(session, GOOD_FILE)
    changed = GOOD_FILE.replace(
        "Zahra,Fatima,F,1990-05-17,O+", "Zahra,Fatima-Zohra,F,1990-05-17,O+"
    )
    report = run(session, changed, now=LATER)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 2)
    assert donor(session, "AB123456").first_name == "Fatima-Zohra"
    assert donor(session, "AB123456").updated_at == LATER
    assert donor(session, "D98765").updated_at == FROZEN_NOW


def test_a_cin_known_with_another_birth_date_is_not_merged(session):
    run(session, GOOD_FILE)
    other = FATIMA.replace("1990-05-17", "1991-05-17").replace("Fatima", "Fatiha")
    report = run(session, "\n".join([HEADER, other, YOUSSEF]), now=LATER)
    assert report.problems == [RowProblem(2, "cin: known here with another birth date; not merged")]
    assert (report.added, report.updated, report.unchanged) == (0, 0, 1)
    fatima = donor(session, "AB123456")
    assert (fatima.first_name, fatima.birth_date) == ("Fatima", date(1990, 5, 17))


def test_a_cin_twice_in_the_file_keeps_the_first_row(session):
    twin = FATIMA.replace("Fatima", "Fatiha")
    report = run(session, "\n".join([HEADER, FATIMA, YOUSSEF, twin]))
    assert report.problems == [RowProblem(4, "cin: already on line 2")]
    assert donor(session, "AB123456").first_name == "Fatima"
    assert report.added == 2


def test_a_cin_written_differently_is_still_the_same_cin(session):
    report = run(session, "\n".join([HEADER, FATIMA, FATIMA.replace("AB123456", "ab 123456")]))
    assert report.problems == [RowProblem(3, "cin: already on line 2")]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("cin,last_name,first_name,sex", "missing column(s): birth_date"),
        ("cin;nom;prenom;sexe;date_naissance", "missing column(s): last_name, first_name, sex"),
        ("AB123456,Zahra,Fatima,F,1990-05-17", "missing column(s): cin, last_name"),
        ("cin,last_name,first_name,sex,birth_date,sex", "column(s) named twice: sex"),
        ("", "no header row"),
    ],
)
def test_a_bad_header_is_one_problem_and_nothing_is_imported(session, header, message):
    report = run(session, "\n".join([header, FATIMA, YOUSSEF]))
    assert len(report.problems) == 1
    assert report.problems[0].line == 1
    assert report.problems[0].message.startswith(message)
    assert (report.added, report.updated, report.unchanged) == (0, 0, 0)
    assert donor_count(session) == 0


def test_an_empty_file(session, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    report = import_donors(session, path, FROZEN_NOW)
    assert [problem.line for problem in report.problems] == [1]


def test_an_unreadable_record_stops_the_reading_there_and_keeps_what_came_before(session):
    runaway = 'D98765,"Amrani' + "x" * 200_000  # a quote never closed: the rest is one value
    report = run(session, "\n".join([HEADER, FATIMA, runaway, AICHA]))
    assert report.added == 1
    assert [problem.line for problem in report.problems] == [3]
    assert report.problems[0].message.startswith("unreadable CSV (field larger than field limit")
    assert report.problems[0].message.endswith("reading stopped here")


def test_a_file_that_is_not_utf8_is_refused_with_the_line_of_the_first_bad_byte(session, tmp_path):
    path = tmp_path / "excel.csv"
    text = "\n".join([HEADER, FATIMA, YOUSSEF, AICHA]) + "\n"
    path.write_bytes(text.encode("cp1252"))  # Aïcha's ï is one byte in Windows-1252
    report = import_donors(session, path, FROZEN_NOW)
    assert report.problems == [RowProblem(4, "not UTF-8 text: save the file as CSV UTF-8")]
    assert donor_count(session) == 0


# A donor known here already: what the file may change, and what it may not.


def add_known_donor(session, **fields) -> None:
    values = {
        "cin": "AB123456",
        "first_name": "Fatima",
        "last_name": "Zahra",
        "sex": "F",
        "birth_date": date(1990, 5, 17),
        "phone": "+212612345678",
        "category": "civil_servant",
        "created_at": FROZEN_NOW - timedelta(days=400),
        "updated_at": FROZEN_NOW - timedelta(days=400),
        **fields,
    }
    with write_transaction(session):
        session.add(Donor(**values))


def test_an_existing_donor_keeps_category_and_phone(session):
    add_known_donor(session)
    report = run(session, "\n".join([HEADER, FATIMA]))
    assert (report.added, report.updated) == (0, 1)
    fatima = donor(session, "AB123456")
    assert (fatima.category, fatima.phone) == ("civil_servant", "+212612345678")
    assert (fatima.blood_group, fatima.last_donation_on) == ("O+", date(2026, 6, 1))
    assert fatima.updated_at == FROZEN_NOW
    assert fatima.created_at == FROZEN_NOW - timedelta(days=400)


def test_an_empty_cell_does_not_erase_what_is_known(session):
    add_known_donor(session, blood_group="A-", last_donation_on=date(2026, 8, 1))
    report = run(session, f"{HEADER}\nAB123456,Zahra,Fatima,F,1990-05-17,,2026-06-01,,,\n")
    assert report.unchanged == 1
    fatima = donor(session, "AB123456")
    assert (fatima.blood_group, fatima.last_donation_on) == ("A-", date(2026, 8, 1))


# Deferrals as (deferred_until, deferred_permanently, deferral_reason).
NONE = (None, False, None)
TATTOO_MARCH = (date(2027, 3, 1), False, "tattoo")
MARCH_NO_REASON = (date(2027, 3, 1), False, None)
SURGERY_JUNE = (date(2027, 6, 1), False, "surgery")
HEPATITIS = (None, True, "hepatitis")


@pytest.mark.parametrize(
    ("ours", "cells", "kept"),
    [
        (TATTOO_MARCH, ",,", TATTOO_MARCH),  # empty cells lift nothing
        (TATTOO_MARCH, "2027-01-01,no,vaccine", TATTOO_MARCH),  # an earlier end: ours stays
        (TATTOO_MARCH, "2027-06-01,no,surgery", SURGERY_JUNE),  # a later end wins
        (TATTOO_MARCH, ",yes,hepatitis", HEPATITIS),  # permanent beats temporary
        (HEPATITIS, "2030-01-01,no,tattoo", HEPATITIS),
        (HEPATITIS, ",no,", HEPATITIS),
        (MARCH_NO_REASON, "2027-03-01,,tattoo", TATTOO_MARCH),  # same deferral, reason added
        (NONE, "2025-01-01,,", (date(2025, 1, 1), False, None)),  # ended, kept as history
    ],
)
def test_a_deferral_from_the_file_only_ever_makes_it_stronger(session, ours, cells, kept):
    until, permanently, reason = ours
    add_known_donor(
        session, deferred_until=until, deferred_permanently=permanently, deferral_reason=reason
    )
    run(session, f"{HEADER}\nAB123456,Zahra,Fatima,F,1990-05-17,,,{cells}\n")
    fatima = donor(session, "AB123456")
    assert (fatima.deferred_until, fatima.deferred_permanently, fatima.deferral_reason) == kept


def test_reading_alone_touches_no_database():
    rows, problems = read_donor_rows([HEADER, FATIMA, "junk"], date(2026, 11, 24))
    assert [row.cin for row in rows] == ["AB123456"]
    assert problems == [RowProblem(3, problems[0].message)]
    assert problems[0].message.startswith("cin: not a CIN")


# --- a deferral is never lost to a refused row (issue 13) ---------------------------------------


@pytest.mark.parametrize(
    ("known", "expected_names"),
    [(False, ("", "Ait Ali")), (True, ("Aïcha", "Ait Ali"))],
    ids=["unknown-here", "known-here"],
)
def test_a_refused_row_keeps_its_deferral_and_says_so(session, known, expected_names):
    if known:
        run(session, f"{HEADER}\nUC4321,Ait Ali,Aïcha,F,1948-12-01,,,,no,\n")
    refused = "UC4321,Ait Ali,A1cha,F,1948-12-01,,,,yes,hepatitis"
    report = run(session, f"{HEADER}\n{refused}\n", now=LATER)
    assert report.problems == [
        RowProblem(
            2,
            "first_name: has digits in it; its deferral (permanent, hepatitis) is kept for CIN "
            "UC4321",
        )
    ]
    aicha = donor(session, "UC4321")
    assert (aicha.deferred_permanently, aicha.deferral_reason) == (True, "hepatitis")
    assert (aicha.first_name, aicha.last_name) == expected_names  # the refused name never stored


def test_a_refused_row_without_a_readable_cin_or_birth_date_keeps_nothing(session):
    report = run(session, f"{HEADER}\nUC4321,Ait Ali,A1cha,F,19-12-01,,,,yes,hepatitis\n")
    assert "is kept" not in report.problems[0].message
    assert donor_count(session) == 0


def test_a_deferral_of_a_cin_known_with_another_birth_date_is_kept_pending_review(session):
    run(session, GOOD_FILE)
    other = FATIMA.replace("1990-05-17", "1991-05-17").replace(",,,", ",2027-05-01,,tattoo")
    report = run(session, f"{HEADER}\n{other}\n", now=LATER)
    assert report.problems == [
        RowProblem(
            2,
            "cin: known here with another birth date; not merged; its deferral (until "
            "2027-05-01, tattoo) is kept on this CIN's record, pending review",
        )
    ]
    fatima = donor(session, "AB123456")
    assert (fatima.birth_date, fatima.deferred_until) == (date(1990, 5, 17), date(2027, 5, 1))
