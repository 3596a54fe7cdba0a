"""The day's figures from visit rows: empty day, one visit, medians, age bands and hours."""

from __future__ import annotations

import pytest

from kiosk.domain.exchange.columns import VISIT_COLUMNS
from kiosk.domain.exchange.figures import AGE_BANDS, SECTIONS, session_figures


def row(number: int = 1, registered: str = "09:31:00", **cells) -> dict:
    """A visit that registered and waits, with the given cells changed."""
    return {
        **dict.fromkeys(VISIT_COLUMNS),
        "queue_number": number,
        "registered_at": f"2026-11-24T{registered}+00:00",
        "sex": "F",
        "age": 36,
        "category": "citizen",
        "first_time": True,
        "stage_final": "waiting_interview",
        **cells,
    }


def donated(number: int, outcome: str = "complete", adverse: str = "none", **cells) -> dict:
    return row(
        number,
        decision="eligible",
        donation_outcome=outcome,
        adverse_event=adverse,
        wait_minutes=10,
        **cells,
    )


def deferred(number: int, reason: str | None, kind: str = "deferred_temporary", **cells) -> dict:
    return row(number, decision=kind, deferral_reason=reason, wait_minutes=5, **cells)


def test_an_empty_day_lists_every_known_value_with_zero():
    figures = session_figures([])
    assert list(figures) == list(SECTIONS)
    assert figures["visits"] == {"registered": 0, "interviewed": 0, "accepted": 0, "deferred": 0}
    assert figures["bags"] == {"complete": 0, "partial": 0, "failed_venipuncture": 0}
    assert list(figures["adverse_events"]) == [
        "vasovagal",
        "haematoma",
        "arterial_puncture",
        "nerve_injury",
        "thrombophlebitis",
        "allergy",
        "other",
    ]
    assert set(figures["deferred_by_reason"].values()) == {0}
    assert figures["sex"] == {"F": 0, "M": 0}
    assert list(figures["age_band"]) == list(AGE_BANDS)
    assert list(figures["declared_blood_group"]) == [
        "O+",
        "O-",
        "A+",
        "A-",
        "B+",
        "B-",
        "AB+",
        "AB-",
    ]
    assert figures["waiting"] == {"called": 0, "median_wait_minutes": None}
    assert figures["arrivals_per_hour"] == figures["median_wait_per_hour"] == {}


def test_one_visit_still_waiting():
    figures = session_figures([row(declared_blood_group=None)])
    assert figures["visits"] == {"registered": 1, "interviewed": 0, "accepted": 0, "deferred": 0}
    assert figures["donors"] == {"first_time": 1, "repeat": 0}
    assert figures["sex"] == {"F": 1, "M": 0}
    assert figures["age_band"]["35-44"] == 1
    assert figures["category"]["citizen"] == 1
    assert figures["declared_blood_group"]["unknown"] == 1
    assert figures["waiting"] == {"called": 0, "median_wait_minutes": None}
    assert figures["arrivals_per_hour"] == {"09:00": 1}
    assert figures["median_wait_per_hour"] == {"09:00": None}


def test_a_day_of_donations_and_deferrals():
    figures = session_figures(
        [
            donated(1, declared_blood_group="O+"),
            donated(2, "partial", "vasovagal", first_time=False, sex="M"),
            donated(3, "failed_venipuncture", "haematoma"),
            deferred(4, "blood_pressure"),
            deferred(5, "low_hemoglobin", "deferred_permanent"),
            deferred(6, "blood_pressure"),
            row(7),
        ]
    )
    assert figures["visits"] == {"registered": 7, "interviewed": 6, "accepted": 3, "deferred": 3}
    reasons = figures["deferred_by_reason"]
    assert reasons["blood_pressure"] == 2 and reasons["low_hemoglobin"] == 1
    assert sum(reasons.values()) == 3
    assert figures["bags"] == {"complete": 1, "partial": 1, "failed_venipuncture": 1}
    assert figures["adverse_events"]["vasovagal"] == figures["adverse_events"]["haematoma"] == 1
    assert sum(figures["adverse_events"].values()) == 2
    assert figures["donors"] == {"first_time": 6, "repeat": 1}
    assert figures["sex"] == {"F": 6, "M": 1}
    assert figures["declared_blood_group"]["O+"] == 1
    assert figures["declared_blood_group"]["unknown"] == 6


def test_values_outside_the_known_lists_are_counted_not_dropped():
    figures = session_figures([deferred(1, None), row(2, category="students")])
    assert figures["deferred_by_reason"]["unknown"] == 1
    assert list(figures["category"])[-1] == "students"
    assert figures["category"]["students"] == 1


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (17, "18-24"),  # cannot register; counted in the first band rather than lost
        (18, "18-24"),
        (24, "18-24"),
        (25, "25-34"),
        (34, "25-34"),
        (35, "35-44"),
        (54, "45-54"),
        (55, "55-64"),
        (64, "55-64"),
        (65, "65+"),
        (71, "65+"),
        (None, "unknown"),
    ],
)
def test_age_bands_at_their_edges(age, band):
    bands = session_figures([row(age=age)])["age_band"]
    assert bands[band] == 1 and sum(bands.values()) == 1


@pytest.mark.parametrize(
    ("waits", "expected"),
    [
        ([7], 7),
        ([9, 4], 6.5),  # even count: the middle of the two middle values
        ([4, 8], 6),  # …a whole number when the two add up to an even one
        ([30, 1, 12], 12),
        ([0, 0, 1, 100], 0.5),
    ],
)
def test_the_median_wait(waits, expected):
    rows = [row(number, wait_minutes=wait) for number, wait in enumerate(waits, 1)]
    rows.append(row(len(waits) + 1))  # never called: no wait to count
    figures = session_figures(rows)
    assert figures["waiting"] == {"called": len(waits), "median_wait_minutes": expected}
    assert figures["median_wait_per_hour"] == {"09:00": expected}
    assert type(figures["waiting"]["median_wait_minutes"]) is type(expected)


def test_hours_from_the_first_arrival_to_the_last_with_the_empty_ones():
    figures = session_figures(
        [
            row(1, "08:00:00", wait_minutes=20),
            row(2, "08:59:59", wait_minutes=31),
            row(3, "09:00:00", wait_minutes=3),
            row(4, "11:30:00"),
            row(5, "11:59:00", wait_minutes=1),
        ]
    )
    assert figures["arrivals_per_hour"] == {"08:00": 2, "09:00": 1, "10:00": 0, "11:00": 2}
    assert figures["median_wait_per_hour"] == {
        "08:00": 25.5,
        "09:00": 3,
        "10:00": None,
        "11:00": 1,
    }


def test_hours_are_read_at_the_offset_the_rows_carry():
    """The export writes venue time: 10:15+01:00 is ten o'clock at the venue, not nine."""
    figures = session_figures([{**row(), "registered_at": "2026-11-24T10:15:00+01:00"}])
    assert figures["arrivals_per_hour"] == {"10:00": 1}
