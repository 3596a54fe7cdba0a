"""The end-of-day bundle for the regional centre, and the check of such a bundle.

One ZIP holds the visits as a clerk opens them (`visits.csv`) and as a machine reads them
(`visits.json`), the audit log without health values (`events.csv`), and `manifest.json`: the
campaign, the counts and the SHA-256 and size of every other file.

The same data gives the same bytes, except the manifest's `generated_at`: rows come in queue
order, members in a fixed order with a fixed date. Times are ISO 8601 with the venue's UTC offset.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from importlib import metadata
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from kiosk.domain.campaigns import current_campaign
from kiosk.domain.journey import Stage
from kiosk.domain.medical import DONATION_OUTCOMES
from kiosk.domain.validation import age_on
from kiosk.models import Campaign, Desk, Donation, Donor, Event, Screening, Visit

SCHEMA_VERSION = 1
PACKAGE = "nabd-kiosk"
MANIFEST = "manifest.json"
VISITS_CSV = "visits.csv"
VISITS_JSON = "visits.json"
EVENTS_CSV = "events.csv"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest a ZIP can hold: the same bytes every time
MANIFEST_MAX_BYTES = 1_000_000
# A failed venipuncture gives no blood: it does not make a donor a repeat donor.
NOT_A_DONATION = "failed_venipuncture"

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


# --- building -----------------------------------------------------------------------------------


def build_bundle(
    session: Session, campaign_id: int, day: date | None, now: datetime, zone: ZoneInfo
) -> bytes:
    """The ZIP of one campaign's visits: of one day, or of every day when `day` is None."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise ValueError(f"no campaign with id {campaign_id}")
    summary = campaign_summary(campaign, day)
    visits = visit_rows(session, campaign, day, zone)
    files = {
        VISITS_CSV: csv_bytes(VISIT_COLUMNS, visits),
        EVENTS_CSV: csv_bytes(EVENT_COLUMNS, event_rows(session, campaign.id, day, zone)),
        VISITS_JSON: json_bytes(
            {"schema_version": SCHEMA_VERSION, "campaign": summary, "visits": visits}
        ),
    }
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "generator": generator(),
        "generated_at": iso_time(now, zone),
        "campaign": summary,
        "counts": count_visits(visits),
        "files": {name: file_entry(content) for name, content in files.items()},
    }
    return zip_bytes({MANIFEST: json_bytes(manifest), **files})


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
    visits = session.scalars(
        select(Visit)
        .where(*_visits_in_scope(campaign.id, day))
        .order_by(Visit.queue_day, Visit.queue_number)
        .options(*_with_their_records())
    ).all()
    called = _first_interview_calls(session, campaign.id, day)
    first_donations = _first_donation_days(session, campaign.id, day)
    return [
        _visit_row(visit, campaign, zone, called.get(visit.id), first_donations.get(visit.donor_id))
        for visit in visits
    ]


def _with_their_records() -> list:
    """Donor, screening and donation loaded a query each, not a query per visit. (The last two
    are backrefs, known once the mappers are configured: hence a function.)"""
    return [selectinload(Visit.donor), selectinload(Visit.screening), selectinload(Visit.donation)]


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
    visit: Visit,
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
        **_donor_cells(visit.donor, visit.queue_day, first_donation),
        "stage_final": visit.stage,
        "called_interview_at": iso_time(called_at, zone),
        **_screening_cells(visit.screening),
        **_donation_cells(visit.donation, zone),
        "wait_minutes": _whole_minutes(visit.registered_at, called_at),
    }


def _donor_cells(donor: Donor, day: date, first_donation: date | None) -> Row:
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


def _first_time(donor: Donor, day: date, first_donation: date | None) -> bool:
    """No donation known before this day: neither in the centre's list nor at an earlier visit.
    (Today's own donation moves `last_donation_on` to today, so only an earlier date counts.)"""
    known_before = donor.last_donation_on is not None and donor.last_donation_on < day
    donated_here_before = first_donation is not None and first_donation < day
    return not (known_before or donated_here_before)


def _screening_cells(screening: Screening | None) -> Row:
    if screening is None:
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


def _donation_cells(donation: Donation | None, zone: ZoneInfo) -> Row:
    if donation is None:
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


def json_bytes(data: Any) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def file_entry(content: bytes) -> dict[str, Any]:
    return {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}


def zip_bytes(files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, content in files.items():
            member = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.create_system = 3  # Unix, whatever system writes it
            member.external_attr = 0o600 << 16  # health data: readable by its owner only
            bundle.writestr(member, content)
    return buffer.getvalue()


# --- verifying ----------------------------------------------------------------------------------

# What reading a damaged or foreign ZIP can raise.
_UNREADABLE = (
    zipfile.BadZipFile,
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

    @property
    def ok(self) -> bool:
        return not self.problems


def read_manifest(data: bytes) -> dict[str, Any]:
    """The manifest of a bundle, checked for shape; BundleProblem if there is none to trust."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as bundle:
            return _manifest(bundle)
    except _UNREADABLE as error:
        raise BundleProblem(f"not a readable ZIP file ({error})") from None


def verify_bundle(data: bytes) -> VerifyReport:
    """Every file the manifest lists is there with its size and SHA-256, and nothing else is.
    A damaged or foreign file gives problems, never an exception."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as bundle:
            manifest = _manifest(bundle)
            listed = manifest["files"]
            problems = _duplicates(bundle)
            for name, expected in listed.items():
                problems += _member_problems(bundle, name, expected)
            problems += [
                f"{name}: in the ZIP but not in the manifest"
                for name in dict.fromkeys(bundle.namelist())
                if name != MANIFEST and name not in listed
            ]
            if not problems:
                problems += _count_problems(bundle, manifest)
            return VerifyReport(problems, len(listed))
    except BundleProblem as problem:
        return VerifyReport([str(problem)])
    except _UNREADABLE as error:
        return VerifyReport([f"not a readable ZIP file ({error})"])


def _manifest(bundle: zipfile.ZipFile) -> dict[str, Any]:
    try:
        info = bundle.getinfo(MANIFEST)
    except KeyError:
        raise BundleProblem(f"{MANIFEST} is missing") from None
    if info.file_size > MANIFEST_MAX_BYTES:
        raise BundleProblem(f"{MANIFEST} is too large ({info.file_size} bytes)")
    try:
        manifest = json.loads(bundle.read(info).decode("utf-8"))
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


def _duplicates(bundle: zipfile.ZipFile) -> list[str]:
    names = Counter(bundle.namelist())
    return [f"{name}: appears {n} times in the ZIP" for name, n in names.items() if n > 1]


def _member_problems(bundle: zipfile.ZipFile, name: str, expected: Mapping[str, Any]) -> list[str]:
    try:
        info = bundle.getinfo(name)
    except KeyError:
        return [f"{name}: listed in the manifest but missing"]
    if info.file_size != expected["bytes"]:
        return [f"{name}: {info.file_size} bytes, the manifest says {expected['bytes']}"]
    try:
        content = bundle.read(info)
    except _UNREADABLE as error:
        return [f"{name}: cannot be read ({error})"]
    if hashlib.sha256(content).hexdigest() != expected["sha256"].lower():
        return [f"{name}: SHA-256 does not match the manifest"]
    return []


def _count_problems(bundle: zipfile.ZipFile, manifest: Mapping[str, Any]) -> list[str]:
    """The number of visits in the manifest is the number in visits.json."""
    if VISITS_JSON not in manifest["files"]:
        return []
    try:
        visits = json.loads(bundle.read(VISITS_JSON).decode("utf-8"))["visits"]
        counted = manifest["counts"]["visits"]
    except (ValueError, KeyError, TypeError) as error:
        return [f"{VISITS_JSON} or the manifest's counts cannot be read ({error})"]
    if not isinstance(visits, list):
        return [f"{VISITS_JSON} holds no list of visits"]
    if counted != len(visits):
        return [f"the manifest counts {counted} visits, {VISITS_JSON} holds {len(visits)}"]
    return []
