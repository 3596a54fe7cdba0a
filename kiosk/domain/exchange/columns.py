"""The bundle's vocabulary, read by the writer (rows.py, bundle.py) and the reader (central.py)
alike: its files, its schema version, the columns of visits.csv/visits.json and events.csv, and
the kind of value each visit column holds.

A column added here is written by `visit_rows` and typed by the centre's import from this one
list; a kind changed here changes both sides.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kiosk.domain.journey import Stage
from kiosk.domain.medical import ADVERSE_EVENTS, DECISIONS, DONATION_OUTCOMES

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
VISITS_CSV = "visits.csv"
VISITS_JSON = "visits.json"
EVENTS_CSV = "events.csv"
VISITS_XLSX = "visits.xlsx"
FHIR_JSON = "fhir.json"
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


# The kind of each visit column, as visits.json holds it: "date" (YYYY-MM-DD), "time" (ISO 8601
# with its UTC offset), "whole" (an integer), "decimal" (a number), "flag" (true or false),
# "text"; a column of CHOICES is text from that list. Every column may be null.
DATES = ("campaign_date", "birth_date", "deferral_until")
TIMES = ("registered_at", "called_interview_at", "donation_started_at", "donation_ended_at")
WHOLE = ("queue_number", "age", "systolic", "diastolic", "pulse", "volume_ml", "wait_minutes")
DECIMAL = ("weight_kg", "hemoglobin_g_dl")
FLAGS = ("first_time",)
CHOICES: dict[str, Sequence[str]] = {
    "sex": ("F", "M"),
    "stage_final": tuple(Stage),
    "decision": DECISIONS,
    "donation_outcome": DONATION_OUTCOMES,
    "adverse_event": ADVERSE_EVENTS,
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


def schema_version_problem(version: Any, name: str) -> str | None:
    """Why a file's `schema_version` cannot be read by this Nabd, or None if it can."""
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return f"{name} has no valid schema_version"
    if version > SCHEMA_VERSION:
        return f"{name}: schema version {version} is newer than this Nabd reads ({SCHEMA_VERSION})"
    return None
