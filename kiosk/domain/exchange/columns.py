"""The bundle's vocabulary, read by the writer (rows.py, bundle.py) and the reader (central.py)
alike: its files, its schema version, the columns of visits.csv/visits.json and events.csv, and
the kind of value each visit column holds.

A column added here is written by `visit_rows` and typed by the centre's import from this one
list; a kind changed here changes both sides. Each column's kind points to the venue's own rule
for its value (`VENUE_RULE`): the centre reads a row through the very form checks the kiosk and
the desks use (validation.py, medical.py, din.py, journey.py, names.py, staff.py), never a copy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from kiosk.domain import names
from kiosk.domain.journey import DEFERRING, TRANSITIONS, Records, Stage, missing_record
from kiosk.domain.medical import (
    ADVERSE_EVENTS,
    DECISIONS,
    DONATION_OUTCOMES,
    SEVERITIES,
    clean_donation,
    clean_screening,
)
from kiosk.domain.questionnaire import DATE_SUFFIX, QUESTION_PREFIX, clean_answers
from kiosk.domain.retention import RECEIVED_ACTION
from kiosk.domain.staff import APP_ACTORS, USERNAME
from kiosk.domain.validation import (
    BLOOD_GROUPS,
    Invalid,
    age_on,
    check_fields,
    has_hidden_characters,
)

SCHEMA_VERSION = 2
# Version 2 added the donor's consent to be phoned (`contact_consent`). Older bundles are still
# read: a column added after their version is read as empty (a flag as false).
ADDED_IN: dict[str, int] = dict.fromkeys(
    (
        "contact_consent",
        "questionnaire_answers",
        "screening_note",
        "adverse_severity",
        "donation_note",
    ),
    2,
)
MANIFEST = "manifest.json"
VISITS_CSV = "visits.csv"
VISITS_JSON = "visits.json"
EVENTS_CSV = "events.csv"
VISITS_XLSX = "visits.xlsx"
FHIR_JSON = "fhir.json"
EXPORT_ACTION = "export"  # the audit line of an export (bundle.py)
SIGNATURE = "signature.json"  # the venue's signature over the manifest (signing.py)
# Every name a bundle member may have: anything else (`../../x`, `/etc/cron.d/x`) is refused.
MEMBER_NAMES = frozenset(
    (MANIFEST, SIGNATURE, VISITS_CSV, VISITS_JSON, EVENTS_CSV, VISITS_XLSX, FHIR_JSON)
)

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
    "contact_consent",
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
    "screening_note",
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
    "adverse_severity",
    "donation_note",
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
    "questionnaire_answers",
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


# The kind of each visit column, as visits.json holds it: "date" (YYYY-MM-DD), "time" (ISO 8601
# with its UTC offset), "whole" (an integer), "decimal" (a number), "flag" (true or false),
# "text"; a column of CHOICES is text from that list. Every column may be null.
DATES = ("campaign_date", "birth_date", "deferral_until")
TIMES = ("registered_at", "called_interview_at", "donation_started_at", "donation_ended_at")
WHOLE = ("queue_number", "age", "systolic", "diastolic", "pulse", "volume_ml", "wait_minutes")
DECIMAL = ("weight_kg", "hemoglobin_g_dl")
FLAGS = ("first_time", "contact_consent")
CHOICES: dict[str, Sequence[str]] = {
    "sex": ("F", "M"),
    "stage_final": tuple(Stage),
    "decision": DECISIONS,
    "donation_outcome": DONATION_OUTCOMES,
    "adverse_event": ADVERSE_EVENTS,
    "adverse_severity": SEVERITIES,
}
# Never null in a visit row; those of a screened visit, those of a donation.
REQUIRED = (
    "campaign_code",
    "campaign_date",
    "queue_number",
    "registered_at",
    "last_name",
    "first_name",
    "sex",
    "birth_date",
    "category",
    "stage_final",
)
SCREENING_NEEDS = ("weight_kg", "systolic", "diastolic", "pulse", "hemoglobin_g_dl")
DONATION_NEEDS = (
    "bag_number",
    "bag_type",
    "volume_ml",
    "donation_started_at",
    "donation_ended_at",
    "adverse_event",
)


def kind_of(column: str) -> str:
    """The kind of a visit column: date, time, whole, decimal, flag or text."""
    for kind, columns in (
        ("date", DATES),
        ("time", TIMES),
        ("whole", WHOLE),
        ("decimal", DECIMAL),
        ("flag", FLAGS),
    ):
        if column in columns:
            return kind
    return "text"


def visit_columns_of(version: int) -> tuple[str, ...]:
    """The visit columns a bundle of that schema version holds."""
    return tuple(column for column in VISIT_COLUMNS if ADDED_IN.get(column, 1) <= version)


def schema_version_problem(version: Any, name: str) -> str | None:
    """Why a file's `schema_version` cannot be read by this Nabd, or None if it can."""
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return f"{name} has no valid schema_version"
    if version > SCHEMA_VERSION:
        return f"{name}: schema version {version} is newer than this Nabd reads ({SCHEMA_VERSION})"
    return None


# --- the venue's rules, for the centre's reader --------------------------------------------------
#
# A bundle comes from a venue whose forms refused anything a person cannot have typed there; the
# centre reads each row through those same forms, so a value no venue could export (a CIN of
# markup, a systolic of 99999, a category "hacker") refuses the bundle. Where each column's rule
# lives at the venue:
REGISTRATION_FORM = "validation.check_fields (the kiosk's registration form)"
SCREENING_FORM = "medical.clean_screening (the doctor's form)"
DONATION_FORM = "medical.clean_donation (the phlebotomist's form, the campaign's bag policy)"
JOURNEY = "journey.Stage and journey.missing_record (the journey's state machine)"
STAFF = "staff.USERNAME (the staff accounts that record screenings and donations)"
CAMPAIGN_DAY = "the campaign's day, as the venue's clock gives it"
VENUE_RULE: dict[str, str] = {
    "campaign_code": "the manifest's campaign",
    "campaign_date": CAMPAIGN_DAY,
    "site": "names.clean (the campaign's site)",
    "queue_number": "registration.typed_queue_number (1 to 999999)",
    "registered_at": CAMPAIGN_DAY,
    **dict.fromkeys(
        ("donor_cin", "last_name", "first_name", "sex", "birth_date", "phone", "category"),
        REGISTRATION_FORM,
    ),
    "age": "validation.age_on (the birth date on the campaign day)",
    "first_time": "a flag",
    "declared_blood_group": "validation.BLOOD_GROUPS",
    "contact_consent": "validation.clean_contact_consent (a ticked box)",
    "stage_final": JOURNEY,
    "called_interview_at": CAMPAIGN_DAY,
    "questionnaire_answers": "questionnaire.clean_answers (the kiosk's questionnaire)",
    **dict.fromkeys((*SCREENING_COLUMNS[:-1],), SCREENING_FORM),
    "interviewer": STAFF,
    **dict.fromkeys(DONATION_COLUMNS[:-1], DONATION_FORM),
    "phlebotomist": STAFF,
    "wait_minutes": "rows.py: whole minutes from registration to the first call",
}
# How a refusal names what a column holds: "systolic: 99999 is not a blood pressure a venue
# accepts (60 to 260)".
WHAT: dict[str, str] = {
    "campaign_code": "the campaign's code",
    "campaign_date": "a day of this bundle",
    "site": "a site's name",
    "queue_number": "a queue number",
    "registered_at": "a registration time on the campaign day",
    "donor_cin": "a CIN",
    "last_name": "a name",
    "first_name": "a name",
    "sex": "a sex",
    "birth_date": "a birth date",
    "age": "the donor's age on the campaign day",
    "first_time": "true or false",
    "contact_consent": "true or false",
    "phone": "a phone number",
    "category": "a donor category",
    "declared_blood_group": "a blood group",
    "stage_final": "a stage",
    "called_interview_at": "a call time on the campaign day",
    "weight_kg": "a weight",
    "systolic": "a blood pressure",
    "diastolic": "a blood pressure",
    "pulse": "a pulse",
    "hemoglobin_g_dl": "a haemoglobin value",
    "decision": "a decision",
    "deferral_reason": "a deferral reason",
    "deferral_until": "a deferral's end",
    "screening_note": "the doctor's note",
    "questionnaire_answers": "the questionnaire's answers",
    "interviewer": "a staff account's name",
    "bag_number": "a bag number",
    "bag_type": "a bag type",
    "volume_ml": "a volume",
    "donation_started_at": "a donation's start on the campaign day",
    "donation_ended_at": "a donation's end on the campaign day",
    "donation_outcome": "a donation outcome",
    "adverse_event": "an adverse event",
    "adverse_severity": "a reaction's severity",
    "donation_note": "the phlebotomist's note",
    "phlebotomist": "a staff account's name",
    "wait_minutes": "the wait before the first call",
    # events.csv
    "at": "a time of the campaign",
    "actor": "an actor of the audit log",
    "device": "a device's name",
    "action": "an action of the audit log",
    "from_stage": "a stage",
    "to_stage": "a stage",
    "desk": "a desk's name",
    "detail": "an audit line's detail",
}
# What the forms' codes mean, in the refusal's line.
_REASONS = {
    "required": "empty",
    "too_long": "too long",
    "name_digits": "digits in a name",
    "name_characters": "characters that are not letters",
    "cin_invalid": "one or two letters, then 3 to 6 digits",
    "phone_invalid": "not a Moroccan number in +212 form",
    "choice_invalid": "not one of the choices",
    "date_future": "in the future",
    "too_young": "younger than 18 on the campaign day",
    "too_old": "older than 65 on the campaign day",
    "date_invalid": "not a date",
    "date_not_future": "not after the campaign day",
    "date_too_far": "more than three years after the campaign day",
    "date_required": "a temporary deferral needs its end",
    "number_invalid": "not a number",
    "time_future": "after the bundle was made",
    "ends_before_start": "ends before it starts",
    "hidden_characters": "hidden characters",
    "bag_required": "empty",
    "bag_too_long": "too long",
    "bag_characters": "control characters",
    "bag_format": "not the campaign's bag-number format",
    "din_format": "not an ISBT 128 DIN",
    "din_check": "the DIN's check character is wrong",
}
# The actions a venue's audit log holds for a campaign (journey.py's moves and records,
# registration, reprints, corrections, exports and the centre's receipt).
EVENT_ACTIONS = frozenset(
    {
        *TRANSITIONS,
        "register",
        "registered_again",
        "ticket_again",  # written by older Nabd, still named in the record's history
        "ticket_reissued",
        "reprint_ticket",
        "correct_donation",
        EXPORT_ACTION,
        RECEIVED_ACTION,
    }
)
QUEUE_NUMBER_MAX = 999_999  # the six digits a typed queue number has
DETAIL_MAX_LENGTH = 200  # journey.record_event keeps 200 characters of an event's detail
# Who acts in a venue's log: a staff account, the app itself, or the login name of whoever typed
# a `kiosk` command on the server (cli/common.py: typing_actor).
_LOGIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,59}")


class ValueRefused(ValueError):
    """A value no venue could have exported: `column` names it, the message says why."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(f"{column}: {message}")
        self.column = column


@dataclass(frozen=True)
class BundleDay:
    """What a bundle's rows are checked against: its campaign (from the manifest), the first
    day it covers, when it was made, and the campaign's bag-number policy."""

    code: str
    first_day: date
    generated_at: datetime
    bag_policy: str = "any"
    schema_version: int = SCHEMA_VERSION


def shown(value: Any) -> str:
    """A value as a refusal's line shows it: numbers as they are, text quoted with its hidden
    characters escaped, never longer than a line."""
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, int | float):
        text = repr(value)
    elif isinstance(value, date | datetime):
        text = value.isoformat()
    else:
        text = repr(str(value))
    return text if len(text) <= 60 else text[:57] + "..."


def not_accepted(column: str, value: Any, reason: str | None = None) -> ValueRefused:
    why = f" ({reason})" if reason else ""
    return ValueRefused(
        column, f"{shown(value)} is not {WHAT.get(column, 'a value')} a venue accepts{why}"
    )


def _refusal(column: str, value: Any, invalid: Invalid) -> ValueRefused:
    reason = _REASONS.get(invalid.code, invalid.code.replace("_", " "))
    params = getattr(invalid, "params", {}) or {}
    if invalid.code == "out_of_range":
        reason = f"{params.get('low')} to {params.get('high')}"
    return not_accepted(column, value, reason)


def check_visit(row: Mapping[str, Any], day: BundleDay) -> None:
    """ValueRefused for the first value of a typed visit row that the venue's forms refuse."""
    _check_campaign_cells(row, day)
    _check_registration(row, day)
    _check_answers(row)
    _check_stage(row)
    _check_screening(row, day)
    _check_donation(row, day)


def _check_campaign_cells(row: Mapping[str, Any], day: BundleDay) -> None:
    if row["campaign_code"] != day.code:
        raise not_accepted("campaign_code", row["campaign_code"], f"the manifest says {day.code}")
    campaign_date = row["campaign_date"]
    if not day.first_day <= campaign_date <= _local_day(day.generated_at):
        raise not_accepted("campaign_date", campaign_date, "outside the bundle's days")
    site = row["site"]
    if site is not None and _name_problem(site, 200):
        raise not_accepted("site", site, _name_problem(site, 200))
    number = row["queue_number"]
    if not 1 <= number <= QUEUE_NUMBER_MAX:
        raise not_accepted("queue_number", number, f"1 to {QUEUE_NUMBER_MAX}")
    for column in ("registered_at", "called_interview_at"):
        _check_on_the_day(row, column, day)
    called = row["called_interview_at"]
    if called is not None and called < row["registered_at"]:
        raise not_accepted("called_interview_at", called, "before the registration")
    wait = None if called is None else int((called - row["registered_at"]).total_seconds() // 60)
    if row["wait_minutes"] != wait:
        raise not_accepted(
            "wait_minutes", row["wait_minutes"], "not the registration's to the call"
        )


def _local_day(moment: datetime) -> date:
    return moment.date()  # an aware time's own date: the venue's, at the offset it carries


def _check_on_the_day(row: Mapping[str, Any], column: str, day: BundleDay) -> None:
    moment = row[column]
    if moment is None:
        return
    if _local_day(moment) != row["campaign_date"]:
        raise not_accepted(column, moment, f"not on {row['campaign_date']}")
    if moment > day.generated_at:
        raise not_accepted(column, moment, "after the bundle was made")


def _name_problem(text: str, longest: int) -> str | None:
    try:
        clean = names.clean(text, longest)
    except names.NameProblem as problem:
        return _REASONS.get(problem.code, problem.code)
    return None if clean == text and clean else "not as a venue stores it"


_REGISTRATION_FIELDS = {
    "donor_cin": "cin",
    "last_name": "last_name",
    "first_name": "first_name",
    "sex": "sex",
    "birth_date": "birth_date",
    "phone": "phone",
    "category": "category",
}


def _check_registration(row: Mapping[str, Any], day: BundleDay) -> None:
    """The kiosk's own registration form, on the campaign day, gives back the row's values."""
    form = {field: _form_text(row[column]) for column, field in _REGISTRATION_FIELDS.items()}
    clean, errors = check_fields(form, tuple(form), row["campaign_date"])
    for column, field in _REGISTRATION_FIELDS.items():
        if field in errors:
            error = errors[field]
            raise _refusal(column, row[column], Invalid(error.code, **error.params))
        if clean[field] != row[column]:
            raise not_accepted(column, row[column], "not as the kiosk stores it")
    if row["age"] != age_on(row["birth_date"], row["campaign_date"]):
        raise not_accepted("age", row["age"], "not that of the birth date")
    group = row["declared_blood_group"]
    if group is not None and group not in BLOOD_GROUPS:
        raise not_accepted("declared_blood_group", group, ", ".join(BLOOD_GROUPS))


def _form_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _check_stage(row: Mapping[str, Any]) -> None:
    stage = Stage(row["stage_final"])
    decision = row["decision"]
    missing = missing_record(stage, Records(decision, row["donation_outcome"] is not None))
    if missing:
        raise not_accepted("stage_final", stage.value, f"a visit there needs {missing}")
    if decision in DEFERRING and stage != Stage.DEFERRED:
        raise not_accepted("stage_final", stage.value, "the visit was deferred")


def _check_screening(row: Mapping[str, Any], day: BundleDay) -> None:
    decision = row["decision"]
    if decision is None:
        _all_empty(row, SCREENING_COLUMNS, "no screening")
        return
    form = {
        **{column: _form_text(row[column]) for column in SCREENING_NEEDS},
        "decision": decision,
        "deferral_reason": row["deferral_reason"] or "",
        "deferral_until": _form_text(row["deferral_until"]),
        "note": _form_text(row["screening_note"]),
    }
    # A decision against the rules needs a note at the venue; the centre does not run the rules
    # again (they need the donor's history): the rules' verdict is taken as agreeing.
    agrees = "ok" if decision == "eligible" else "defer"
    screening, errors = clean_screening(form, lambda measurements: agrees, row["campaign_date"])
    for column in SCREENING_COLUMNS:
        field = "note" if column == "screening_note" else column
        if field in errors:
            error = errors[field]
            raise _refusal(column, row[column], Invalid(error.code, **error.params))
    if (screening.note or None) != row["screening_note"]:
        raise not_accepted("screening_note", row["screening_note"], "not as the form stores it")
    assert screening is not None  # noqa: S101 (no errors: a form)
    for column in WHOLE:  # a decimal's last digits may differ in its float; bounds hold it
        if column in SCREENING_NEEDS and getattr(screening.measurements, column) != row[column]:
            raise not_accepted(column, row[column], "not as the doctor's form stores it")
    if decision not in DEFERRING and row["deferral_reason"] is not None:
        raise not_accepted("deferral_reason", row["deferral_reason"], "given without a deferral")
    if decision != "deferred_temporary" and row["deferral_until"] is not None:
        raise not_accepted("deferral_until", row["deferral_until"], f"given for {decision}")
    _check_staff(row, "interviewer")


def _check_answers(row: Mapping[str, Any]) -> None:
    """The questionnaire as the kiosk stored it (questionnaire.answers_to_json), read back
    through the kiosk's own questionnaire for this donor's sex on the campaign day. A visit
    with no answers recorded ("{}", older databases) has none to check."""
    text = row["questionnaire_answers"]
    if text is None or text == "{}":
        return
    try:
        stored = json.loads(text)
    except ValueError:
        raise not_accepted("questionnaire_answers", text, "not the kiosk's JSON") from None
    if not isinstance(stored, dict) or not all(isinstance(a, dict) for a in stored.values()):
        raise not_accepted("questionnaire_answers", text, "not the kiosk's JSON")
    form = {}
    for code, answer in stored.items():
        form[f"{QUESTION_PREFIX}{code}"] = str(answer.get("answer") or "")
        form[f"{QUESTION_PREFIX}{code}{DATE_SUFFIX}"] = str(answer.get("date") or "")
    answers, errors = clean_answers(form, row["sex"], row["campaign_date"])
    if errors:
        field, code = next(iter(errors.items()))
        raise not_accepted("questionnaire_answers", text, f"{field}: {code}")
    if set(stored) != set(answers):
        raise not_accepted("questionnaire_answers", text, "not the questions the kiosk asks")


def _all_empty(row: Mapping[str, Any], columns: Sequence[str], why: str) -> None:
    for column in columns:
        if row[column] is not None:
            raise not_accepted(column, row[column], f"given with {why}")


_DONATION_FIELDS = {
    "bag_number": "bag_number",
    "bag_type": "bag_type",
    "volume_ml": "volume_ml",
    "donation_started_at": "started_at",
    "donation_ended_at": "ended_at",
    "donation_outcome": "outcome",
    "adverse_event": "adverse_event",
    "adverse_severity": "adverse_severity",
    "donation_note": "note",
}


def _check_donation(row: Mapping[str, Any], day: BundleDay) -> None:
    if row["donation_outcome"] is None:
        _all_empty(row, DONATION_COLUMNS, "no donation")
        return
    for column in ("donation_started_at", "donation_ended_at"):
        _check_on_the_day(row, column, day)
    started = row["donation_started_at"]
    form = {
        field: _form_text(row[column])
        for column, field in _DONATION_FIELDS.items()
        if column not in ("donation_started_at", "donation_ended_at")
    }
    form["started_at"] = started.strftime("%H:%M")
    form["ended_at"] = row["donation_ended_at"].astimezone(started.tzinfo).strftime("%H:%M")
    if day.schema_version < ADDED_IN["adverse_severity"] and not form["adverse_severity"]:
        form["adverse_severity"] = "mild"  # an older bundle has no severity: one the form takes
    donation, errors = clean_donation(
        form, day.bag_policy, row["campaign_date"], started.tzinfo, day.generated_at
    )
    for column, field in _DONATION_FIELDS.items():
        if field in errors:
            error = errors[field]
            raise _refusal(column, row[column], Invalid(error.code, **error.params))
    assert donation is not None  # noqa: S101 (no errors: a form)
    held = frozenset(visit_columns_of(day.schema_version))
    for column, field in _DONATION_FIELDS.items():
        value = row[column]
        if isinstance(value, datetime):  # the form takes whole minutes; seconds are kept
            value = value.replace(second=0, microsecond=0)
        if column not in held:
            continue  # an older bundle's missing column: nothing to compare
        stored = getattr(donation, field)
        if column in _EMPTY_AS_NONE:
            stored = stored or None  # an empty note is null in the bundle
        if stored != value:
            raise not_accepted(column, row[column], "not as the phlebotomist's form stores it")
    _check_staff(row, "phlebotomist")


_EMPTY_AS_NONE = ("donation_note",)


def _check_staff(row: Mapping[str, Any], column: str) -> None:
    name = row[column]
    if name is None or not USERNAME.fullmatch(name):
        raise not_accepted(column, name)


def check_event(row: Mapping[str, Any], day: BundleDay) -> None:
    """ValueRefused for the first value of a typed events.csv row no venue's log holds."""
    at = row["at"]
    if not day.first_day <= _local_day(at) or at > day.generated_at:
        raise not_accepted("at", at, "outside the bundle's days")
    actor = row["actor"]
    if not (actor in APP_ACTORS or USERNAME.fullmatch(actor) or _LOGIN_NAME.fullmatch(actor)):
        raise not_accepted("actor", actor)
    for column, longest in (("device", 60), ("desk", 40)):
        value = row[column]
        if value is not None and _name_problem(value, longest):
            raise not_accepted(column, value, _name_problem(value, longest))
    if row["action"] not in EVENT_ACTIONS:
        raise not_accepted("action", row["action"])
    for column in ("from_stage", "to_stage"):
        if row[column] is not None and row[column] not in tuple(Stage):
            raise not_accepted(column, row[column])
    detail = row["detail"]
    if detail is not None and (
        len(detail) > DETAIL_MAX_LENGTH or has_hidden_characters(detail, allowed="\n\r\t")
    ):
        raise not_accepted("detail", detail, "too long or hidden characters")
    campaign_date = row["campaign_date"]
    if campaign_date is not None and not (
        day.first_day <= campaign_date <= _local_day(day.generated_at)
    ):
        raise not_accepted("campaign_date", campaign_date, "outside the bundle's days")
    number = row["queue_number"]
    if number is not None and not 1 <= number <= QUEUE_NUMBER_MAX:
        raise not_accepted("queue_number", number, f"1 to {QUEUE_NUMBER_MAX}")
    if (number is None) != (campaign_date is None):
        raise not_accepted("queue_number", number, "a visit's event names its day and number")
