"""The pre-donation questionnaire: questions as data, the answers cleaned, and what they imply.

The questions live in kiosk/rules/questionnaire.toml (see its header for the keys). A question is
answered "yes" or "no"; a "yes_no_date" question also asks a date when the answer is "yes". The
form fields are `q_<code>` and `q_<code>_date`, the date typed in three boxes (`q_<code>_day`,
`q_<code>_month`, `q_<code>_year`) or given as YYYY-MM-DD.

An answer other than the expected one gives a finding: a temporary deferral, a permanent one, or a
review by the doctor, who always decides. A temporary deferral's `until` is the first day the donor
may give again: the finding applies while today < until, and is left out from that day on. A
temporary deferral without a duration (pregnancy, breast-feeding) has no `until`: the doctor sets
it.
"""

from __future__ import annotations

import calendar
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from kiosk.domain.validation import QUESTION_PREFIX, SEXES, Invalid, date_text, read_date

QUESTIONS_FILE = Path(__file__).resolve().parent.parent / "rules" / "questionnaire.toml"
LAST_DONATION_CODE = "given_blood"
ANSWERS = ("yes", "no")
ANSWER_TYPES = ("yes_no", "yes_no_date")
EXPECTED_ANSWERS = ("yes", "no", "any")
OUTCOMES = ("temporary", "permanent", "review", "none")
DURATION_UNITS = ("days", "weeks", "months")
COUNTED_FROM = ("date", "today")
EARLIEST_DATE = date(1900, 1, 1)
DATE_SUFFIX = "_date"

_CODE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
_QUESTION_REQUIRED = {"code", "text_fr", "text_ar", "answer", "expected", "if_unexpected"}
_QUESTION_OPTIONAL = {
    "only_for",
    "text_zgh",
    "pictogram",
    *{f"date_label_{x}" for x in ("fr", "ar", "zgh")},
}
_DATE_LABELS = {"date_label_fr", "date_label_ar"}
# The languages a question is written in: French and Arabic always, Tamazight (Tifinagh) where
# given (the shipped questionnaire has it for every question: tests/unit/test_zgh_catalogue.py).
TEXT_LANGUAGES = ("fr", "ar", "zgh")
# A pictogram is static/pictograms/<name>.svg.
_PICTOGRAM = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
_REASON_KEYS = {
    "reason_fr": "donor_fr",
    "reason_ar": "donor_ar",
    "reason_doctor_fr": "doctor_fr",
    "reason_doctor_ar": "doctor_ar",
}
_CONSEQUENCE_KEYS = {"outcome", "source", "from", *DURATION_UNITS, *_REASON_KEYS}


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: str  # days | weeks | months
    counted_from: str  # "date": the date the donor gave; "today"

    def end(self, start: date) -> date:
        if self.unit == "months":
            return add_months(start, self.amount)
        return start + timedelta(**{self.unit: self.amount})


@dataclass(frozen=True)
class Consequence:
    """What the unexpected answer implies."""

    outcome: str  # temporary | permanent | review | none
    duration: Duration | None
    source: str
    reasons: dict[str, str]  # donor_fr, donor_ar, doctor_fr, doctor_ar (empty for "none")


@dataclass(frozen=True)
class Question:
    code: str
    text_fr: str
    text_ar: str
    answer: str  # yes_no | yes_no_date
    expected: str  # yes | no | any
    if_unexpected: Consequence
    only_for: str | None = None  # "F": asked of women only
    date_label_fr: str = ""
    date_label_ar: str = ""
    text_zgh: str = ""
    date_label_zgh: str = ""
    pictogram: str = ""  # static/pictograms/<pictogram>.svg, drawn beside the question

    def text_in(self, language: str) -> str:
        """The question in `language` ("ar", "fr", "zgh"); French where it has no such text."""
        return getattr(self, f"text_{language}", "") or self.text_fr

    def date_label_in(self, language: str) -> str:
        return getattr(self, f"date_label_{language}", "") or self.date_label_fr

    @property
    def asks_date(self) -> bool:
        return self.answer == "yes_no_date"

    @property
    def field_name(self) -> str:
        return QUESTION_PREFIX + self.code

    @property
    def date_field_name(self) -> str:
        return self.field_name + DATE_SUFFIX

    def is_asked_of(self, sex: str | None) -> bool:
        known_sex = (sex or "").strip().upper()
        return self.only_for is None or known_sex not in SEXES or known_sex == self.only_for

    def raises_something(self, given: str) -> bool:
        unexpected = self.expected != "any" and given != self.expected
        return unexpected and self.if_unexpected.outcome != "none"


@dataclass(frozen=True)
class Answer:
    answer: str  # yes | no
    date: date | None = None


@dataclass(frozen=True)
class QuestionFinding:
    code: str  # the question's code
    outcome: str  # temporary | permanent | review
    until: date | None  # temporary: the first day the donor may give again (None: doctor sets it)
    source: str
    reasons: dict[str, str]  # donor_fr, donor_ar, doctor_fr, doctor_ar

    def applies_on(self, day: date) -> bool:
        return self.until is None or day < self.until


def add_months(day: date, months: int) -> date:
    """Calendar months; the day is clamped at the month's end (31 August + 6 → 28/29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- the question set ---------------------------------------------------------------------------


@lru_cache(maxsize=4)
def load_questions(path: Path = QUESTIONS_FILE) -> tuple[Question, ...]:
    """The question set, in its order; ValueError naming the question if the file is not right."""
    path = Path(path)
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    unknown = set(data) - {"question"}
    if unknown:
        raise ValueError(f"{path.name}: unknown keys {sorted(unknown)}")
    raw_questions = data.get("question")
    if not isinstance(raw_questions, list) or not raw_questions:
        raise ValueError(f"{path.name}: no [[question]]")
    questions = tuple(
        _question_from(raw, f"{path.name}, question {_label(raw, number)}")
        for number, raw in enumerate(raw_questions, start=1)
    )
    _check_unique_codes(questions, path.name)
    return questions


def questions_for(sex: str | None) -> tuple[Question, ...]:
    """The questions asked of a donor: women-only ones for "F", and for everyone if sex unknown."""
    return tuple(question for question in load_questions() if question.is_asked_of(sex))


def _label(raw: Any, number: int) -> str:
    code = raw.get("code") if isinstance(raw, dict) else None
    return repr(code) if isinstance(code, str) else f"#{number}"


def _question_from(raw: Any, where: str) -> Question:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: not a table")
    _check_keys(raw, _QUESTION_REQUIRED, _QUESTION_REQUIRED | _QUESTION_OPTIONAL, where)
    texts = {key: _text(raw, key, where) for key in ("code", "text_fr", "text_ar")}
    if not _CODE.fullmatch(texts["code"]):
        raise ValueError(f"{where}: code must be snake_case")
    answer = _choice(raw, "answer", ANSWER_TYPES, where)
    expected = _choice(raw, "expected", EXPECTED_ANSWERS, where)
    only_for = _choice(raw, "only_for", SEXES, where) if "only_for" in raw else None
    labels = _date_labels(raw, answer, where)
    optional = {key: _text(raw, key, where) for key in ("text_zgh", "pictogram") if key in raw}
    if "pictogram" in optional and not _PICTOGRAM.fullmatch(optional["pictogram"]):
        raise ValueError(f"{where}: pictogram must be a file name in lower case, with hyphens")
    consequence = _consequence_from(raw["if_unexpected"], answer, where + ", if_unexpected")
    if (expected == "any") != (consequence.outcome == "none"):
        raise ValueError(f'{where}: expected "any" goes with outcome "none", and only with it')
    return Question(
        **texts,
        answer=answer,
        expected=expected,
        if_unexpected=consequence,
        only_for=only_for,
        **labels,
        **optional,
    )


def _date_labels(raw: dict[str, Any], answer: str, where: str) -> dict[str, str]:
    if answer == "yes_no_date":
        labels = {key: _text(raw, key, where) for key in sorted(_DATE_LABELS)}
        if "date_label_zgh" in raw:
            labels["date_label_zgh"] = _text(raw, "date_label_zgh", where)
        return labels
    if (_DATE_LABELS | {"date_label_zgh"}) & set(raw):
        raise ValueError(f'{where}: date labels only go with answer "yes_no_date"')
    return {}


def _consequence_from(raw: Any, answer: str, where: str) -> Consequence:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: not a table")
    outcome = _choice(raw, "outcome", OUTCOMES, where)
    required = {"outcome", "source"} | (set() if outcome == "none" else set(_REASON_KEYS))
    _check_keys(raw, required, _CONSEQUENCE_KEYS, where)
    reasons = {name: _text(raw, key, where) for key, name in _REASON_KEYS.items() if key in raw}
    duration = _duration_from(raw, outcome, answer, where)
    return Consequence(outcome, duration, _text(raw, "source", where), reasons)


def _duration_from(raw: dict[str, Any], outcome: str, answer: str, where: str) -> Duration | None:
    units = [unit for unit in DURATION_UNITS if unit in raw]
    if outcome != "temporary" and (units or "from" in raw):
        raise ValueError(f'{where}: a duration only goes with outcome "temporary"')
    if not units:
        if "from" in raw:
            raise ValueError(f"{where}: 'from' without a duration")
        return None
    if len(units) > 1:
        raise ValueError(f"{where}: one duration only (days, weeks or months)")
    amount = raw[units[0]]
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValueError(f"{where}: {units[0]} must be a positive whole number")
    counted_from = _choice(raw, "from", COUNTED_FROM, where)
    if counted_from == "date" and answer != "yes_no_date":
        raise ValueError(f'{where}: from = "date" needs answer "yes_no_date"')
    return Duration(amount, units[0], counted_from)


def _check_keys(raw: dict[str, Any], required: set[str], allowed: set[str], where: str) -> None:
    unknown = set(raw) - allowed
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    missing = required - set(raw)
    if missing:
        raise ValueError(f"{where}: missing keys {sorted(missing)}")


def _text(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: {key} must be a non-empty text")
    return value


def _choice(raw: dict[str, Any], key: str, choices: tuple[str, ...], where: str) -> str:
    value = raw.get(key)
    if value not in choices:
        raise ValueError(f"{where}: {key} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _check_unique_codes(questions: tuple[Question, ...], file_name: str) -> None:
    seen: set[str] = set()
    for question in questions:
        if question.code in seen:
            raise ValueError(f"{file_name}, question {question.code!r}: code used twice")
        seen.add(question.code)


# --- the donor's answers ------------------------------------------------------------------------


class _FieldProblem(Exception):
    def __init__(self, field: str, code: str) -> None:
        super().__init__(code)
        self.field = field
        self.code = code


def clean_answers(
    form: Mapping[str, str], sex: str | None, today: date
) -> tuple[dict[str, Answer], dict[str, str]]:
    """The answers to the questions asked of this donor, and errors (field name → error code:
    required, date_required, date_invalid, date_future). Other fields are ignored."""
    answers: dict[str, Answer] = {}
    errors: dict[str, str] = {}
    for question in questions_for(sex):
        try:
            answers[question.code] = _clean_answer(question, form, today)
        except _FieldProblem as problem:
            errors[problem.field] = problem.code
    return answers, errors


def _clean_answer(question: Question, form: Mapping[str, str], today: date) -> Answer:
    given = (form.get(question.field_name) or "").strip().lower()
    if given not in ANSWERS:
        raise _FieldProblem(question.field_name, "required")
    if given == "no" or not question.asks_date:
        return Answer(given)
    try:
        return Answer(given, clean_answer_date(date_text(form, question.date_field_name), today))
    except Invalid as invalid:
        raise _FieldProblem(question.date_field_name, invalid.code) from None


def clean_answer_date(raw: str, today: date) -> date:
    """A date the donor gives with a "yes" (as `read_date` reads it), not ahead of today."""
    day = read_date(raw)
    if day is None:
        raise Invalid("date_required")
    if day < EARLIEST_DATE:
        raise Invalid("date_invalid")
    if day > today:
        raise Invalid("date_future")
    return day


def answers_to_json(answers: Mapping[str, Answer]) -> str:
    """As stored with the visit: {"vaccine": {"answer": "yes", "date": "2026-11-01"}, …}."""
    stored = {
        code: {"answer": answer.answer, "date": answer.date.isoformat() if answer.date else None}
        for code, answer in answers.items()
    }
    return json.dumps(stored, ensure_ascii=False)


def answers_from_json(text: str) -> dict[str, Answer]:
    """The stored answers; what cannot be read is left out (a record page must still open)."""
    try:
        stored = json.loads(text or "{}")
    except ValueError:
        return {}
    if not isinstance(stored, dict):
        return {}
    answers = {code: _stored_answer(entry) for code, entry in stored.items()}
    return {code: answer for code, answer in answers.items() if answer is not None}


def _stored_answer(entry: Any) -> Answer | None:
    if not isinstance(entry, dict) or entry.get("answer") not in ANSWERS:
        return None
    try:
        day = date.fromisoformat(entry["date"]) if entry.get("date") else None
    except (TypeError, ValueError):
        day = None
    return Answer(entry["answer"], day)


# --- what the answers imply ---------------------------------------------------------------------


def implied_findings(
    answers: Mapping[str, Answer], sex: str | None, today: date
) -> list[QuestionFinding]:
    """A finding per unexpected answer that still applies today, in the questions' order."""
    findings = []
    for question in questions_for(sex):
        answer = answers.get(question.code)
        if answer is None or not question.raises_something(answer.answer):
            continue
        finding = _finding(question, answer, today)
        if finding.applies_on(today):
            findings.append(finding)
    return findings


def _finding(question: Question, answer: Answer, today: date) -> QuestionFinding:
    consequence = question.if_unexpected
    return QuestionFinding(
        code=question.code,
        outcome=consequence.outcome,
        until=_deferral_end(consequence.duration, answer, today),
        source=consequence.source,
        reasons=dict(consequence.reasons),
    )


def _deferral_end(duration: Duration | None, answer: Answer, today: date) -> date | None:
    if duration is None:
        return None
    # A stored answer without its date counts from today: the longer, safer deferral.
    counts_from_answer = duration.counted_from == "date" and answer.date is not None
    return duration.end(answer.date if counts_from_answer else today)


def last_donation_date(answers: Mapping[str, Answer]) -> date | None:
    """The date of the last donation the donor declared, if any."""
    answer = answers.get(LAST_DONATION_CODE)
    return answer.date if answer is not None and answer.answer == "yes" else None
