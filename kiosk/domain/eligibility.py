"""Eligibility rules as data: a visit against a rule table gives findings that explain themselves.

The software suggests and explains; the doctor decides. Each finding carries its rule code, an
outcome, the value and the limit, the date a temporary deferral ends (the first day the donor may
give again), the source of the rule, and reasons for the donor and the doctor in French and Arabic.
Tables live in kiosk/rules/<name>.toml; a campaign picks one and may adjust its thresholds.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from kiosk.domain.questionnaire import Answer, implied_findings, last_donation_date
from kiosk.domain.validation import age_on

RULES_FOLDER = Path(__file__).resolve().parent.parent / "rules"
TABLES = ("morocco", "who2012")
OUTCOMES = ("ok", "review", "temporary", "permanent")  # from lightest to heaviest

# What a coordinator may set each threshold to: values outside are refused, not clamped.
THRESHOLD_BOUNDS: dict[str, tuple[float, float]] = {
    "age_min": (16, 21),
    "age_max": (55, 70),
    "age_max_repeat": (55, 70),
    "weight_min_kg": (40, 60),
    "systolic_max": (140, 180),
    "diastolic_max": (85, 110),
    "hemoglobin_min_f": (11.0, 14.0),
    "hemoglobin_min_m": (12.0, 15.0),
    "donations_per_year_f": (1, 6),
    "donations_per_year_m": (1, 6),
    "interval_weeks_f": (8, 26),
    "interval_weeks_m": (8, 26),
}


@dataclass(frozen=True)
class RuleTable:
    name: str
    title: dict[str, str]
    thresholds: dict[str, float]
    sources: dict[str, str]

    def adjusted(self, overrides: Mapping[str, float]) -> RuleTable:
        return RuleTable(self.name, self.title, {**self.thresholds, **overrides}, self.sources)


@dataclass(frozen=True)
class Measurements:
    weight_kg: float | None = None
    systolic: int | None = None
    diastolic: int | None = None
    pulse: int | None = None
    hemoglobin_g_dl: float | None = None
    temperature_c: float | None = None


@dataclass(frozen=True)
class History:
    """What is known of the donor before today: donations (dates) and deferrals."""

    donation_dates: tuple[date, ...] = ()
    deferred_until: date | None = None
    deferred_permanently: bool = False
    deferral_reason: str | None = None

    @property
    def repeat_donor(self) -> bool:
        return bool(self.donation_dates)


@dataclass(frozen=True)
class Subject:
    birth_date: date
    sex: str
    day: date  # the campaign day
    answers: Mapping[str, Answer] = field(default_factory=dict)
    measurements: Measurements = field(default_factory=Measurements)
    history: History = field(default_factory=History)


@dataclass(frozen=True)
class Finding:
    code: str
    outcome: str
    value: object = None
    limit: object = None
    until: date | None = None
    source: str = ""
    reasons: dict[str, str] = field(default_factory=dict)  # donor_fr, donor_ar, doctor_fr, …

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "outcome": self.outcome,
            "value": self.value,
            "limit": self.limit,
            "until": self.until.isoformat() if self.until else None,
            "source": self.source,
            "reasons": self.reasons,
        }


@lru_cache(maxsize=8)
def load_table(name: str) -> RuleTable:
    if name not in TABLES:
        raise ValueError(f"unknown rule table {name!r} (one of: {', '.join(TABLES)})")
    with (RULES_FOLDER / f"{name}.toml").open("rb") as handle:
        data = tomllib.load(handle)
    title = {"fr": data["title_fr"], "ar": data["title_ar"]}
    return RuleTable(data["name"], title, dict(data["thresholds"]), dict(data["sources"]))


@lru_cache(maxsize=1)
def _reasons() -> dict[str, dict[str, str]]:
    with (RULES_FOLDER / "reasons.toml").open("rb") as handle:
        return tomllib.load(handle)


def parse_thresholds(text: str) -> dict[str, float]:
    """The campaign's stored adjustments; anything unreadable counts as none."""
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return {k: float(v) for k, v in data.items() if k in THRESHOLD_BOUNDS and _is_number(v)}


def check_threshold(name: str, value: float) -> None:
    low, high = THRESHOLD_BOUNDS[name]
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low:g} and {high:g}")


def evaluate(subject: Subject, table: RuleTable) -> list[Finding]:
    """Every rule of the table, in a stable order; measurements not yet taken are skipped."""
    limits = table.thresholds
    findings = [
        _age(subject, limits, table.sources["age"]),
        *_measured(subject, limits, table.sources),
        _donations_per_year(subject, limits, table.sources["donations_per_year"]),
        _interval(subject, limits, table.sources["interval"]),
        _known_deferral(subject, table.sources["deferral"]),
        *_from_questionnaire(subject),
    ]
    return [finding for finding in findings if finding is not None]


def verdict(findings: list[Finding]) -> str:
    """The heaviest outcome among the findings."""
    return max((f.outcome for f in findings), key=OUTCOMES.index, default="ok")


def deferral_end(findings: list[Finding]) -> date | None:
    """The last end date of the temporary findings: when the donor may come back."""
    ends = [f.until for f in findings if f.outcome == "temporary" and f.until]
    return max(ends, default=None)


def next_donation_date(day: date, sex: str, table: RuleTable) -> date:
    """After a donation today: the first day the interval rule allows the next one."""
    return day + timedelta(weeks=int(table.thresholds[f"interval_weeks_{_sex_key(sex)}"]))


# --- the rules ----------------------------------------------------------------------------------


def _finding(code, outcome, value=None, limit=None, until=None, source="", reason=None):
    reasons = {
        key: text.format(value=_shown(value), limit=_shown(limit))
        for key, text in _reasons().get(reason or code, {}).items()
    }
    return Finding(code, outcome, value, limit, until, source, reasons if outcome != "ok" else {})


def _age(subject: Subject, limits, source) -> Finding:
    age = age_on(subject.birth_date, subject.day)
    if age < limits["age_min"]:
        coming_of_age = _add_years(subject.birth_date, int(limits["age_min"]))
        return _finding("age_min", "temporary", age, int(limits["age_min"]), coming_of_age, source)
    if age > limits["age_max"]:
        repeat_allowed = subject.history.repeat_donor and age <= limits["age_max_repeat"]
        outcome = "review" if repeat_allowed else "permanent"
        return _finding("age_max", outcome, age, int(limits["age_max"]), None, source)
    return _finding("age", "ok", age, f"{limits['age_min']:g}–{limits['age_max']:g}", None, source)


def _measured(subject: Subject, limits, sources) -> list[Finding]:
    measured = subject.measurements
    sex = _sex_key(subject.sex)
    found = []
    if measured.weight_kg is not None:
        limit = limits["weight_min_kg"]
        light = (
            measured.weight_kg < limit
            if limits["weight_inclusive"]
            else (measured.weight_kg <= limit)
        )
        found.append(_measure("weight", light, measured.weight_kg, limit, sources["weight"]))
    for name in ("systolic", "diastolic"):
        value = getattr(measured, name)
        if value is not None:
            limit = int(limits[f"{name}_max"])
            found.append(_measure(name, value > limit, value, limit, sources["blood_pressure"]))
    if measured.hemoglobin_g_dl is not None:
        limit = limits[f"hemoglobin_min_{sex}"]
        low = measured.hemoglobin_g_dl < limit
        found.append(
            _measure("hemoglobin", low, measured.hemoglobin_g_dl, limit, sources["hemoglobin"])
        )
    return found


def _measure(code: str, failed: bool, value, limit, source) -> Finding:
    # A measurement out of range defers for today; the doctor sets the date.
    return _finding(code, "temporary" if failed else "ok", value, limit, None, source)


def _donations_per_year(subject: Subject, limits, source) -> Finding:
    year_ago = _add_years(subject.day, -1)
    within = sorted(d for d in _donation_dates(subject) if year_ago < d <= subject.day)
    limit = int(limits[f"donations_per_year_{_sex_key(subject.sex)}"])
    if len(within) >= limit:
        until = _add_years(within[len(within) - limit], 1) + timedelta(days=1)
        return _finding("donations_per_year", "temporary", len(within), limit, until, source)
    return _finding("donations_per_year", "ok", len(within), limit, None, source)


def _interval(subject: Subject, limits, source) -> Finding | None:
    dates = _donation_dates(subject)
    if not dates:
        return None
    last = max(dates)
    weeks = int(limits[f"interval_weeks_{_sex_key(subject.sex)}"])
    until = last + timedelta(weeks=weeks)
    elapsed = (subject.day - last).days // 7
    outcome = "temporary" if subject.day < until else "ok"
    return _finding("interval", outcome, elapsed, weeks, until if outcome != "ok" else None, source)


def _known_deferral(subject: Subject, source) -> Finding | None:
    history = subject.history
    reason = history.deferral_reason or "—"
    if history.deferred_permanently:
        return _finding("deferral", "permanent", reason, None, None, source, "deferral_permanent")
    if history.deferred_until and subject.day < history.deferred_until:
        return _finding(
            "deferral",
            "temporary",
            reason,
            None,
            history.deferred_until,
            source,
            "deferral_temporary",
        )
    return None


def _from_questionnaire(subject: Subject) -> list[Finding]:
    return [
        Finding(
            f"q_{found.code}",
            found.outcome,
            "yes" if found.outcome else None,
            None,
            found.until,
            found.source,
            dict(found.reasons),
        )
        for found in implied_findings(subject.answers, subject.sex, subject.day)
    ]


def _donation_dates(subject: Subject) -> list[date]:
    dates = list(subject.history.donation_dates)
    declared = last_donation_date(subject.answers)
    if declared is not None and declared not in dates:
        dates.append(declared)
    return [d for d in dates if d <= subject.day]


def _sex_key(sex: str) -> str:
    return "f" if sex == "F" else "m"


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year + years, day=28)


def _shown(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return "" if value is None else str(value)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
