"""The figures of a campaign day: one function, from the visit rows the export writes.

The report page, the XLSX summary and the manifest all call `session_figures` on the same rows,
so they cannot disagree. The figures are plain JSON: sections of name → number, in a fixed order,
every known value listed (with 0) so that two days compare line by line.

Hours are the venue's: the rows carry their times with the venue's UTC offset, and an hour is read
from that. A wait counts for the hour its donor registered in.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from statistics import median

from kiosk.domain.exchange.donor_list import BLOOD_GROUPS
from kiosk.domain.medical import ADVERSE_EVENTS, DEFERRAL_REASONS, DONATION_OUTCOMES
from kiosk.domain.validation import CATEGORIES, SEXES

Number = int | float
Section = dict[str, Number | None]
Figures = dict[str, Section]

UNKNOWN = "unknown"  # a value the row leaves empty
NO_ADVERSE_EVENT = "none"
# Age bands by their first year; an age below the first band's start (not registrable) counts in it.
AGE_BAND_STARTS = (18, 25, 35, 45, 55, 65)
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")

SECTIONS = (
    "visits",
    "deferred_by_reason",
    "bags",
    "adverse_events",
    "donors",
    "sex",
    "age_band",
    "category",
    "declared_blood_group",
    "waiting",
    "arrivals_per_hour",
    "median_wait_per_hour",
)


def session_figures(visits: Sequence[Mapping[str, object]]) -> Figures:
    """Every figure of the day's report, from rows with the columns of `visits.csv`."""
    screened = [row for row in visits if row["decision"]]
    deferred = [row for row in screened if str(row["decision"]).startswith("deferred")]
    donations = [row for row in visits if row["donation_outcome"]]
    first_time = sum(1 for row in visits if row["first_time"])
    waits = [row["wait_minutes"] for row in visits if row["wait_minutes"] is not None]
    hours = _by_hour(visits)
    return {
        "visits": {
            "registered": len(visits),
            "interviewed": len(screened),
            "accepted": sum(1 for row in screened if row["decision"] == "eligible"),
            "deferred": len(deferred),
        },
        "deferred_by_reason": _tally(deferred, "deferral_reason", DEFERRAL_REASONS),
        "bags": _tally(donations, "donation_outcome", DONATION_OUTCOMES),
        "adverse_events": _tally(
            [row for row in donations if row["adverse_event"] != NO_ADVERSE_EVENT],
            "adverse_event",
            [event for event in ADVERSE_EVENTS if event != NO_ADVERSE_EVENT],
        ),
        "donors": {"first_time": first_time, "repeat": len(visits) - first_time},
        "sex": _tally(visits, "sex", SEXES),
        "age_band": _count(map(_age_band, (row["age"] for row in visits)), AGE_BANDS),
        "category": _tally(visits, "category", CATEGORIES),
        "declared_blood_group": _tally(visits, "declared_blood_group", BLOOD_GROUPS),
        "waiting": {"called": len(waits), "median_wait_minutes": _median(waits)},
        "arrivals_per_hour": {hour: len(rows) for hour, rows in hours.items()},
        "median_wait_per_hour": {
            hour: _median([row["wait_minutes"] for row in rows if row["wait_minutes"] is not None])
            for hour, rows in hours.items()
        },
    }


def _tally(rows: Iterable[Mapping[str, object]], column: str, known: Iterable[str]) -> Section:
    return _count((row[column] for row in rows), known)


def _count(values: Iterable[object], known: Iterable[str]) -> Section:
    """Every known value (0 if absent), then any other in sorted order, then `unknown` if any."""
    counts = Counter(UNKNOWN if value is None else str(value) for value in values)
    section: Section = {value: counts[value] for value in known}
    others = sorted(value for value in counts if value not in section and value != UNKNOWN)
    section.update((value, counts[value]) for value in others)
    if counts[UNKNOWN]:
        section[UNKNOWN] = counts[UNKNOWN]
    return section


def _age_band(age: object) -> str | None:
    if not isinstance(age, int):
        return None
    return AGE_BANDS[max(0, bisect_right(AGE_BAND_STARTS, age) - 1)]


def _median(values: Sequence) -> Number | None:
    """None for no value; a whole number stays whole, the middle of two may be a half."""
    if not values:
        return None
    middle = median(values)
    return int(middle) if middle == int(middle) else middle


def _by_hour(visits: Iterable[Mapping[str, object]]) -> dict[str, list[Mapping[str, object]]]:
    """The rows by hour of registration, every hour from the first to the last (empty ones too)."""
    rows_by_hour: dict[int, list[Mapping[str, object]]] = {}
    for row in visits:
        hour = datetime.fromisoformat(str(row["registered_at"])).hour
        rows_by_hour.setdefault(hour, []).append(row)
    if not rows_by_hour:
        return {}
    hours = range(min(rows_by_hour), max(rows_by_hour) + 1)
    return {f"{hour:02d}:00": rows_by_hour.get(hour, []) for hour in hours}
