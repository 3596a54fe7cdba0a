"""The regional centre's side: many venues' end-of-day bundles merged into one database, and the
list of known donors that the next campaign starts from.

The centre's database has the venue's tables (campaigns, donors, visits, screenings, donations,
the audit log) plus `imported_bundle`, one row per bundle loaded. A bundle is checked against
its manifest first, then read whole, then written in one transaction with the others of the
same command: all of them or nothing.

- The same bundle twice (its manifest's SHA-256 is known) changes nothing.
- Another bundle with a visit already here (same campaign, day and number) or a bag number
  already here is refused: a day is imported once, never silently overwritten.
- Donors are merged by CIN. A CIN known here with another birth date is a conflict: it is
  reported, the visit is imported with a donor record of its own without that CIN, and the
  CIN waits on the visit (`cin_conflict`) for someone to check the card, as at the kiosk.
- Donor history only grows: the latest donation date, a blood group when the bundle gives
  one, the strongest deferral (permanent over temporary, a later end over an earlier one).
  Names, sex, phone and category follow the donor's most recent visit.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, tuple_
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from kiosk.audit import purging_audit_log
from kiosk.db import write_transaction
from kiosk.domain import names
from kiosk.domain.audit_events import audit_event
from kiosk.domain.din import parse_policy
from kiosk.domain.donor_history import (
    NO_DEFERRAL,
    Deferral,
    add_history,
    deferral_of,
    stronger,
)
from kiosk.domain.exchange import columns
from kiosk.domain.exchange.columns import (
    EVENT_COLUMNS,
    EVENTS_CSV,
    MANIFEST,
    VISIT_COLUMNS,
    VISITS_JSON,
    BundleDay,
    ValueRefused,
    check_event,
    check_visit,
    schema_version_problem,
    shown,
    visit_columns_of,
)
from kiosk.domain.exchange.donor_list import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from kiosk.domain.exchange.files import csv_bytes, csv_value
from kiosk.domain.exchange.signing import Signer
from kiosk.domain.exchange.trust import ACCEPT_UNSIGNED, judge
from kiosk.domain.exchange.verify import (
    MALFORMED,
    checked_bundle,
    load_bounded_json,
    visits_json_problem,
)
from kiosk.models import (
    Campaign,
    Desk,
    Donation,
    Donor,
    Event,
    ImportedBundle,
    Screening,
    Visit,
)

DONOR_LIST_COLUMNS = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
# The outcomes that give blood: a failed venipuncture does not count as a donation.
BLOOD_GIVEN = ("complete", "partial")
_BATCH = 500  # values per IN (…) query, well under SQLite's limit on bound parameters


class ImportRefused(ValueError):
    """A bundle that is not imported (nor any other of the same command); the one-line message
    says why."""


@dataclass(frozen=True)
class Bundle:
    """A bundle that passed its manifest check, read into typed rows."""

    name: str  # how the coordinator named it: the file's path
    manifest_sha256: str
    campaign: dict[str, str]
    generated_at: datetime
    visits: list[dict[str, Any]]
    events: list[dict[str, Any]]
    signer: Signer | None = None  # whose key signed the manifest (verified); None: unsigned
    sha256: str = ""  # of the whole ZIP file, for the audit lines (unsigned, replaced)
    files: int = 0  # files checked against the manifest
    encrypted: bool = False
    day: BundleDay | None = None
    unread: tuple[list[Any], bytes] | None = None  # visits.json's rows, events.csv: not read yet


@dataclass
class CinConflict:
    cin: str
    campaign_code: str
    day: date
    queue_number: int
    known_birth_date: date
    bundle_birth_date: date
    deferral_pending: str | None = None  # the visit's deferral, carried onto the CIN's record

    def describe(self) -> str:
        line = (
            f"conflict: CIN {self.cin} ({self.campaign_code}, {self.day}, number "
            f"{self.queue_number}) is known with birth date {self.known_birth_date}, the bundle "
            f"says {self.bundle_birth_date}; imported as a separate donor, the CIN kept on the "
            "visit for checking"
        )
        if self.deferral_pending:
            line += (
                f"; deferral pending review: deferred {self.deferral_pending} at this visit, "
                f"carried onto CIN {self.cin}'s record (the stronger deferral kept)"
            )
        return line


@dataclass(frozen=True)
class DetailsKept:
    """A known donor (same CIN and birth date) whose visit gives other details: names, sex and
    blood group of the centre's record are kept and reported for checking (a bundle cannot
    rename a donor); phone and category follow the donor's most recent visit, reported."""

    cin: str
    campaign_code: str
    day: date
    queue_number: int
    kept: tuple[str, ...]
    updated: tuple[str, ...]

    def describe(self) -> str:
        parts = []
        if self.kept:
            parts.append(
                f"the bundle's {', '.join(self.kept)} differ from the centre's record, which is "
                "kept, for checking"
            )
        if self.updated:
            parts.append(f"{', '.join(self.updated)} updated from this visit")
        return (
            f"details: CIN {self.cin} ({self.campaign_code}, {self.day}, number "
            f"{self.queue_number}): {'; '.join(parts)}"
        )


@dataclass
class BundleImport:
    name: str
    campaign_code: str
    day: date
    visits: int = 0
    donations: int = 0
    deferrals: int = 0
    events: int = 0
    new_donors: int = 0
    known_donors: int = 0  # visits of a donor already known here (merged by CIN)
    without_cin: int = 0  # visits of a donor with no CIN: a donor record each, never merged
    conflicts: list[CinConflict] = field(default_factory=list)
    details: list[DetailsKept] = field(default_factory=list)
    already_imported_at: datetime | None = None
    replaced: Replacement | None = None  # what --replace changed


# --- reading ------------------------------------------------------------------------------------


def read_bundle(
    name: str, data: bytes, passphrase: str | None = None, *, rows: bool = True
) -> Bundle:
    """Checks the bundle against its manifest, then (`rows`) reads its visits and audit log
    through the venue's own rules (columns.py); ImportRefused, one line naming the member, the
    row and the field, for anything that is not a whole bundle a venue could have made.
    Without `rows`, `import_bundles` reads them once the bundle's signer is known trusted."""
    report, members = checked_bundle(data, passphrase)
    if not report.ok:
        more = len(report.problems) - 1
        raise ImportRefused(report.problems[0] + (f" (and {more} more problems)" if more else ""))
    try:
        manifest = json.loads(members[MANIFEST].decode("utf-8"))
    except ValueError as error:  # checked already: never expected
        raise ImportRefused(f"{MANIFEST} is not valid JSON ({error})") from None
    for needed in (VISITS_JSON, EVENTS_CSV):
        if needed not in manifest["files"]:
            raise ImportRefused(f"the bundle has no {needed}")
    visits_document = _json_object(members[VISITS_JSON], VISITS_JSON)
    version = visits_document.get("schema_version")
    _check_version(version, VISITS_JSON)
    campaign = _campaign_summary(manifest.get("campaign"))
    generated_at = _moment(manifest.get("generated_at"), "the manifest's generated_at")
    day = BundleDay(
        campaign["code"],
        date.fromisoformat(campaign["date"]),
        generated_at,
        campaign["bag_numbers"],
        version,
    )
    visits = visits_document.get("visits")
    if not isinstance(visits, list):
        raise ImportRefused(f"{VISITS_JSON} holds no list of visits")
    bundle = Bundle(
        name=name,
        manifest_sha256=hashlib.sha256(members[MANIFEST]).hexdigest(),
        campaign=campaign,
        generated_at=generated_at,
        visits=[],
        events=[],
        signer=report.signer,
        sha256=hashlib.sha256(data).hexdigest(),
        files=report.files,
        encrypted=report.encrypted,
        day=day,
        unread=(visits, members[EVENTS_CSV]),
    )
    return with_rows(bundle) if rows else bundle


def with_rows(bundle: Bundle) -> Bundle:
    """The bundle with its visits and events read through the venue's rules (once)."""
    if bundle.unread is None:
        return bundle
    visits, events = bundle.unread
    return replace(
        bundle,
        visits=[_visit_row(index, row, bundle.day) for index, row in enumerate(visits, 1)],
        events=_event_rows(events, bundle.day),
        unread=None,
    )


def _json_object(content: bytes, name: str) -> dict[str, Any]:
    problem = visits_json_problem(content) if name == VISITS_JSON else None
    if problem is not None:
        raise ImportRefused(problem)
    try:
        document = load_bounded_json(content)
    except MALFORMED as error:
        raise ImportRefused(f"{name} is not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise ImportRefused(f"{name} is not a JSON object")
    return document


def _check_version(version: Any, name: str) -> None:
    problem = schema_version_problem(version, name)
    if problem is not None:
        raise ImportRefused(problem)


def _campaign_summary(summary: Any) -> dict[str, str]:
    keys = ("code", "name", "site", "date", "regional_centre")
    if not isinstance(summary, dict) or not all(isinstance(summary.get(k), str) for k in keys):
        raise ImportRefused("the manifest's campaign lacks its code, name, site, date or centre")
    campaign = {key: summary[key] for key in keys}
    if not summary["code"].strip():
        raise ImportRefused("the manifest's campaign has no code")
    for key, longest in (("code", 40), ("name", 200), ("site", 200), ("regional_centre", 200)):
        value = campaign[key]
        try:
            clean = names.clean(value, longest)
        except names.NameProblem:
            clean = None
        if clean != value:
            raise ImportRefused(
                f"the manifest's campaign {key}: {shown(value)} is not one a venue makes"
            )
    try:
        date.fromisoformat(campaign["date"])
    except ValueError:
        raise ImportRefused(
            f"the manifest's campaign date: {shown(campaign['date'])} is not a date"
        ) from None
    # Older bundles do not say how the campaign checked its bag numbers: as "any" does.
    policy = summary.get("bag_numbers", "any")
    try:
        campaign["bag_numbers"] = parse_policy(policy if isinstance(policy, str) else "")
    except ValueError as error:
        raise ImportRefused(f"the manifest's campaign bag_numbers: {error}") from None
    return campaign


def _visit_row(index: int, row: Any, day: BundleDay) -> dict[str, Any]:
    where = f"{VISITS_JSON} row {index}"
    if not isinstance(row, dict):
        raise ImportRefused(f"{where} is not a JSON object")
    missing = [column for column in visit_columns_of(day.schema_version) if column not in row]
    if missing:
        raise ImportRefused(f"{where} lacks {', '.join(missing)}")
    typed = {column: _typed(column, row.get(column), where) for column in VISIT_COLUMNS}
    for flag in columns.FLAGS:  # an older bundle's missing flag, or a null one: false
        typed[flag] = bool(typed[flag])
    for column in columns.REQUIRED:
        if typed[column] is None:
            raise ImportRefused(f"{where}, {column}: empty")
    if typed["decision"] is not None:
        _require(typed, columns.SCREENING_NEEDS, f"{where} (screened)")
    if typed["donation_outcome"] is not None:
        _require(typed, columns.DONATION_NEEDS, f"{where} (donation)")
    try:
        check_visit(typed, day)
    except ValueRefused as refused:
        raise ImportRefused(f"{where}, {refused}") from None
    except MALFORMED as error:  # a value the rules could not even compare
        raise ImportRefused(f"{where}: a value no venue makes ({type(error).__name__})") from None
    return typed


def _require(row: Mapping[str, Any], columns: Sequence[str], where: str) -> None:
    empty = [column for column in columns if row[column] is None]
    if empty:
        raise ImportRefused(f"{where}: {', '.join(empty)} empty")


def _typed(column: str, value: Any, where: str) -> Any:
    if value is None:
        return None
    try:
        kind = columns.kind_of(column)
        if kind == "date":
            return date.fromisoformat(_text(value))
        if kind == "time":
            return _aware_time(value)
        if kind == "whole":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError("not a whole number")
            return value
        if kind == "decimal":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError("not a number")
            return float(value)
        if kind == "flag":
            if not isinstance(value, bool):
                raise ValueError("not true or false")
            return value
        text = _text(value, _LONGER_TEXT.get(column, _TEXT_MAX_LENGTH))
        choices = columns.CHOICES.get(column)
        if choices is not None and text not in choices:
            raise ValueError(f"{shown(text)} is not one of {', '.join(choices)}")
        return text
    except (ValueError, OverflowError) as error:
        raise ImportRefused(f"{where}, {column}: {error}") from None


def _text(value: Any, longest: int = 1000) -> str:
    if not isinstance(value, str):
        raise ValueError("not text")
    if len(value) > longest:
        raise ValueError(f"longer than {longest} characters")
    return value


_TEXT_MAX_LENGTH = 1000  # no value of a row is longer (a note); the rules say more
# The questionnaire's answers, as JSON: a code, an answer and a date per question.
_LONGER_TEXT = {"questionnaire_answers": 16_000}


def _moment(value: Any, what: str) -> datetime:
    try:
        return _aware_time(value)
    except ValueError as error:
        raise ImportRefused(f"{what}: {error}") from None


def _aware_time(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(_text(value))
    except ValueError:
        raise ValueError("not a time with its UTC offset") from None
    if moment.tzinfo is None:
        raise ValueError("a time without its UTC offset")
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("not a time with its UTC offset") from None
    return moment


def _event_rows(content: bytes, day: BundleDay | None = None) -> list[dict[str, Any]]:
    """events.csv's rows, typed, and checked against the venue's rules when `day` is given (an
    import always gives it; without it, only the CSV and the kinds are read)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused(f"{EVENTS_CSV} is not UTF-8 text") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, [])
        if tuple(header) != EVENT_COLUMNS:
            raise ImportRefused(
                f"{EVENTS_CSV} does not have the columns {', '.join(EVENT_COLUMNS)}"
            )
        return [_event_row(line, fields, day) for line, fields in enumerate(reader, 2)]
    except csv.Error as error:
        raise ImportRefused(f"{EVENTS_CSV} is not readable CSV ({error})") from None


def _event_row(line: int, fields: list[str], day: BundleDay | None) -> dict[str, Any]:
    where = f"{EVENTS_CSV} line {line}"
    if len(fields) != len(EVENT_COLUMNS):
        raise ImportRefused(f"{where}: {len(fields)} values for {len(EVENT_COLUMNS)} columns")
    row: dict[str, Any] = {
        column: csv_value(value) or None
        for column, value in zip(EVENT_COLUMNS, fields, strict=True)
    }
    for column in ("at", "actor", "action"):
        if row[column] is None:
            raise ImportRefused(f"{where}, {column}: empty")
    row["at"] = _moment(row["at"], f"{where}, at")
    try:
        if row["campaign_date"] is not None:
            row["campaign_date"] = _event_date(row["campaign_date"])
        if row["queue_number"] is not None:
            row["queue_number"] = _event_number(row["queue_number"])
        if day is not None:
            check_event(row, day)
    except ValueRefused as refused:
        raise ImportRefused(f"{where}, {refused}") from None
    return row


def _event_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueRefused("campaign_date", f"{shown(text)} is not a date") from None


def _event_number(text: str) -> int:
    if not (text.isascii() and text.isdecimal() and len(text) <= 6):
        raise ValueRefused("queue_number", f"{shown(text)} is not a queue number")
    return int(text)


# --- importing ----------------------------------------------------------------------------------


def import_bundles(
    session: Session,
    bundles: Sequence[Bundle],
    now: datetime,
    *,
    accept_unsigned: bool = False,
    replace: bool = False,
    actor: str = "centre",
    device: str = "cli",
) -> list[BundleImport]:
    """Imports the bundles in one transaction: all of them, or (ImportRefused) none. Each must be
    signed by a venue on the centre's trust list; an unsigned one goes in only with
    `accept_unsigned`, audited with the SHA-256 of its ZIP file. With `replace`, a bundle of a
    day imported already from another bundle replaces that import (audited), never lowering a
    deferral; without it, such a bundle is refused."""
    reports = []
    with write_transaction(session):
        for bundle in bundles:
            try:
                _check_trust(session, bundle, now, accept_unsigned, actor, device)
                who = (actor, device) if replace else None
                reports.append(_import_one(session, with_rows(bundle), now, who))
            except ImportRefused as refused:
                raise ImportRefused(f"{bundle.name}: {refused}") from None
            except (IntegrityError, DataError) as error:  # a value the database will not take
                detail = (str(error.orig).strip().splitlines() or ["?"])[0]
                raise ImportRefused(
                    f"{bundle.name}: the database refused a value of the bundle ({detail})"
                ) from None
    return reports


def _check_trust(
    session: Session,
    bundle: Bundle,
    now: datetime,
    accept_unsigned: bool,
    actor: str,
    device: str,
) -> None:
    decision = judge(session, bundle.signer, accept_unsigned)
    if decision.refusal is not None:
        raise ImportRefused(decision.refusal)
    if bundle.signer is None:
        detail = {"bundle": bundle.name, "sha256": bundle.sha256}
        session.add(audit_event(now, actor, device, ACCEPT_UNSIGNED, detail=json.dumps(detail)))


def _earlier_import(session: Session, bundle: Bundle, day: date) -> ImportedBundle | None:
    """The latest import of this campaign day from another bundle, if any."""
    return session.scalar(
        select(ImportedBundle)
        .join(Campaign, ImportedBundle.campaign_id == Campaign.id)
        .where(Campaign.code == bundle.campaign["code"], ImportedBundle.day == day)
        .order_by(ImportedBundle.imported_at.desc(), ImportedBundle.id.desc())
        .limit(1)
    )


def _import_one(
    session: Session, bundle: Bundle, now: datetime, replacing: tuple[str, str] | None
) -> BundleImport:
    day = date.fromisoformat(bundle.campaign["date"])
    report = BundleImport(bundle.name, bundle.campaign["code"], day)
    known = session.scalar(
        select(ImportedBundle).where(ImportedBundle.manifest_sha256 == bundle.manifest_sha256)
    )
    if known is not None:
        report.already_imported_at = known.imported_at
        return report
    earlier = _earlier_import(session, bundle, day)
    if earlier is not None and replacing is None:
        when = earlier.imported_at.isoformat(timespec="seconds")
        raise ImportRefused(
            f"{bundle.campaign['code']} {day} was imported already (on {when}) from another "
            "bundle; a day goes in once (a corrected re-export replaces it with --replace)"
        )
    campaign = _campaign(session, bundle)
    if earlier is not None:
        report.replaced = _take_out_day(session, campaign, bundle, day, earlier)
    _refuse_visits_already_here(session, campaign, bundle)
    _refuse_bags_already_here(session, bundle)
    visits = _import_visits(session, campaign, bundle, report)
    report.events = _import_events(session, campaign, bundle, visits, report.replaced is not None)
    session.add(
        ImportedBundle(
            manifest_sha256=bundle.manifest_sha256,
            campaign=campaign,
            day=day,
            generated_at=bundle.generated_at,
            visits=report.visits,
            donations=report.donations,
            deferrals=report.deferrals,
            events=report.events,
            conflicts=len(report.conflicts),
            imported_at=now,
        )
    )
    if report.replaced is not None and replacing is not None:
        session.add(_replace_event(bundle, day, report.replaced, now, *replacing))
    session.flush()  # what the database refuses is refused here, for this bundle
    return report


# --- replacing a day already imported -----------------------------------------------------------

REPLACE_ACTION = "central_replace"


@dataclass(frozen=True)
class KeptDeferral:
    """A deferral of the earlier import that the new bundle drops or shortens: it stays on the
    donor's record (history only grows)."""

    queue_number: int
    cin: str | None
    earlier: str  # "permanent (infection_risk)", "until 2027-02-22 (low_hemoglobin)"
    now: str  # what the new bundle says: "none", "eligible", "until …", "no such visit"

    def describe(self) -> str:
        who = f"CIN {self.cin}" if self.cin else "a donor without CIN"
        return (
            f"deferral kept: number {self.queue_number} ({who}) was deferred {self.earlier} in "
            f"the earlier import, the new bundle says {self.now}; the deferral stays on the "
            "donor's record"
        )


@dataclass
class Replacement:
    earlier_manifest_sha256: str
    earlier_imported_at: datetime
    added: int = 0
    removed: int = 0
    changed: int = 0
    donations: tuple[int, int] = (0, 0)  # before, after
    deferrals: tuple[int, int] = (0, 0)
    kept: list[KeptDeferral] = field(default_factory=list)

    def describe(self) -> str:
        when = self.earlier_imported_at.isoformat(timespec="seconds")
        return (
            f"replaces the import of {when} (manifest {self.earlier_manifest_sha256[:12]}): "
            f"visits {self.added} added, {self.removed} removed, {self.changed} changed; "
            f"donations {self.donations[0]} -> {self.donations[1]}; "
            f"deferrals {self.deferrals[0]} -> {self.deferrals[1]}"
        )


def _take_out_day(
    session: Session, campaign: Campaign, bundle: Bundle, day: date, earlier: ImportedBundle
) -> Replacement:
    """Removes the visits of `day` (their records and their copies of the venue's log lines)
    that an earlier import brought, and says what the new bundle changes. Donor records stay,
    with all they learnt: a deferral is never lowered by a replacement."""
    old = session.scalars(
        select(Visit).where(Visit.campaign_id == campaign.id, Visit.queue_day == day)
    ).all()
    before = {visit.queue_number: _visit_summary_of(visit) for visit in old}
    after = {
        row["queue_number"]: _row_summary(row)
        for row in bundle.visits
        if row["campaign_date"] == day
    }
    change = Replacement(earlier.manifest_sha256, earlier.imported_at)
    change.added = len(after.keys() - before.keys())
    change.removed = len(before.keys() - after.keys())
    change.changed = sum(1 for n in before.keys() & after.keys() if before[n] != after[n])
    change.donations = (
        sum(1 for s in before.values() if s.outcome is not None),
        sum(1 for s in after.values() if s.outcome is not None),
    )
    change.deferrals = (
        sum(1 for s in before.values() if s.deferral.permanent or s.deferral.until),
        sum(1 for s in after.values() if s.deferral.permanent or s.deferral.until),
    )
    for number, summary in sorted(before.items()):
        kept = _kept_deferral(number, summary, after.get(number))
        if kept is not None:
            change.kept.append(kept)
    ids = [visit.id for visit in old]
    for start in range(0, len(ids), _BATCH):
        batch = ids[start : start + _BATCH]
        with purging_audit_log(session):
            session.execute(delete(Event).where(Event.visit_id.in_(batch)))
        session.execute(delete(Screening).where(Screening.visit_id.in_(batch)))
        session.execute(delete(Donation).where(Donation.visit_id.in_(batch)))
        session.execute(delete(Visit).where(Visit.id.in_(batch)))
    session.expire_all()  # the objects of the rows just removed
    return change


@dataclass(frozen=True)
class _Summary:
    """What a replacement compares of a visit."""

    cin: str | None
    names: tuple[str, str]
    stage: str
    decision: str | None
    deferral: Deferral
    outcome: str | None
    bag: str | None
    volume: int | None


def _visit_summary_of(visit: Visit) -> _Summary:
    screening, donation = visit.screening, visit.donation
    decision = screening.decision if screening else None
    return _Summary(
        visit.donor.cin or visit.cin_conflict,
        (visit.donor.last_name, visit.donor.first_name),
        visit.stage,
        decision,
        _deferral(
            decision,
            screening.deferral_until if screening else None,
            screening and screening.deferral_reason,
        ),
        donation.outcome if donation else None,
        donation.bag_number if donation else None,
        donation.volume_ml if donation else None,
    )


def _row_summary(row: Mapping[str, Any]) -> _Summary:
    return _Summary(
        row["donor_cin"],
        (row["last_name"], row["first_name"]),
        row["stage_final"],
        row["decision"],
        _deferral(row["decision"], row["deferral_until"], row["deferral_reason"]),
        row["donation_outcome"],
        row["bag_number"],
        row["volume_ml"],
    )


def _deferral(decision: str | None, until: date | None, reason: str | None) -> Deferral:
    if decision == "deferred_permanent":
        return Deferral(True, None, reason)
    if decision == "deferred_temporary":
        return Deferral(False, until, reason)
    return NO_DEFERRAL


def _kept_deferral(number: int, earlier: _Summary, new: _Summary | None) -> KeptDeferral | None:
    if earlier.deferral == NO_DEFERRAL:
        return None
    if new is not None and stronger(new.deferral, earlier.deferral) == new.deferral:
        return None  # as strong or stronger now
    if new is None:
        now = "there is no such visit"
    elif new.deferral == NO_DEFERRAL:
        now = new.decision or "no decision"
    else:
        now = _worded(new.deferral)
    return KeptDeferral(number, earlier.cin, _worded(earlier.deferral), now)


def _worded(deferral: Deferral) -> str:
    what = "permanently" if deferral.permanent else f"until {deferral.until}"
    return f"{what} ({deferral.reason})" if deferral.reason else what


def _replace_event(
    bundle: Bundle, day: date, change: Replacement, now: datetime, actor: str, device: str
) -> Event:
    detail = {
        "bundle": bundle.name,
        "sha256": bundle.sha256,
        "manifest_sha256": bundle.manifest_sha256,
        "replaced_manifest_sha256": change.earlier_manifest_sha256,
        "campaign": bundle.campaign["code"],
        "day": day.isoformat(),
        "visits_added": change.added,
        "visits_removed": change.removed,
        "visits_changed": change.changed,
        "deferrals_kept": len(change.kept),
    }
    return audit_event(now, actor, device, REPLACE_ACTION, detail=json.dumps(detail))


# --- the campaign, the visits, their donors -----------------------------------------------------


def _campaign(session: Session, bundle: Bundle) -> Campaign:
    summary = bundle.campaign
    days = [row["campaign_date"] for row in bundle.visits] or [date.fromisoformat(summary["date"])]
    campaign = session.scalar(select(Campaign).where(Campaign.code == summary["code"]))
    if campaign is None:
        first_registration = min(
            (row["registered_at"] for row in bundle.visits), default=bundle.generated_at
        )
        campaign = Campaign(
            code=summary["code"],
            name=summary["name"],
            site=summary["site"],
            regional_centre=summary["regional_centre"],
            starts_on=min(days),
            ends_on=max(days),
            bag_numbers=summary["bag_numbers"],
            status="closed",
            opened_at=first_registration,
        )
        session.add(campaign)
        session.flush()  # its id, for the audit lines
        return campaign
    campaign.starts_on = min(campaign.starts_on, *days)
    campaign.ends_on = max(campaign.ends_on, *days)
    return campaign


def _refuse_visits_already_here(session: Session, campaign: Campaign, bundle: Bundle) -> None:
    keys = [(row["campaign_date"], row["queue_number"]) for row in bundle.visits]
    for start in range(0, len(keys), _BATCH):
        batch = keys[start : start + _BATCH]
        found = session.execute(
            select(Visit.queue_day, Visit.queue_number)
            .where(
                Visit.campaign_id == campaign.id,
                tuple_(Visit.queue_day, Visit.queue_number).in_(batch),
            )
            .limit(1)
        ).first()
        if found is not None:
            raise ImportRefused(
                f"{campaign.code}, {found[0]}, number {found[1]} is in the database already from "
                "another bundle: a day is imported once, never overwritten"
            )


def _refuse_bags_already_here(session: Session, bundle: Bundle) -> None:
    bags = [row["bag_number"] for row in bundle.visits if row["bag_number"] is not None]
    repeated = sorted({bag for bag in bags if bags.count(bag) > 1})
    if repeated:
        raise ImportRefused(f"bag number {repeated[0]} appears twice in the bundle")
    for start in range(0, len(bags), _BATCH):
        found = session.execute(
            select(Donation.bag_number, Campaign.code)
            .join(Visit, Donation.visit_id == Visit.id)
            .join(Campaign, Visit.campaign_id == Campaign.id)
            .where(Donation.bag_number.in_(bags[start : start + _BATCH]))
            .limit(1)
        ).first()
        if found is not None:
            raise ImportRefused(f"bag number {found[0]} is in the database already ({found[1]})")


def _import_visits(
    session: Session, campaign: Campaign, bundle: Bundle, report: BundleImport
) -> dict[tuple[date, int], Visit]:
    last_event_at: dict[tuple[date, int], datetime] = {}
    decided_at: dict[tuple[date, int], datetime] = {}
    for event in bundle.events:
        key = (event["campaign_date"], event["queue_number"])
        last_event_at[key] = max(last_event_at.get(key, event["at"]), event["at"])
        if event["action"] in ("accept", "defer"):
            decided_at[key] = event["at"]
    donors: dict[str, Donor] = {}
    visits: dict[tuple[date, int], Visit] = {}
    for row in bundle.visits:
        key = (row["campaign_date"], row["queue_number"])
        donor, conflict = _donor_for(session, row, donors, report)
        visit = Visit(
            campaign=campaign,
            donor=donor,
            queue_day=row["campaign_date"],
            queue_number=row["queue_number"],
            stage=row["stage_final"],
            stage_changed_at=last_event_at.get(key, row["registered_at"]),
            registered_at=row["registered_at"],
            called_at=row["called_interview_at"],
            request_id=_request_id(campaign.code, *key),
            language="",
            cin_conflict=conflict.cin if conflict else None,
            contact_consent=bool(row["contact_consent"]),
            answers=row["questionnaire_answers"] or "{}",
        )
        session.add(visit)
        visits[key] = visit
        report.visits += 1
        if row["decision"] is not None:
            screened_at = decided_at.get(key) or row["called_interview_at"] or row["registered_at"]
            session.add(_screening(visit, row, screened_at))
            report.deferrals += row["decision"].startswith("deferred")
        if row["donation_outcome"] is not None:
            session.add(_donation(visit, row))
            report.donations += 1
        _add_history(donor, row)
        deferral = _deferral(row["decision"], row["deferral_until"], row["deferral_reason"])
        if conflict is not None and deferral != NO_DEFERRAL:
            # A deferral is never lost to a mistyped birth date: the CIN's record gets it too.
            add_history(donors[conflict.cin], deferral=deferral)
            conflict.deferral_pending = _worded(deferral)
    return visits


def _request_id(code: str, day: date, number: int) -> str:
    """Unique and the same for the same visit (request ids of the venue are not exported)."""
    return "central-" + hashlib.sha256(f"{code}|{day}|{number}".encode()).hexdigest()[:48]


def _screening(visit: Visit, row: Mapping[str, Any], at: datetime) -> Screening:
    return Screening(
        visit=visit,
        weight_kg=row["weight_kg"],
        systolic=row["systolic"],
        diastolic=row["diastolic"],
        pulse=row["pulse"],
        hemoglobin_g_dl=row["hemoglobin_g_dl"],
        decision=row["decision"],
        deferral_reason=row["deferral_reason"],
        deferral_until=row["deferral_until"],
        note=row["screening_note"] or "",
        doctor=row["interviewer"] or "",
        at=at,
    )


def _donation(visit: Visit, row: Mapping[str, Any]) -> Donation:
    return Donation(
        visit=visit,
        bag_number=row["bag_number"],
        bag_type=row["bag_type"],
        volume_ml=row["volume_ml"],
        started_at=row["donation_started_at"],
        ended_at=row["donation_ended_at"],
        outcome=row["donation_outcome"],
        adverse_event=row["adverse_event"],
        adverse_severity=row["adverse_severity"],
        note=row["donation_note"] or "",
        phlebotomist=row["phlebotomist"] or "",
        at=row["donation_ended_at"],
    )


def _donor_for(
    session: Session, row: Mapping[str, Any], donors: dict[str, Donor], report: BundleImport
) -> tuple[Donor, CinConflict | None]:
    """The donor of this visit, and the CIN's conflict if there is one."""
    cin = row["donor_cin"]
    if cin is None:
        report.without_cin += 1
        return _new_donor(row, None), None
    donor = donors.get(cin) or session.scalar(select(Donor).where(Donor.cin == cin))
    if donor is None:
        donor = donors[cin] = _new_donor(row, cin)
        report.new_donors += 1
        return donor, None
    donors[cin] = donor
    if donor.birth_date != row["birth_date"]:
        conflict = CinConflict(
            cin,
            row["campaign_code"],
            row["campaign_date"],
            row["queue_number"],
            donor.birth_date,
            row["birth_date"],
        )
        report.conflicts.append(conflict)
        return _new_donor(row, None), conflict
    report.known_donors += 1
    details = _merge_details(donor, row, row["campaign_date"] >= _latest_visit_day(session, donor))
    if details is not None:
        report.details.append(details)
    return donor, None


def _latest_visit_day(session: Session, donor: Donor) -> date:
    if donor.id is None:
        return date.min
    latest = session.scalar(select(func.max(Visit.queue_day)).where(Visit.donor_id == donor.id))
    return latest or date.min


def _new_donor(row: Mapping[str, Any], cin: str | None) -> Donor:
    return Donor(
        cin=cin,
        birth_date=row["birth_date"],
        created_at=row["registered_at"],
        updated_at=row["registered_at"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        sex=row["sex"],
        phone=row["phone"],
        category=row["category"],
        blood_group=row["declared_blood_group"],
        contact_consent=row["contact_consent"],
    )


# Who the donor is: the centre's record is kept against a bundle (reported); how to reach them
# and their group follow their most recent visit.
_IDENTITY = {"last_name": "last_name", "first_name": "first_name", "sex": "sex"}
_CONTACT = {"phone": "phone", "category": "category", "contact_consent": "contact_consent"}


def _merge_details(donor: Donor, row: Mapping[str, Any], latest: bool) -> DetailsKept | None:
    kept = [
        column
        for column, attribute in _IDENTITY.items()
        if getattr(donor, attribute) != row[column]
    ]
    group = row["declared_blood_group"]
    if group is not None and donor.blood_group is not None and donor.blood_group != group:
        kept.append("blood group")
    updated = []
    if latest:
        for column, attribute in _CONTACT.items():
            if getattr(donor, attribute) != row[column]:
                setattr(donor, attribute, row[column])
                updated.append(column)
        if updated:
            donor.updated_at = row["registered_at"]
    if not kept and not updated:
        return None
    return DetailsKept(
        donor.cin or "",
        row["campaign_code"],
        row["campaign_date"],
        row["queue_number"],
        tuple(kept),
        tuple(updated),
    )


def _add_history(donor: Donor, row: Mapping[str, Any]) -> None:
    """History only grows (donor_history.py): a later donation, a stronger deferral, a blood
    group where none was known."""
    if donor.blood_group is None and row["declared_blood_group"] is not None:
        donor.blood_group = row["declared_blood_group"]
    donated_on = row["campaign_date"] if row["donation_outcome"] in BLOOD_GIVEN else None
    deferral = _deferral(row["decision"], row["deferral_until"], row["deferral_reason"])
    add_history(donor, donated_on=donated_on, deferral=deferral)


def _import_events(
    session: Session,
    campaign: Campaign,
    bundle: Bundle,
    visits: Mapping[tuple[date, int], Visit],
    replacing: bool = False,
) -> int:
    """The venue's log lines. On a replacement, the lines of no visit that the earlier import
    brought are there already (a venue's log only grows): those are not added twice."""
    desks: dict[str, Desk] = {}
    here = _visitless_events(session, campaign) if replacing else set()
    added = 0
    for row in bundle.events:
        visit = None
        if row["queue_number"] is not None:
            visit = visits.get((row["campaign_date"], row["queue_number"]))
            if visit is None:
                raise ImportRefused(
                    f"{EVENTS_CSV}: an event of number {row['queue_number']} "
                    f"({row['campaign_date']}), a visit {VISITS_JSON} does not hold"
                )
        elif _event_key(row["at"], row["actor"], row["action"], row["detail"]) in here:
            continue
        session.add(
            audit_event(
                row["at"],
                row["actor"],
                row["device"] or "",
                row["action"],
                campaign_id=campaign.id,
                visit=visit,
                from_stage=row["from_stage"],
                to_stage=row["to_stage"],
                desk=_desk(session, row, desks),
                detail=row["detail"],
            )
        )
        added += 1
    return added


def _event_key(at: datetime, actor: str, action: str, detail: str | None) -> tuple:
    return (at.astimezone(UTC).replace(tzinfo=None), actor, action, detail)


def _visitless_events(session: Session, campaign: Campaign) -> set[tuple]:
    rows = session.execute(
        select(Event.at, Event.actor, Event.action, Event.detail).where(
            Event.campaign_id == campaign.id, Event.visit_id.is_(None)
        )
    )
    return {_event_key(_aware(at), actor, action, detail) for at, actor, action, detail in rows}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _desk(session: Session, row: Mapping[str, Any], desks: dict[str, Desk]) -> Desk | None:
    """The venue's desk by name ("Médecin 1"), kept as a desk no longer in use."""
    name = row["desk"]
    if name is None:
        return None
    if name not in desks:
        desk = session.scalar(select(Desk).where(Desk.name == name))
        if desk is None:
            stages = f"{row['from_stage'] or ''} {row['to_stage'] or ''}"
            stage = "interview" if "interview" in stages else "collection"
            desk = Desk(name=name, stage=stage, active=False)
            session.add(desk)
        desks[name] = desk
    return desks[name]


# --- the list of known donors -------------------------------------------------------------------


@dataclass(frozen=True)
class DonorList:
    csv: bytes
    donors: int
    without_cin: int  # donor records the list cannot carry (its rows are identified by CIN)


def donor_list(session: Session) -> DonorList:
    """Every donor with a CIN, in the CSV that `kiosk import donors` reads, ordered by CIN. A
    deferral recorded on a visit whose CIN was in conflict (the donor record of that visit has
    no CIN) is listed on that CIN's row: the stronger deferral of the two."""
    donors = session.scalars(select(Donor).where(Donor.cin.is_not(None)).order_by(Donor.cin)).all()
    without = session.scalar(select(func.count(Donor.id)).where(Donor.cin.is_(None)))
    pending = conflict_deferrals(session)
    rows = [_donor_list_row(donor, pending.get(donor.cin, NO_DEFERRAL)) for donor in donors]
    return DonorList(csv_bytes(DONOR_LIST_COLUMNS, rows), len(rows), without)


def conflict_deferrals(session: Session) -> dict[str, Deferral]:
    """The strongest deferral of the donor records of visits that wait with a conflicting CIN."""
    found: dict[str, Deferral] = {}
    rows = session.execute(
        select(
            Visit.cin_conflict,
            Donor.deferred_permanently,
            Donor.deferred_until,
            Donor.deferral_reason,
        )
        .join(Donor, Visit.donor_id == Donor.id)
        .where(
            Visit.cin_conflict.is_not(None),
            or_(Donor.deferred_permanently.is_(True), Donor.deferred_until.is_not(None)),
        )
    )
    for cin, permanent, until, reason in rows:
        deferral = Deferral(bool(permanent), None if permanent else until, reason)
        found[cin] = stronger(found.get(cin, NO_DEFERRAL), deferral)
    return found


def _donor_list_row(donor: Donor, pending: Deferral = NO_DEFERRAL) -> dict[str, Any]:
    deferral = stronger(deferral_of(donor), pending)
    deferred = deferral.permanent or deferral.until is not None
    return {
        "cin": donor.cin,
        "last_name": donor.last_name,
        "first_name": donor.first_name,
        "sex": donor.sex,
        "birth_date": donor.birth_date.isoformat(),
        "blood_group": donor.blood_group,
        "last_donation_date": donor.last_donation_on and donor.last_donation_on.isoformat(),
        "deferred_until": deferral.until and deferral.until.isoformat(),
        "deferred_permanently": deferral.permanent,
        # The list refuses a reason without a deferral: it would be read as a mistake.
        "deferral_reason": deferral.reason if deferred else None,
        "category": donor.category,
    }
