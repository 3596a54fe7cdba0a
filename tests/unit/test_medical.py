"""The screening and donation forms at their boundaries (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kiosk.domain.medical import clean_donation, clean_measurements, clean_screening

DAY = date(2026, 11, 24)
ZONE = ZoneInfo("UTC")
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
GOOD = {
    "weight_kg": "68,5",
    "systolic": "120",
    "diastolic": "80",
    "pulse": "70",
    "hemoglobin_g_dl": "13.2",
}


def always(verdict):
    return lambda measurements: verdict


@pytest.mark.parametrize(
    ("name", "raw", "code"),
    [
        ("weight_kg", "29.9", "out_of_range"),
        ("weight_kg", "250.1", "out_of_range"),
        ("systolic", "261", "out_of_range"),
        ("systolic", "120.5", "number_invalid"),  # a whole number
        ("hemoglobin_g_dl", "4.9", "out_of_range"),
        ("pulse", "", "required"),
        ("temperature_c", "45", "out_of_range"),
    ],
)
def test_implausible_measurements_are_refused(name, raw, code):
    _, errors = clean_measurements({**GOOD, name: raw})
    assert errors[name].code == code


def test_measurements_accept_a_decimal_comma_and_an_absent_temperature():
    measurements, errors = clean_measurements(GOOD)
    assert errors == {}
    assert measurements.weight_kg == 68.5 and measurements.temperature_c is None


def test_a_decision_with_the_rules_needs_no_note():
    form, errors = clean_screening({**GOOD, "decision": "eligible"}, always("ok"), DAY)
    assert errors == {} and form.decision == "eligible"


@pytest.mark.parametrize(
    ("decision", "verdict"),
    [("eligible", "temporary"), ("eligible", "review"), ("deferred_permanent", "ok")],
)
def test_a_decision_against_the_rules_needs_a_note(decision, verdict):
    data = {**GOOD, "decision": decision, "deferral_reason": "other"}
    _, errors = clean_screening(data, always(verdict), DAY)
    assert errors["note"].code == "note_required"
    form, errors = clean_screening({**data, "note": "seen the card"}, always(verdict), DAY)
    assert errors == {}


@pytest.mark.parametrize(
    ("until", "code"),
    [("", "date_required"), ("2026-11-24", "date_not_future"), ("2030-01-01", "date_too_far")],
)
def test_a_temporary_deferral_ends_after_today_within_three_years(until, code):
    data = {
        **GOOD,
        "decision": "deferred_temporary",
        "deferral_reason": "other",
        "deferral_until": until,
        "note": "n",
    }
    _, errors = clean_screening(data, always("ok"), DAY)
    assert errors["deferral_until"].code == code


def test_a_deferral_needs_a_reason_from_the_list():
    data = {**GOOD, "decision": "deferred_permanent", "deferral_reason": "bad luck", "note": "n"}
    _, errors = clean_screening(data, always("ok"), DAY)
    assert errors["deferral_reason"].code == "choice_invalid"


DONATION = {
    "bag_number": " g123498654321 ",
    "bag_type": "triple",
    "volume_ml": "450",
    "started_at": "10:00",
    "ended_at": "10:12",
    "outcome": "complete",
    "adverse_event": "none",
}


def test_a_donation_form_is_cleaned():
    form, errors = clean_donation(DONATION, "any", DAY, ZONE, NOW)
    assert errors == {}
    assert form.bag_number == "G123498654321"
    assert form.ended_at - form.started_at == timedelta(minutes=12)


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"volume_ml": "49"}, "volume_ml", "out_of_range"),
        ({"volume_ml": "601"}, "volume_ml", "out_of_range"),
        ({"ended_at": "09:59"}, "ended_at", "ends_before_start"),
        ({"started_at": "12:10"}, "started_at", "time_future"),
        ({"started_at": "10h"}, "started_at", "time_invalid"),
        ({"adverse_event": "allergy"}, "adverse_severity", "choice_invalid"),
        ({"bag_number": "G123498654321 00 A"}, "bag_number", "din_check"),
    ],
)
def test_bad_donation_forms_name_the_field(changes, field, code):
    policy = "isbt128" if field == "bag_number" else "any"
    _, errors = clean_donation({**DONATION, **changes}, policy, DAY, ZONE, NOW)
    assert errors[field].code == code
