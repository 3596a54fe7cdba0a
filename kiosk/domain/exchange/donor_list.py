"""Loading the regional centre's list of known donors (`kiosk import donors FILE.csv`).

The file is read whole and checked row by row first; every bad row is reported with its line
number and skipped, then the good rows are written in one transaction. Importing the same file
again changes nothing.

How a row meets a donor already known here (same CIN):
- a different birth date means another person or a typing mistake: reported, never merged;
- names and sex come from the file; a blood group only when the file gives one;
- history only grows: the later of the two last donation dates is kept, and a deferral from the
  file replaces ours only when it is stronger (permanent over temporary, a later end over an
  earlier one), so an older file imported after the campaign cannot lift a deferral;
- the category and the phone number are never touched.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.db import write_transaction
from kiosk.domain.donor_history import Deferral, add_history
from kiosk.domain.exchange.files import csv_value
from kiosk.domain.validation import (
    BLOOD_GROUPS,
    CATEGORIES,
    NAME_MAX_LENGTH,
    Invalid,
    clean_category,
    clean_cin,
    clean_name,
    clean_sex,
)
from kiosk.models import Donor

REQUIRED_COLUMNS = ("cin", "last_name", "first_name", "sex", "birth_date")
OPTIONAL_COLUMNS = (
    "blood_group",
    "last_donation_date",
    "deferred_until",
    "deferred_permanently",
    "deferral_reason",
    "category",
)
YES_NO = {"yes": True, "1": True, "no": False, "0": False, "": False}
DEFERRAL_REASON_MAX_LENGTH = 40
NEW_DONOR_CATEGORY = "citizen"
EARLIEST_BIRTH_DATE = date(1900, 1, 1)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_LOOKUP_BATCH = 500  # CINs per query, well under SQLite's limit on bound parameters

# What the field cleaners' codes mean in a problem report (read by the coordinator).
_CLEANER_MESSAGES = {
    "required": "required",
    "too_long": f"longer than {NAME_MAX_LENGTH} characters",
    "name_digits": "has digits in it",
    "name_characters": "has characters that are not letters",
    "cin_invalid": "not a CIN (one or two letters, then 3 to 6 digits)",
    "choice_invalid": "must be F or M",
}
CATEGORY_CHOICES = "must be one of " + ", ".join(CATEGORIES)


@dataclass(frozen=True)
class RowProblem:
    line: int  # as in the file, the header being line 1
    message: str


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)


@dataclass(frozen=True)
class DonorRow:
    """One good row of the file, cleaned."""

    line: int
    cin: str
    last_name: str
    first_name: str
    sex: str
    birth_date: date
    blood_group: str | None
    last_donation_on: date | None
    deferred_until: date | None
    deferred_permanently: bool
    deferral_reason: str | None
    category: str | None


class _RowInvalid(ValueError):
    pass


class _UnreadableCsv(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def import_donors(
    session: Session, lines_or_path: str | os.PathLike[str] | Iterable[str], now: datetime
) -> ImportReport:
    """Imports a CSV file (a path) or its lines (with or without line endings).

    `now` is an aware datetime; its own calendar date is "today" for the dates in the file, so
    pass it in the venue's time zone.
    """
    report = ImportReport()
    try:
        lines = _read_lines(lines_or_path)
    except UnicodeDecodeError as error:
        line = error.object[: error.start].count(b"\n") + 1
        report.problems.append(RowProblem(line, "not UTF-8 text: save the file as CSV UTF-8"))
        return report
    rows, report.problems = read_donor_rows(lines, now.date())
    if rows:
        with write_transaction(session):
            _store(session, rows, now, report)
    report.problems.sort(key=lambda problem: problem.line)
    return report


def read_donor_rows(lines: Iterable[str], today: date) -> tuple[list[DonorRow], list[RowProblem]]:
    """The file's good rows and the problems of the others, without touching the database."""
    lines = list(lines)
    header_line = lines[0].removeprefix("\ufeff") if lines else ""
    reader = csv.reader([header_line, *lines[1:]], delimiter=_delimiter_of(header_line))
    columns = [name.strip().lower() for name in next(reader, [])]
    header_problem = _header_problem(columns)
    if header_problem:
        return [], [RowProblem(1, header_problem)]

    rows: list[DonorRow] = []
    problems: list[RowProblem] = []
    first_line_of_cin: dict[str, int] = {}
    try:
        for line, fields in _records(reader):
            if not any(value.strip() for value in fields):
                continue
            try:
                row = _clean_row(line, _by_column(columns, fields), today)
            except _RowInvalid as invalid:
                problems.append(RowProblem(line, str(invalid)))
                continue
            first_line = first_line_of_cin.setdefault(row.cin, line)
            if first_line != line:
                problems.append(RowProblem(line, f"cin: already on line {first_line}"))
                continue
            rows.append(row)
    except _UnreadableCsv as unreadable:
        problems.append(RowProblem(unreadable.line, str(unreadable)))
    return rows, problems


def _read_lines(source: str | os.PathLike[str] | Iterable[str]) -> list[str]:
    if isinstance(source, str | os.PathLike):
        text = Path(source).read_bytes().decode("utf-8-sig")
        return io.StringIO(text, newline="").readlines()
    return list(source)


def _delimiter_of(header_line: str) -> str:
    # Column names hold neither separator, so the header tells which one the file uses.
    return ";" if header_line.count(";") > header_line.count(",") else ","


def _header_problem(columns: list[str]) -> str | None:
    if not any(columns):
        return "no header row: the first line must name the columns " + ", ".join(REQUIRED_COLUMNS)
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        return "missing column(s): " + ", ".join(missing)
    repeated = sorted({name for name in columns if name and columns.count(name) > 1})
    if repeated:
        return "column(s) named twice: " + ", ".join(repeated)
    return None


def _records(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """Each record of a csv.reader with the line it starts on (a quoted value may run over
    several lines)."""
    while True:
        line = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise _UnreadableCsv(line, f"unreadable CSV ({error}); reading stopped here") from None
        yield line, fields


def _by_column(columns: list[str], fields: list[str]) -> dict[str, str]:
    if any(value.strip() for value in fields[len(columns) :]):
        raise _RowInvalid(f"{len(fields)} values where the header has {len(columns)} columns")
    # A short row (trailing empty cells left out) reads as empty cells.
    cells = (fields + [""] * len(columns))[: len(columns)]
    return {name: csv_value(value) for name, value in zip(columns, cells, strict=True) if name}


def _clean_row(line: int, cells: dict[str, str], today: date) -> DonorRow:
    errors: list[str] = []

    def clean(column: str, cleaner, *args: Any) -> Any:
        try:
            return cleaner(cells.get(column, ""), *args)
        except Invalid as invalid:
            errors.append(f"{column}: {_CLEANER_MESSAGES.get(invalid.code, invalid.code)}")
        except ValueError as error:
            errors.append(f"{column}: {error}")
        return None

    cin = clean("cin", _required_cin, today)
    last_name = clean("last_name", clean_name, today)
    first_name = clean("first_name", clean_name, today)
    sex = clean("sex", clean_sex, today)
    birth_date = clean("birth_date", _birth_date, today)
    blood_group = clean("blood_group", _blood_group)
    last_donation_on = clean("last_donation_date", _past_date, today)
    deferred_until = clean("deferred_until", _optional_date)
    deferred_permanently = clean("deferred_permanently", _yes_no)
    deferral_reason = clean("deferral_reason", _short_text)
    category = clean("category", _optional_category, today)
    if birth_date and last_donation_on and last_donation_on < birth_date:
        errors.append("last_donation_date: before the birth date")
    if deferral_reason and not (deferred_until or deferred_permanently):
        errors.append("deferral_reason: given without deferred_until or deferred_permanently")
    if errors:
        raise _RowInvalid("; ".join(errors))
    return DonorRow(
        line,
        cin,
        last_name,
        first_name,
        sex,
        birth_date,
        blood_group,
        last_donation_on,
        deferred_until,
        deferred_permanently,
        deferral_reason,
        category,
    )


def _required_cin(raw: str, today: date) -> str:
    cin = clean_cin(raw, today)
    if cin is None:
        raise Invalid("required")
    return cin


def _optional_date(raw: str) -> date | None:
    text = raw.strip()
    if not text:
        return None
    if _ISO_DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError("not a date (YYYY-MM-DD)")


def _past_date(raw: str, today: date) -> date | None:
    day = _optional_date(raw)
    if day is not None and day > today:
        raise ValueError("in the future")
    return day


def _birth_date(raw: str, today: date) -> date:
    """Any real past date: the kiosk's age limits are for registering, not for the centre's
    history (a donor of 70 may still be on the list, deferred permanently)."""
    day = _past_date(raw, today)
    if day is None:
        raise ValueError("required")
    if day < EARLIEST_BIRTH_DATE:
        raise ValueError(f"before {EARLIEST_BIRTH_DATE.year}")
    return day


def _blood_group(raw: str) -> str | None:
    # "0+" is how a zero-for-O keyboard habit writes O+.
    group = "".join(raw.split()).upper().replace("0", "O")
    if not group:
        return None
    if group not in BLOOD_GROUPS:
        raise ValueError("must be one of " + ", ".join(BLOOD_GROUPS))
    return group


def _yes_no(raw: str) -> bool:
    answer = raw.strip().lower()
    if answer not in YES_NO:
        raise ValueError("must be yes, no, 1, 0 or empty")
    return YES_NO[answer]


def _short_text(raw: str) -> str | None:
    text = " ".join(raw.split())
    if any(unicodedata.category(character).startswith("C") for character in text):
        raise ValueError("has control characters")
    if len(text) > DEFERRAL_REASON_MAX_LENGTH:
        raise ValueError(f"longer than {DEFERRAL_REASON_MAX_LENGTH} characters")
    return text or None


def _optional_category(raw: str, today: date) -> str | None:
    if not raw.strip():
        return None
    try:
        return clean_category(raw, today)
    except Invalid:
        raise ValueError(CATEGORY_CHOICES) from None


def _store(session: Session, rows: list[DonorRow], now: datetime, report: ImportReport) -> None:
    known = _donors_by_cin(session, [row.cin for row in rows])
    for row in rows:
        donor = known.get(row.cin)
        if donor is None:
            session.add(_new_donor(row, now))
            report.added += 1
        elif donor.birth_date != row.birth_date:
            report.problems.append(
                RowProblem(row.line, "cin: known here with another birth date; not merged")
            )
        elif _merge(donor, row):
            donor.updated_at = now
            report.updated += 1
        else:
            report.unchanged += 1


def _donors_by_cin(session: Session, cins: list[str]) -> dict[str, Donor]:
    known: dict[str, Donor] = {}
    for start in range(0, len(cins), _LOOKUP_BATCH):
        batch = cins[start : start + _LOOKUP_BATCH]
        for donor in session.scalars(select(Donor).where(Donor.cin.in_(batch))):
            known[donor.cin] = donor
    return known


def _new_donor(row: DonorRow, now: datetime) -> Donor:
    return Donor(
        cin=row.cin,
        first_name=row.first_name,
        last_name=row.last_name,
        sex=row.sex,
        birth_date=row.birth_date,
        phone=None,
        category=row.category or NEW_DONOR_CATEGORY,
        created_at=now,
        updated_at=now,
        blood_group=row.blood_group,
        last_donation_on=row.last_donation_on,
        deferred_until=row.deferred_until,
        deferred_permanently=row.deferred_permanently,
        deferral_reason=row.deferral_reason,
    )


def _merge(donor: Donor, row: DonorRow) -> bool:
    """Brings a known donor up to the row; whether anything changed. History only grows
    (donor_history.py): a later donation, a stronger deferral."""
    wanted: dict[str, Any] = {
        "first_name": row.first_name,
        "last_name": row.last_name,
        "sex": row.sex,
    }
    if row.blood_group:
        wanted["blood_group"] = row.blood_group
    changed = {name: value for name, value in wanted.items() if getattr(donor, name) != value}
    for name, value in changed.items():
        setattr(donor, name, value)
    deferral = Deferral(row.deferred_permanently, row.deferred_until, row.deferral_reason)
    grew = add_history(donor, donated_on=row.last_donation_on, deferral=deferral)
    return bool(changed) or grew
