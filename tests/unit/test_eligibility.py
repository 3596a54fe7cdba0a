"""The rule tables at every boundary."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from kiosk.domain.eligibility import (
    THRESHOLD_BOUNDS,
    History,
    Measurements,
    Subject,
    check_threshold,
    deferral_end,
    evaluate,
    load_table,
    next_donation_date,
    parse_thresholds,
    verdict,
)
from kiosk.domain.questionnaire import Answer

DAY = date(2026, 11, 24)
MOROCCO = load_table("morocco")
WHO = load_table("who2012")


def person(sex="M", born=date(1990, 1, 1), **kwargs) -> Subject:
    return Subject(birth_date=born, sex=sex, day=DAY, **kwargs)


def outcome_of(code: str, subject: Subject, table=MOROCCO) -> str:
    found = {f.code: f for f in evaluate(subject, table)}
    return found[code].outcome


@pytest.mark.parametrize(
    ("table", "weight", "outcome"),
    [
        (MOROCCO, 50.0, "temporary"),  # more than 50 kg
        (MOROCCO, 50.1, "ok"),
        (WHO, 49.9, "temporary"),
        (WHO, 50.0, "ok"),  # at least 50 kg
    ],
)
def test_weight(table, weight, outcome):
    assert (
        outcome_of("weight", person(measurements=Measurements(weight_kg=weight)), table) == outcome
    )


@pytest.mark.parametrize(
    ("code", "value", "outcome"),
    [
        ("systolic", 160, "ok"),
        ("systolic", 161, "temporary"),
        ("diastolic", 100, "ok"),
        ("diastolic", 101, "temporary"),
    ],
)
def test_blood_pressure(code, value, outcome):
    assert outcome_of(code, person(measurements=Measurements(**{code: value}))) == outcome


@pytest.mark.parametrize(
    ("table", "sex", "hemoglobin", "outcome"),
    [
        (MOROCCO, "F", 12.4, "temporary"),
        (MOROCCO, "F", 12.5, "ok"),
        (MOROCCO, "M", 12.9, "temporary"),
        (MOROCCO, "M", 13.0, "ok"),
        (WHO, "F", 11.9, "temporary"),
        (WHO, "F", 12.0, "ok"),
    ],
)
def test_hemoglobin(table, sex, hemoglobin, outcome):
    subject = person(sex=sex, measurements=Measurements(hemoglobin_g_dl=hemoglobin))
    assert outcome_of("hemoglobin", subject, table) == outcome


REPEAT = History(donation_dates=(date(2025, 1, 10),))


@pytest.mark.parametrize(
    ("born", "history", "code", "outcome"),
    [
        (date(2008, 11, 25), History(), "age_min", "temporary"),  # 18 tomorrow
        (date(2008, 11, 24), History(), "age", "ok"),  # 18 today
        (date(1965, 11, 25), History(), "age", "ok"),  # 60
        (date(1965, 11, 24), History(), "age_max", "permanent"),  # 61, first time
        (date(1965, 11, 24), REPEAT, "age_max", "review"),  # 61, repeat donor: the doctor
        (date(1960, 11, 25), REPEAT, "age_max", "review"),  # 65, repeat donor
        (date(1960, 11, 24), REPEAT, "age_max", "permanent"),  # 66
    ],
)
def test_age(born, history, code, outcome):
    assert outcome_of(code, person(born=born, history=history)) == outcome


def test_too_young_may_come_back_on_the_18th_birthday():
    findings = evaluate(person(born=date(2009, 3, 1)), MOROCCO)
    assert deferral_end(findings) == date(2027, 3, 1)


@pytest.mark.parametrize(
    ("sex", "weeks_ago", "outcome"),
    [("M", 12, "ok"), ("M", 11, "temporary"), ("F", 16, "ok"), ("F", 15, "temporary")],
)
def test_interval_since_the_last_donation(sex, weeks_ago, outcome):
    last = DAY - timedelta(weeks=weeks_ago)
    subject = person(sex=sex, history=History(donation_dates=(last,)))
    assert outcome_of("interval", subject) == outcome


def test_the_interval_ends_on_the_day_the_donor_may_give_again():
    last = DAY - timedelta(weeks=12) + timedelta(days=1)
    findings = evaluate(person(history=History(donation_dates=(last,))), MOROCCO)
    assert deferral_end(findings) == DAY + timedelta(days=1)


def test_a_declared_last_donation_counts_too():
    answers = {"given_blood": Answer("yes", DAY - timedelta(weeks=4))}
    assert outcome_of("interval", person(answers=answers)) == "temporary"


@pytest.mark.parametrize(
    ("sex", "donations", "outcome"),
    [("F", 2, "ok"), ("F", 3, "temporary"), ("M", 4, "ok"), ("M", 5, "temporary")],
)
def test_donations_in_the_last_twelve_months(sex, donations, outcome):
    dates = tuple(DAY - timedelta(days=40 + 60 * n) for n in range(donations))
    finding = {f.code: f for f in evaluate(person(sex=sex, history=History(dates)), MOROCCO)}
    assert finding["donations_per_year"].outcome == outcome


def test_a_known_deferral_holds_until_its_end():
    running = History(deferred_until=DAY + timedelta(days=1), deferral_reason="low_hemoglobin")
    assert outcome_of("deferral", person(history=running)) == "temporary"
    ended = History(deferred_until=DAY, deferral_reason="low_hemoglobin")
    assert "deferral" not in {f.code for f in evaluate(person(history=ended), MOROCCO)}
    forever = History(deferred_permanently=True)
    assert outcome_of("deferral", person(history=forever)) == "permanent"


def test_questionnaire_answers_become_findings():
    tattoo = {"dental_hijama_tattoo_piercing": Answer("yes", date(2026, 9, 1))}
    finding = {f.code: f for f in evaluate(person(answers=tattoo), MOROCCO)}[
        "q_dental_hijama_tattoo_piercing"
    ]
    assert finding.outcome == "temporary"
    assert finding.until == date(2027, 3, 1)
    assert finding.reasons["donor_fr"] and finding.reasons["donor_ar"]


def test_findings_explain_themselves_in_both_languages():
    subject = person(measurements=Measurements(hemoglobin_g_dl=11.0))
    low = {f.code: f for f in evaluate(subject, MOROCCO)}["hemoglobin"]
    assert (low.value, low.limit) == (11.0, 13.0)
    assert "11" in low.reasons["doctor_fr"] and "13" in low.reasons["doctor_ar"]
    assert low.reasons["donor_fr"] and low.reasons["donor_ar"]
    assert low.source


def test_the_verdict_is_the_heaviest_outcome():
    assert verdict(evaluate(person(), MOROCCO)) == "ok"
    light = person(measurements=Measurements(weight_kg=45))
    assert verdict(evaluate(light, MOROCCO)) == "temporary"
    assert verdict([]) == "ok"


def test_next_donation_date_follows_the_interval():
    assert next_donation_date(DAY, "M", MOROCCO) == DAY + timedelta(weeks=12)
    assert next_donation_date(DAY, "F", MOROCCO) == DAY + timedelta(weeks=16)


def test_the_coordinator_adjusts_thresholds_within_bounds():
    adjusted = MOROCCO.adjusted(parse_thresholds('{"hemoglobin_min_f": 12.0, "nonsense": 1}'))
    subject = person(sex="F", measurements=Measurements(hemoglobin_g_dl=12.1))
    assert outcome_of("hemoglobin", subject, adjusted) == "ok"
    assert parse_thresholds("not json") == {}
    check_threshold("hemoglobin_min_f", 12.0)
    with pytest.raises(ValueError, match="between"):
        check_threshold("hemoglobin_min_f", 9.0)


def test_every_table_has_every_threshold_and_source():
    for table in (MOROCCO, WHO):
        assert set(THRESHOLD_BOUNDS) <= set(table.thresholds)
        assert {"age", "weight", "blood_pressure", "hemoglobin", "interval"} <= set(table.sources)
    with pytest.raises(ValueError):
        load_table("atlantis")
