"""The end-of-day bundle for the regional centre, and the check of such a bundle.

One ZIP holds the visits as a clerk opens them (`visits.csv`) and as a machine reads them
(`visits.json`), the audit log without health values (`events.csv`), and `manifest.json`: the
campaign, the counts and the SHA-256 and size of every other file. `visits.xlsx` (see
export_xlsx.py) holds the visits, the day's figures (figures.py, also in the manifest) and the log.

The same data gives the same bytes, except the manifest's `generated_at`: rows come in queue
order, members in a fixed order with a fixed date. Times are ISO 8601 with the venue's UTC offset.

With a passphrase every member is encrypted with AES-256 the WinZip way (AE-2), which 7-Zip,
WinZip and pyzipper open; the encrypted bytes then differ from run to run (a random salt per file).
Read bundles with `bundle_members`, which opens plain and encrypted ones alike.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from importlib import metadata
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pyzipper
from pyzipper.zipfile_aes import AESZipInfo
from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Row as ResultRow
from sqlalchemy.orm import Session

from kiosk.db import write_transaction
from kiosk.domain.campaigns import current_campaign
from kiosk.domain.export_xlsx import xlsx_bytes
from kiosk.domain.figures import session_figures
from kiosk.domain.journey import Stage
from kiosk.domain.medical import DONATION_OUTCOMES, NOT_A_DONATION
from kiosk.domain.validation import Invalid, age_on, read_date
from kiosk.models import Campaign, Desk, Donation, Donor, Event, Screening, Visit

SCHEMA_VERSION = 1
PACKAGE = "nabd-kiosk"
MANIFEST = "manifest.json"
VISITS_CSV = "visits.csv"
VISITS_JSON = "visits.json"
EVENTS_CSV = "events.csv"
VISITS_XLSX = "visits.xlsx"
FHIR_JSON = "fhir.json"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest a ZIP can hold: the same bytes every time
MANIFEST_MAX_BYTES = 1_000_000
# What the files of one bundle may take once unpacked: a day is a few megabytes.
BUNDLE_MAX_BYTES = 500_000_000
PASSPHRASE_MIN_LENGTH = 8

DONOR_COLUMNS = (
    "donor_cin",
    "last_name",
    "first_name",
    "sex",
    "birth_date",
    "age",
    "phone",
    "category",
    "first_time",
    "declared_blood_group",
)
SCREENING_COLUMNS = (
    "weight_kg",
    "systolic",
    "diastolic",
    "pulse",
    "hemoglobin_g_dl",
    "decision",
    "deferral_reason",
    "deferral_until",
    "interviewer",
)
DONATION_COLUMNS = (
    "bag_number",
    "bag_type",
    "volume_ml",
    "donation_started_at",
    "donation_ended_at",
    "donation_outcome",
    "adverse_event",
    "phlebotomist",
)
VISIT_COLUMNS = (
    "campaign_code",
    "campaign_date",
    "site",
    "queue_number",
    "registered_at",
    *DONOR_COLUMNS,
    "stage_final",
    "called_interview_at",
    *SCREENING_COLUMNS,
    *DONATION_COLUMNS,
    "wait_minutes",
)
EVENT_COLUMNS = (
    "at",
    "actor",
    "device",
    "campaign_date",
    "queue_number",
    "action",
    "from_stage",
    "to_stage",
    "desk",
    "detail",
)

Value = str | int | float | bool | None
Row = dict[str, Value]


# --- which campaign, which day --------------------------------------------------------------------


def campaign_to_export(
    session: Session, code: str | None = None, day: date | None = None
) -> Campaign | None:
    """The campaign with this code; else the one running on `day`; else the open one; else the
    one opened last. Among several running on `day`, the one opened last."""
    if code is not None:
        return session.scalar(select(Campaign).where(Campaign.code == code.strip().upper()))
    last_opened = select(Campaign).order_by(Campaign.opened_at.desc(), Campaign.id.desc()).limit(1)
    if day is not None:
        return session.scalar(last_opened.where(Campaign.starts_on <= day, Campaign.ends_on >= day))
    return current_campaign(session) or session.scalar(last_opened)


def default_day(campaign: Campaign, today: date) -> date:
    """Today while the campaign runs, its last day once it is over, its first day before."""
    return min(max(today, campaign.starts_on), campaign.ends_on)


def clean_export_day(raw: str, campaign: Campaign) -> date:
    """The day to export as the coordinator typed it (see `read_date`): one of the campaign's.
    Invalid: date_required, date_invalid, date_incomplete, year_digits, day_outside_campaign."""
    day = read_date(raw)
    if day is None:
        raise Invalid("date_required")
    if not campaign.starts_on <= day <= campaign.ends_on:
        raise Invalid("day_outside_campaign", start=campaign.starts_on, end=campaign.ends_on)
    return day


# --- building -----------------------------------------------------------------------------------


def build_bundle(
    session: Session,
    campaign_id: int,
    day: date | None,
    now: datetime,
    zone: ZoneInfo,
    passphrase: str | None = None,
) -> bytes:
    """The ZIP of one campaign's visits: of one day, or of every day when `day` is None;
    encrypted with AES-256 when a passphrase is given."""
    from kiosk.domain.fhir import fhir_json  # it builds on this module's rows

    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise ValueError(f"no campaign with id {campaign_id}")
    summary = campaign_summary(campaign, day)
    visits = visit_rows(session, campaign, day, zone)
    events = event_rows(session, campaign.id, day, zone)
    figures = session_figures(visits)
    files = {
        VISITS_CSV: csv_bytes(VISIT_COLUMNS, visits),
        EVENTS_CSV: csv_bytes(EVENT_COLUMNS, events),
        VISITS_JSON: json_bytes(
            {"schema_version": SCHEMA_VERSION, "campaign": summary, "visits": visits}
        ),
        VISITS_XLSX: xlsx_bytes(summary, VISIT_COLUMNS, visits, EVENT_COLUMNS, events, figures),
    }
    del events  # tens of thousands of rows fhir.json, the largest file, has no need of
    files[FHIR_JSON], fhir_resources = fhir_json(session, campaign.id, day, visits, zone)
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "generator": generator(),
        "generated_at": iso_time(now, zone),
        "campaign": summary,
        "counts": {**count_visits(visits), "fhir_resources": fhir_resources},
        "figures": figures,
        "files": {name: file_entry(content) for name, content in files.items()},
    }
    return zip_bytes({MANIFEST: json_bytes(manifest), **files}, passphrase)


def campaign_summary(campaign: Campaign, day: date | None) -> dict[str, str]:
    """`date` is the day exported, or the campaign's first day when all its days are."""
    return {
        "code": campaign.code,
        "name": campaign.name,
        "site": campaign.site,
        "date": (day or campaign.starts_on).isoformat(),
        "regional_centre": campaign.regional_centre,
    }


def count_visits(visits: Sequence[Mapping[str, Value]]) -> dict[str, Any]:
    stages = Counter(str(row["stage_final"]) for row in visits)
    outcomes = Counter(str(row["donation_outcome"]) for row in visits if row["donation_outcome"])
    return {
        "visits": len(visits),
        "by_stage": dict(sorted(stages.items())),
        "donations": {**dict.fromkeys(DONATION_OUTCOMES, 0), **dict(sorted(outcomes.items()))},
        "deferrals": sum(1 for row in visits if str(row["decision"]).startswith("deferred")),
    }


def count_resources(fhir: Any) -> dict[str, int]:
    """The resources of a FHIR Bundle by type; ValueError if it is not one."""
    if not isinstance(fhir, dict) or fhir.get("resourceType") != "Bundle":
        raise ValueError("not a FHIR Bundle")
    entries = fhir.get("entry", [])
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise ValueError("the Bundle's entries are not a list of objects")
    types = Counter(str((entry.get("resource") or {}).get("resourceType")) for entry in entries)
    return dict(sorted(types.items()))


def generator() -> str:
    try:
        version = metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        version = "dev"
    return f"nabd {version}"


def iso_time(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return None if moment is None else moment.astimezone(zone).isoformat(timespec="seconds")


# --- the visits ---------------------------------------------------------------------------------


def visit_rows(session: Session, campaign: Campaign, day: date | None, zone: ZoneInfo) -> list[Row]:
    """Plain columns in one query, not Visit objects with their records: a day has ten thousand
    visits, and the objects cost more than the rows."""
    query = (
        select(
            Visit.id,
            Visit.donor_id,
            Visit.queue_day,
            Visit.queue_number,
            Visit.registered_at,
            Visit.stage,
            *_DONOR_FIELDS,
            Screening.id.label("screening_id"),
            *_SCREENING_FIELDS,
            Donation.id.label("donation_id"),
            *_DONATION_FIELDS,
        )
        .join(Donor, Visit.donor_id == Donor.id)
        .outerjoin(Screening, Screening.visit_id == Visit.id)
        .outerjoin(Donation, Donation.visit_id == Visit.id)
        .where(*_visits_in_scope(campaign.id, day))
        .order_by(Visit.queue_day, Visit.queue_number)
    )
    called = _first_interview_calls(session, campaign.id, day)
    first_donations = _first_donation_days(session, campaign.id, day)
    return [
        _visit_row(visit, campaign, zone, called.get(visit.id), first_donations.get(visit.donor_id))
        for visit in session.execute(query)
    ]


_DONOR_FIELDS = (
    Donor.cin,
    Donor.last_name,
    Donor.first_name,
    Donor.sex,
    Donor.birth_date,
    Donor.phone,
    Donor.category,
    Donor.blood_group,
    Donor.last_donation_on,
)
_SCREENING_FIELDS = (
    Screening.weight_kg,
    Screening.systolic,
    Screening.diastolic,
    Screening.pulse,
    Screening.hemoglobin_g_dl,
    Screening.decision,
    Screening.deferral_reason,
    Screening.deferral_until,
    Screening.doctor,
)
_DONATION_FIELDS = (
    Donation.bag_number,
    Donation.bag_type,
    Donation.volume_ml,
    Donation.started_at,
    Donation.ended_at,
    Donation.outcome,
    Donation.adverse_event,
    Donation.phlebotomist,
)


def _visits_in_scope(campaign_id: int, day: date | None) -> list:
    conditions = [Visit.campaign_id == campaign_id]
    if day is not None:
        conditions.append(Visit.queue_day == day)
    return conditions


def _first_interview_calls(
    session: Session, campaign_id: int, day: date | None
) -> dict[int, datetime]:
    """When each visit was first called from the interview line."""
    rows = session.execute(
        select(Event.visit_id, func.min(Event.at))
        .join(Visit, Event.visit_id == Visit.id)
        .where(
            *_visits_in_scope(campaign_id, day),
            Event.action == "call",
            Event.from_stage == Stage.WAITING_INTERVIEW,
        )
        .group_by(Event.visit_id)
    ).all()
    return dict(rows)


def _first_donation_days(session: Session, campaign_id: int, day: date | None) -> dict[int, date]:
    """The day of each donor's first donation known here, in any campaign."""
    donors = select(Visit.donor_id).where(*_visits_in_scope(campaign_id, day))
    rows = session.execute(
        select(Visit.donor_id, func.min(Visit.queue_day))
        .join(Donation, Donation.visit_id == Visit.id)
        .where(Visit.donor_id.in_(donors), Donation.outcome != NOT_A_DONATION)
        .group_by(Visit.donor_id)
    ).all()
    return dict(rows)


def _visit_row(
    visit: ResultRow,
    campaign: Campaign,
    zone: ZoneInfo,
    called_at: datetime | None,
    first_donation: date | None,
) -> Row:
    return {
        "campaign_code": campaign.code,
        "campaign_date": visit.queue_day.isoformat(),
        "site": campaign.site,
        "queue_number": visit.queue_number,
        "registered_at": iso_time(visit.registered_at, zone),
        **_donor_cells(visit, visit.queue_day, first_donation),
        "stage_final": visit.stage,
        "called_interview_at": iso_time(called_at, zone),
        **_screening_cells(visit),
        **_donation_cells(visit, zone),
        "wait_minutes": _whole_minutes(visit.registered_at, called_at),
    }


def _donor_cells(donor: ResultRow, day: date, first_donation: date | None) -> Row:
    return {
        "donor_cin": donor.cin,
        "last_name": donor.last_name,
        "first_name": donor.first_name,
        "sex": donor.sex,
        "birth_date": donor.birth_date.isoformat(),
        "age": age_on(donor.birth_date, day),
        "phone": donor.phone,
        "category": donor.category,
        "first_time": _first_time(donor, day, first_donation),
        "declared_blood_group": donor.blood_group,
    }


def _first_time(donor: ResultRow, day: date, first_donation: date | None) -> bool:
    """No donation known before this day: neither in the centre's list nor at an earlier visit.
    (Today's own donation moves `last_donation_on` to today, so only an earlier date counts.)"""
    known_before = donor.last_donation_on is not None and donor.last_donation_on < day
    donated_here_before = first_donation is not None and first_donation < day
    return not (known_before or donated_here_before)


def _screening_cells(screening: ResultRow) -> Row:
    if screening.screening_id is None:
        return dict.fromkeys(SCREENING_COLUMNS)
    return {
        "weight_kg": screening.weight_kg,
        "systolic": screening.systolic,
        "diastolic": screening.diastolic,
        "pulse": screening.pulse,
        "hemoglobin_g_dl": screening.hemoglobin_g_dl,
        "decision": screening.decision,
        "deferral_reason": screening.deferral_reason,
        "deferral_until": screening.deferral_until and screening.deferral_until.isoformat(),
        "interviewer": screening.doctor,
    }


def _donation_cells(donation: ResultRow, zone: ZoneInfo) -> Row:
    if donation.donation_id is None:
        return dict.fromkeys(DONATION_COLUMNS)
    return {
        "bag_number": donation.bag_number,
        "bag_type": donation.bag_type,
        "volume_ml": donation.volume_ml,
        "donation_started_at": iso_time(donation.started_at, zone),
        "donation_ended_at": iso_time(donation.ended_at, zone),
        "donation_outcome": donation.outcome,
        "adverse_event": donation.adverse_event,
        "phlebotomist": donation.phlebotomist,
    }


def _whole_minutes(start: datetime, end: datetime | None) -> int | None:
    return None if end is None else int((end - start).total_seconds() // 60)


# --- the audit log ------------------------------------------------------------------------------


def event_rows(session: Session, campaign_id: int, day: date | None, zone: ZoneInfo) -> list[Row]:
    """The campaign's events (of the visits of `day`, and those of no visit made that day), in
    the order they happened. Events hold no health values, and neither do these rows.
    Plain columns, not Event objects: a day has tens of thousands of events."""
    query = (
        select(
            Event.at,
            Event.actor,
            Event.device,
            Event.action,
            Event.from_stage,
            Event.to_stage,
            Event.detail,
            Visit.queue_day,
            Visit.queue_number,
            Desk.name,
        )
        .outerjoin(Visit, Event.visit_id == Visit.id)
        .outerjoin(Desk, Event.desk_id == Desk.id)
        .where(Event.campaign_id == campaign_id)
        .order_by(Event.at, Event.id)
    )
    if day is not None:
        start = datetime.combine(day, time(), tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
        query = query.where(
            or_(
                Visit.queue_day == day,
                and_(Event.visit_id.is_(None), Event.at >= start, Event.at < end),
            )
        )
    return [
        {
            "at": iso_time(event.at, zone),
            "actor": event.actor,
            "device": event.device,
            "campaign_date": event.queue_day and event.queue_day.isoformat(),
            "queue_number": event.queue_number,
            "action": event.action,
            "from_stage": event.from_stage,
            "to_stage": event.to_stage,
            "desk": event.name,
            "detail": event.detail,
        }
        for event in session.execute(query)
    ]


# --- the files ----------------------------------------------------------------------------------


def csv_cell(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def csv_bytes(columns: Sequence[str], rows: Iterable[Mapping[str, Value]]) -> bytes:
    """UTF-8 with a BOM (Excel then reads Arabic names right), RFC 4180 quoting and line ends."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    writer.writerows([csv_cell(row[column]) for column in columns] for row in rows)
    return text.getvalue().encode("utf-8-sig")


def json_bytes(data: Any, *, floats_alike: bool | None = None) -> bytes:
    """`json.dumps(data, ensure_ascii=False, indent=2)` and a newline, in UTF-8: made by orjson,
    20 times faster and with no text copy, wherever its bytes are the same. They are but for
    floats Python writes with an exponent (below 1e-4) or not as a number (NaN, infinities),
    keys that are not strings and integers beyond 64 bits; then the json module writes them.
    `floats_alike`: the caller has already checked the floats with `floats_written_alike`."""
    if floats_alike is None:
        floats_alike = floats_written_alike(data)
    if floats_alike:
        try:
            return orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"
        except TypeError:  # orjson.JSONEncodeError: a key that is not a string, a huge integer
            pass
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def floats_written_alike(data: Any) -> bool:
    """Every float in `data` is one orjson and the json module write alike: finite, and written
    without an exponent."""
    if isinstance(data, float):
        return math.isfinite(data) and "e" not in repr(data)
    if isinstance(data, dict):
        return all(map(floats_written_alike, data.values()))
    if isinstance(data, list | tuple):
        return all(map(floats_written_alike, data))
    return True


def file_entry(content: bytes) -> dict[str, Any]:
    return {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}


def zip_bytes(files: Mapping[str, bytes], passphrase: str | None = None) -> bytes:
    """A plain ZIP, or with a passphrase one whose every member is AES-256 encrypted."""
    if passphrase is None:
        return _plain_zip(files)
    if len(passphrase) < PASSPHRASE_MIN_LENGTH:
        raise ValueError(f"a passphrase has at least {PASSPHRASE_MIN_LENGTH} characters")
    buffer = io.BytesIO()
    with pyzipper.AESZipFile(buffer, "w", encryption=pyzipper.WZ_AES) as bundle:
        bundle.setpassword(passphrase.encode("utf-8"))
        bundle.setencryption(pyzipper.WZ_AES, nbits=256)
        for name, content in files.items():
            bundle.writestr(_member_info(AESZipInfo, name), content)
    return buffer.getvalue()


def _plain_zip(files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, content in files.items():
            bundle.writestr(_member_info(zipfile.ZipInfo, name), content)
    return buffer.getvalue()


def _member_info(info_class: type[zipfile.ZipInfo], name: str) -> zipfile.ZipInfo:
    member = info_class(name, date_time=ZIP_DATE)
    member.compress_type = zipfile.ZIP_DEFLATED
    member.create_system = 3  # Unix, whatever system writes it
    member.external_attr = 0o600 << 16  # health data: readable by its owner only
    return member


# --- verifying ----------------------------------------------------------------------------------

# What reading a damaged or foreign ZIP can raise.
_UNREADABLE = (
    zipfile.BadZipFile,
    pyzipper.BadZipFile,  # pyzipper's own copy of zipfile, with its own exceptions
    zlib.error,
    EOFError,
    OSError,
    RuntimeError,
    NotImplementedError,
    ValueError,
)


class BundleProblem(ValueError):
    """A bundle that cannot be checked any further; the message says why."""


@dataclass(frozen=True)
class VerifyReport:
    problems: list[str] = field(default_factory=list)
    files: int = 0  # files checked against the manifest
    encrypted: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def bundle_members(data: bytes, passphrase: str | None = None) -> dict[str, bytes]:
    """Every file of a bundle by name, in the ZIP's order, decrypted with the passphrase if the
    bundle is encrypted. A plain bundle opens whether a passphrase is given or not (it protects
    nothing there; `verify_bundle` says whether a bundle was encrypted). BundleProblem, with a
    one-line message, for anything that is not a whole, readable bundle."""
    return _read_bundle(data, passphrase)[0]


def read_manifest(data: bytes, passphrase: str | None = None) -> dict[str, Any]:
    """The manifest of a bundle, checked for shape; BundleProblem if there is none to trust."""
    return _manifest(bundle_members(data, passphrase))


def verify_bundle(data: bytes, passphrase: str | None = None) -> VerifyReport:
    """Every file the manifest lists is there with its size and SHA-256, nothing else is, and the
    counts agree with the files. A damaged or foreign file gives problems, never an exception."""
    try:
        members, encrypted = _read_bundle(data, passphrase)
        manifest = _manifest(members)
    except BundleProblem as problem:
        return VerifyReport([str(problem)])
    listed = manifest["files"]
    problems = [
        problem
        for name, expected in listed.items()
        for problem in _member_problems(members, name, expected)
    ]
    problems += [
        f"{name}: in the ZIP but not in the manifest"
        for name in members
        if name != MANIFEST and name not in listed
    ]
    if not problems:
        problems += _count_problems(members, manifest)
    return VerifyReport(problems, len(listed), encrypted)


def _read_bundle(data: bytes, passphrase: str | None) -> tuple[dict[str, bytes], bool]:
    """The members, and whether they were encrypted."""
    try:
        with pyzipper.AESZipFile(io.BytesIO(data)) as bundle:
            infos = bundle.infolist()
            _check_listing(infos)
            encrypted = _encrypted(infos)
            if encrypted and not passphrase:
                raise BundleProblem("the bundle is encrypted: its passphrase is needed")
            password = passphrase.encode("utf-8") if encrypted and passphrase else None
            members = {info.filename: _read_member(bundle, info, password) for info in infos}
            return members, encrypted
    except BundleProblem:
        raise
    except _UNREADABLE as error:
        raise BundleProblem(f"not a readable ZIP file ({error})") from None


def _check_listing(infos: Sequence[zipfile.ZipInfo]) -> None:
    names = Counter(info.filename for info in infos)
    for name, n in names.items():
        if n > 1:
            raise BundleProblem(f"{name}: appears {n} times in the ZIP")
    unpacked = sum(info.file_size for info in infos)
    if unpacked > BUNDLE_MAX_BYTES:
        raise BundleProblem(
            f"the files would take {unpacked} bytes unpacked, too many for a bundle"
        )


def _encrypted(infos: Sequence[zipfile.ZipInfo]) -> bool:
    """All members are encrypted, or none is: a mix means someone changed the bundle."""
    flags = {bool(info.flag_bits & 0x1) for info in infos}
    if len(flags) > 1:
        raise BundleProblem("some files of the ZIP are encrypted and some are not")
    return flags == {True}


def _read_member(bundle: zipfile.ZipFile, info: zipfile.ZipInfo, password: bytes | None) -> bytes:
    try:
        return bundle.read(info, pwd=password)
    except RuntimeError:
        # What reading with a password that fails the check raises; the passphrase is the same
        # for every member, so the first member tells.
        if password is not None:
            raise BundleProblem("wrong passphrase") from None
        raise
    except _UNREADABLE as error:
        raise BundleProblem(f"{info.filename}: cannot be read ({error})") from None


def _manifest(members: Mapping[str, bytes]) -> dict[str, Any]:
    content = members.get(MANIFEST)
    if content is None:
        raise BundleProblem(f"{MANIFEST} is missing")
    if len(content) > MANIFEST_MAX_BYTES:
        raise BundleProblem(f"{MANIFEST} is too large ({len(content)} bytes)")
    try:
        manifest = json.loads(content.decode("utf-8"))
    except ValueError as error:  # not UTF-8, not JSON
        raise BundleProblem(f"{MANIFEST} is not valid JSON ({error})") from None
    _check_manifest_shape(manifest)
    return manifest


def _check_manifest_shape(manifest: Any) -> None:
    if not isinstance(manifest, dict):
        raise BundleProblem(f"{MANIFEST} is not a JSON object")
    version = manifest.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BundleProblem(f"{MANIFEST} has no valid schema_version")
    if version > SCHEMA_VERSION:
        raise BundleProblem(
            f"schema version {version} is newer than this Nabd reads ({SCHEMA_VERSION})"
        )
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(map(_is_file_entry, files.values())):
        raise BundleProblem(f"{MANIFEST} has no valid list of files")


def _is_file_entry(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("sha256"), str)
        and isinstance(entry.get("bytes"), int)
        and not isinstance(entry.get("bytes"), bool)
    )


def _member_problems(
    members: Mapping[str, bytes], name: str, expected: Mapping[str, Any]
) -> list[str]:
    content = members.get(name)
    if content is None:
        return [f"{name}: listed in the manifest but missing"]
    if len(content) != expected["bytes"]:
        return [f"{name}: {len(content)} bytes, the manifest says {expected['bytes']}"]
    if hashlib.sha256(content).hexdigest() != expected["sha256"].lower():
        return [f"{name}: SHA-256 does not match the manifest"]
    return []


def _count_problems(members: Mapping[str, bytes], manifest: Mapping[str, Any]) -> list[str]:
    """The number of visits in the manifest is the number in visits.json, its figures (when it
    has any) are those of these visits, and its FHIR resources those in fhir.json."""
    if VISITS_JSON not in manifest["files"]:
        return []
    try:
        visits = json.loads(members[VISITS_JSON].decode("utf-8"))["visits"]
        counted = manifest["counts"]["visits"]
    except (ValueError, KeyError, TypeError) as error:
        return [f"{VISITS_JSON} or the manifest's counts cannot be read ({error})"]
    if not isinstance(visits, list):
        return [f"{VISITS_JSON} holds no list of visits"]
    if counted != len(visits):
        return [f"the manifest counts {counted} visits, {VISITS_JSON} holds {len(visits)}"]
    problems = _figure_problems(manifest, visits)
    del visits  # ten thousand rows, not to be held while fhir.json is read
    return problems + _fhir_count_problems(members, manifest)


def _figure_problems(manifest: Mapping[str, Any], visits: list) -> list[str]:
    """Only the sections the manifest has, and new known values only if they are 0: a later Nabd
    that counts more still verifies an older bundle."""
    listed = manifest.get("figures")
    if listed is None:
        return []
    try:
        figures = session_figures(visits)
    except (KeyError, ValueError, TypeError, AttributeError) as error:
        return [f"{VISITS_JSON} holds visits whose figures cannot be counted ({error!r})"]
    if not isinstance(listed, dict) or any(
        not isinstance(items, dict)
        or {item: n for item, n in figures.get(section, {}).items() if n or item in items} != items
        for section, items in listed.items()
    ):
        return [f"the manifest's figures are not those of the visits in {VISITS_JSON}"]
    return []


def _fhir_count_problems(members: Mapping[str, bytes], manifest: Mapping[str, Any]) -> list[str]:
    """The resources the manifest counts by type are those in fhir.json."""
    if FHIR_JSON not in manifest["files"]:
        return []
    try:
        fhir = json.loads(members[FHIR_JSON].decode("utf-8"), object_hook=_what_counting_reads)
        found = count_resources(fhir)
        counted = manifest["counts"]["fhir_resources"]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        return [f"{FHIR_JSON} or the manifest's counts cannot be read ({error})"]
    if counted != found:
        return [f"the manifest counts {counted} FHIR resources, {FHIR_JSON} holds {found}"]
    return []


def _what_counting_reads(item: dict[str, Any]) -> dict[str, Any]:
    """Of each JSON object, only what `count_resources` reads: a day's fhir.json is some 90 MB,
    whole it would take six times that in memory."""
    return {key: item[key] for key in ("resourceType", "entry", "resource") if key in item}


# --- exporting, and its line in the audit log ---------------------------------------------------

EXPORT_ACTION = "export"


@dataclass(frozen=True)
class Export:
    data: bytes
    manifest: dict[str, Any]
    encrypted: bool


def bundle_file_name(campaign: Campaign, day: date | None) -> str:
    """KHE-2026-11-24_2026-11-24.zip: the campaign's code, then the day (or "all")."""
    return f"{campaign.code}_{day.isoformat() if day else 'all'}.zip"


def prepare_export(
    session: Session,
    campaign: Campaign,
    day: date | None,
    now: datetime,
    zone: ZoneInfo,
    passphrase: str | None = None,
) -> Export:
    """The bundle, checked against its own manifest (a bundle that fails is never handed out)."""
    data = build_bundle(session, campaign.id, day, now, zone, passphrase)
    report = verify_bundle(data, passphrase)
    if not report.ok:  # never expected
        raise RuntimeError(f"the bundle does not verify: {report.problems[0]}")
    return Export(data, read_manifest(data, passphrase), report.encrypted)


def record_export(
    session: Session,
    campaign: Campaign,
    day: date | None,
    export: Export,
    actor_name: str,
    device: str,
    now: datetime,
) -> Event:
    """Who exported which day, from where, and the counts: nothing about any one donor."""
    counts = export.manifest["counts"]
    detail = {
        "day": day and day.isoformat(),
        "visits": counts["visits"],
        "donations": sum(counts["donations"].values()),
        "deferrals": counts["deferrals"],
        "encrypted": export.encrypted,
    }
    with write_transaction(session):
        event = Event(
            at=now,
            campaign_id=campaign.id,
            actor=actor_name,
            device=device,
            action=EXPORT_ACTION,
            detail=json.dumps(detail, sort_keys=True),
        )
        session.add(event)
    return event
