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

A deferral is never lost to a refused row: a row the checks refuse (a digit in a first name)
whose CIN, birth date and deferral are readable still gives its deferral to the donor of that
CIN here (a donor record is made for it if there is none, its refused values left empty for the
kiosk to fill in), and the row's line says so. The same holds for a row whose CIN is known here
with another birth date: the deferral is carried onto the CIN's record, pending review.
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
class KeptDeferral:
    """What a refused row still gives: its deferral, for the donor of its CIN."""

    line: int
    cin: str
    birth_date: date
    deferral: Deferral
    last_name: str
    first_name: str
    sex: str


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
    def __init__(self, message: str, unread: bool = False) -> None:
        super().__init__(message)
        self.unread = unread  # the row's cells could not even be told apart


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
    rows, report.problems, deferrals = read_donor_rows(lines, now.date(), with_deferrals=True)
    if rows or deferrals:
        with write_transaction(session):
            _store(session, rows, now, report)
            _keep_deferrals(session, deferrals, now)
    report.problems.sort(key=lambda problem: problem.line)
    return report


def read_donor_rows(lines: Iterable[str], today: date, *, with_deferrals: bool = False) -> Any:
    """The file's good rows and the problems of the others, without touching the database;
    with `with_deferrals`, also the deferrals the refused rows still give (KeptDeferral)."""
    lines = list(lines)
    header_line = lines[0].removeprefix("\ufeff") if lines else ""
    reader = csv.reader([header_line, *lines[1:]], delimiter=_delimiter_of(header_line))
    columns = [name.strip().lower() for name in next(reader, [])]
    header_problem = _header_problem(columns)
    if header_problem:
        return (
            ([], [RowProblem(1, header_problem)], [])
            if with_deferrals
            else ([], [RowProblem(1, header_problem)])
        )

    rows: list[DonorRow] = []
    problems: list[RowProblem] = []
    kept: list[KeptDeferral] = []
    first_line_of_cin: dict[str, int] = {}
    try:
        for line, fields in _records(reader):
            if not any(value.strip() for value in fields):
                continue
            try:
                cells = _by_column(columns, fields)
                row = _clean_row(line, cells, today)
            except _RowInvalid as invalid:
                deferral = _deferral_of_refused(line, cells, today) if cells_read(invalid) else None
                message = str(invalid)
                if deferral is not None:
                    kept.append(deferral)
                    message += (
                        f"; its deferral ({_worded(deferral.deferral)}) is kept for CIN "
                        f"{deferral.cin}"
                    )
                problems.append(RowProblem(line, message))
                continue
            first_line = first_line_of_cin.setdefault(row.cin, line)
            if first_line != line:
                problems.append(RowProblem(line, f"cin: already on line {first_line}"))
                continue
            rows.append(row)
    except _UnreadableCsv as unreadable:
        problems.append(RowProblem(unreadable.line, str(unreadable)))
    return (rows, problems, kept) if with_deferrals else (rows, problems)


def cells_read(invalid: _RowInvalid) -> bool:
    """Whether the row's cells were read (a row with too many values is not)."""
    return not invalid.unread


def _deferral_of_refused(line: int, cells: dict[str, str], today: date) -> KeptDeferral | None:
    """The deferral a refused row still gives, when its CIN, birth date and deferral are
    readable; its other values as far as they pass the checks (else empty)."""
    try:
        cin = _required_cin(cells.get("cin", ""), today)
        birth_date = _birth_date(cells.get("birth_date", ""), today)
        permanent = _yes_no(cells.get("deferred_permanently", ""))
        until = _optional_date(cells.get("deferred_until", ""))
    except ValueError:  # Invalid is a ValueError too
        return None
    if not permanent and until is None:
        return None
    try:
        reason = _short_text(cells.get("deferral_reason", ""))
    except ValueError:
        reason = None
    deferral = Deferral(True, None, reason) if permanent else Deferral(False, until, reason)

    def checked(column: str, cleaner) -> str:
        try:
            return cleaner(cells.get(column, ""), today)
        except ValueError:
            return ""

    return KeptDeferral(
        line,
        cin,
        birth_date,
        deferral,
        checked("last_name", clean_name),
        checked("first_name", clean_name),
        checked("sex", clean_sex),
    )


def _worded(deferral: Deferral) -> str:
    what = "permanent" if deferral.permanent else f"until {deferral.until}"
    return f"{what}, {deferral.reason}" if deferral.reason else what


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
        raise _RowInvalid(
            f"{len(fields)} values where the header has {len(columns)} columns", unread=True
        )
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
            deferral = Deferral(row.deferred_permanently, row.deferred_until, row.deferral_reason)
            message = "cin: known here with another birth date; not merged"
            if deferral.permanent or deferral.until:
                if add_history(donor, deferral=deferral):
                    donor.updated_at = now
                message += (
                    f"; its deferral ({_worded(deferral)}) is kept on this CIN's record, "
                    "pending review"
                )
            report.problems.append(RowProblem(row.line, message))
        elif _merge(donor, row):
            donor.updated_at = now
            report.updated += 1
        else:
            report.unchanged += 1


def _keep_deferrals(session: Session, kept: list[KeptDeferral], now: datetime) -> None:
    """The refused rows' deferrals, onto the donor of each CIN (made if there is none)."""
    known = _donors_by_cin(session, [deferral.cin for deferral in kept])
    for deferral in kept:
        donor = known.get(deferral.cin)
        if donor is None:
            donor = known[deferral.cin] = Donor(
                cin=deferral.cin,
                first_name=deferral.first_name,
                last_name=deferral.last_name,
                sex=deferral.sex,
                birth_date=deferral.birth_date,
                phone=None,
                category=NEW_DONOR_CATEGORY,
                created_at=now,
                updated_at=now,
            )
            session.add(donor)
        if add_history(donor, deferral=deferral.deferral):
            donor.updated_at = now


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
