"""The pre-donation questionnaire: the question file, the answers, and what they imply.

A temporary deferral's `until` is the first day the donor may give again: the finding applies on
the day before `until` and no longer on `until` itself.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from kiosk.domain import questionnaire
from kiosk.domain.questionnaire import (
    Answer,
    Duration,
    add_months,
    answers_from_json,
    answers_to_json,
    clean_answers,
    implied_findings,
    last_donation_date,
    load_questions,
    questions_for,
)

TODAY = date(2026, 11, 24)
ARABIC_LETTERS = re.compile(r"[\u0600-\u06FF]")
WOMEN_ONLY = {"pregnant", "gave_birth", "breastfeeding"}
REQUIRED_TOPICS = {
    "feeling_well",
    "fever_or_infection",
    "medicines",
    "vaccine",
    "surgery",
    "dental_hijama_tattoo_piercing",
    "transfused",
    "chronic_illness",
    *WOMEN_ONLY,
    "malaria_area",
    "given_blood",
    "hiv_or_hepatitis_positive",
    "injected_drugs",
    "new_sexual_partners",
}


def harmless_form(sex: str | None = "F") -> dict[str, str]:
    """Every question asked of this donor answered the way that raises nothing."""
    return {
        question.field_name: "no" if question.expected == "any" else question.expected
        for question in questions_for(sex)
    }


def findings_for(code: str, answer: str, given: date | None, today: date, sex: str = "F"):
    return implied_findings({code: Answer(answer, given)}, sex, today)


# --- the question file --------------------------------------------------------------------------


def test_the_file_covers_the_required_topics():
    codes = [question.code for question in load_questions()]
    assert set(codes) == REQUIRED_TOPICS
    assert len(codes) == len(set(codes)) == 16


@pytest.mark.parametrize("question", load_questions(), ids=lambda question: question.code)
def test_every_question_speaks_both_languages(question):
    assert question.text_fr.strip() and ARABIC_LETTERS.search(question.text_ar)
    assert not ARABIC_LETTERS.search(question.text_fr)
    if question.asks_date:
        assert question.date_label_fr.strip() and ARABIC_LETTERS.search(question.date_label_ar)
    consequence = question.if_unexpected
    assert consequence.source.strip()
    if consequence.outcome != "none":
        assert set(consequence.reasons) == {"donor_fr", "donor_ar", "doctor_fr", "doctor_ar"}
        assert ARABIC_LETTERS.search(consequence.reasons["donor_ar"])
        assert ARABIC_LETTERS.search(consequence.reasons["doctor_ar"])


def test_durations_are_the_ones_in_the_design_notes():
    durations = {
        question.code: question.if_unexpected.duration
        for question in load_questions()
        if question.if_unexpected.duration
    }
    assert durations == {
        "vaccine": Duration(3, "weeks", "date"),
        "surgery": Duration(3, "months", "date"),
        "dental_hijama_tattoo_piercing": Duration(6, "months", "date"),
        "gave_birth": Duration(6, "months", "date"),
    }


def write_questions(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "questions.toml"
    path.write_text(body, encoding="utf-8")
    return path


VALID_QUESTION = """
[[question]]
code = "{code}"
text_fr = "Question ?"
text_ar = "سؤال؟"
answer = "{answer}"
expected = "{expected}"
{extra}
[question.if_unexpected]
outcome = "{outcome}"
{duration}
reason_fr = "Raison."
reason_ar = "سبب."
reason_doctor_fr = "Motif"
reason_doctor_ar = "سبب"
source = "Le médecin décide."
"""


def question_text(**changes: str) -> str:
    fields = {"code": "vaccine", "answer": "yes_no", "expected": "no", "extra": ""}
    fields |= {"outcome": "review", "duration": ""} | changes
    return VALID_QUESTION.format(**fields)


def test_a_valid_custom_file_loads(tmp_path):
    path = write_questions(tmp_path, question_text())
    assert [question.code for question in load_questions(path)] == ["vaccine"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"extra": 'colour = "blue"'}, "unknown keys"),
        ({"outcome": "maybe"}, "outcome must be one of"),
        ({"answer": "number"}, "answer must be one of"),
        ({"expected": "perhaps"}, "expected must be one of"),
        ({"extra": 'only_for = "X"'}, "only_for must be one of"),
        ({"extra": 'date_label_fr = "Date"\ndate_label_ar = "تاريخ"'}, "date labels only"),
        ({"answer": "yes_no_date"}, "date_label_ar must be a non-empty text"),
        ({"outcome": "temporary", "duration": 'weeks = 3\nfrom = "date"'}, "needs answer"),
        ({"outcome": "temporary", "duration": 'weeks = 3\nmonths = 1\nfrom = "today"'}, "one"),
        ({"outcome": "temporary", "duration": 'weeks = 0\nfrom = "today"'}, "positive"),
        ({"outcome": "temporary", "duration": "weeks = 3"}, "from must be one of"),
        ({"outcome": "temporary", "duration": 'from = "today"'}, "without a duration"),
        ({"outcome": "review", "duration": 'weeks = 3\nfrom = "today"'}, "only goes with"),
        ({"expected": "any"}, 'expected "any"'),
    ],
)
def test_a_wrong_file_is_refused_naming_the_question(tmp_path, changes, message):
    path = write_questions(tmp_path, question_text(**changes))
    with pytest.raises(ValueError, match=message) as raised:
        load_questions(path)
    assert "'vaccine'" in str(raised.value)


def test_a_question_without_its_reasons_is_refused(tmp_path):
    body = question_text().replace('reason_doctor_ar = "سبب"\n', "")
    with pytest.raises(ValueError, match=r"'vaccine'.*missing keys \['reason_doctor_ar'\]"):
        load_questions(write_questions(tmp_path, body))


def test_a_code_used_twice_is_refused(tmp_path):
    path = write_questions(tmp_path, question_text() + question_text())
    with pytest.raises(ValueError, match="'vaccine': code used twice"):
        load_questions(path)


def test_a_code_must_be_snake_case(tmp_path):
    path = write_questions(tmp_path, question_text(code="Vaccine-Date"))
    with pytest.raises(ValueError, match="'Vaccine-Date': code must be snake_case"):
        load_questions(path)


def test_an_unknown_top_level_key_is_refused(tmp_path):
    path = write_questions(tmp_path, 'title = "x"\n' + question_text())
    with pytest.raises(ValueError, match="unknown keys"):
        load_questions(path)


# --- who is asked what --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sex", "women_only_asked"),
    [("F", True), ("f", True), ("M", False), (None, True), ("", True)],
)
def test_women_only_questions(sex, women_only_asked):
    codes = {question.code for question in questions_for(sex)}
    assert codes & WOMEN_ONLY == (WOMEN_ONLY if women_only_asked else set())
    assert codes - WOMEN_ONLY == REQUIRED_TOPICS - WOMEN_ONLY


# --- cleaning the answers -----------------------------------------------------------------------


def test_harmless_answers_are_clean():
    answers, errors = clean_answers(harmless_form("F"), "F", TODAY)
    assert errors == {}
    assert set(answers) == REQUIRED_TOPICS
    assert implied_findings(answers, "F", TODAY) == []


def test_every_unanswered_question_is_required():
    answers, errors = clean_answers({}, "F", TODAY)
    assert answers == {}
    assert errors == {f"q_{code}": "required" for code in REQUIRED_TOPICS}


def test_an_answer_other_than_yes_or_no_counts_as_unanswered():
    form = harmless_form() | {"q_medicines": "maybe"}
    assert clean_answers(form, "F", TODAY)[1] == {"q_medicines": "required"}


def test_yes_and_no_are_read_whatever_their_case():
    form = harmless_form() | {"q_medicines": " YES "}
    answers, errors = clean_answers(form, "F", TODAY)
    assert errors == {} and answers["medicines"] == Answer("yes")


def test_women_only_answers_are_ignored_for_a_man():
    form = harmless_form("M") | {"q_pregnant": "yes", "q_gave_birth": "maybe"}
    answers, errors = clean_answers(form, "M", TODAY)
    assert errors == {}
    assert not WOMEN_ONLY & set(answers)


def test_women_only_questions_are_required_when_sex_is_unknown():
    _, errors = clean_answers(harmless_form("M"), None, TODAY)
    assert errors == {f"q_{code}": "required" for code in WOMEN_ONLY}


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("", "date_required"),
        ("   ", "date_required"),
        ("2026-02-30", "date_invalid"),
        ("24/11/2026", "date_invalid"),
        ("soon", "date_invalid"),
        ("1899-12-31", "date_invalid"),
        ("2026-11-25", "date_future"),
    ],
)
def test_a_yes_that_asks_a_date_needs_a_good_one(typed, error):
    form = harmless_form() | {"q_vaccine": "yes", "q_vaccine_date": typed}
    answers, errors = clean_answers(form, "F", TODAY)
    assert errors == {"q_vaccine_date": error}
    assert "vaccine" not in answers


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-11-24", date(2026, 11, 24)),  # today is not in the future
        (" 2026-11-01 ", date(2026, 11, 1)),
        ("٢٠٢٦-١١-٠١", date(2026, 11, 1)),  # Arabic-Indic digits
        ("۲۰۲۶-۱۱-۰۱", date(2026, 11, 1)),  # Eastern Arabic-Indic digits
    ],
)
def test_a_good_date_is_read(typed, expected):
    form = harmless_form() | {"q_vaccine": "yes", "q_vaccine_date": typed}
    answers, errors = clean_answers(form, "F", TODAY)
    assert errors == {}
    assert answers["vaccine"] == Answer("yes", expected)


def test_a_date_given_with_a_no_is_ignored():
    form = harmless_form() | {"q_vaccine": "no", "q_vaccine_date": "not a date"}
    answers, errors = clean_answers(form, "F", TODAY)
    assert errors == {} and answers["vaccine"] == Answer("no")


# --- what the answers imply ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "given", "until"),
    [
        ("vaccine", date(2026, 11, 3), date(2026, 11, 24)),  # 3 weeks
        ("surgery", date(2026, 8, 24), date(2026, 11, 24)),  # 3 months
        ("dental_hijama_tattoo_piercing", date(2026, 5, 24), date(2026, 11, 24)),  # 6 months
        ("gave_birth", date(2026, 5, 24), date(2026, 11, 24)),  # 6 months
    ],
)
def test_a_temporary_deferral_applies_until_its_end(code, given, until):
    day_before = date.fromordinal(until.toordinal() - 1)
    [finding] = findings_for(code, "yes", given, day_before)
    assert (finding.code, finding.outcome, finding.until) == (code, "temporary", until)
    assert finding.reasons["donor_fr"] and finding.reasons["donor_ar"]
    assert finding.reasons["doctor_fr"] and finding.reasons["doctor_ar"]
    assert "2-94-20" in finding.source
    assert findings_for(code, "yes", given, until) == []  # the first day the donor may give


def test_a_tattoo_on_the_day_defers_six_months():
    [finding] = findings_for("dental_hijama_tattoo_piercing", "yes", TODAY, TODAY)
    assert finding.until == date(2027, 5, 24)
    assert finding.reasons["donor_fr"].startswith("Après")


@pytest.mark.parametrize(
    ("given", "until"),
    [
        (date(2025, 8, 31), date(2026, 2, 28)),  # common year
        (date(2023, 8, 31), date(2024, 2, 29)),  # leap year
        (date(2026, 5, 31), date(2026, 11, 30)),
        (date(2026, 7, 31), date(2027, 1, 31)),  # across the year
    ],
)
def test_six_months_clamp_at_the_month_end(given, until):
    assert add_months(given, 6) == until
    [finding] = findings_for("dental_hijama_tattoo_piercing", "yes", given, given)
    assert finding.until == until


def test_surgery_on_the_last_of_november_ends_on_the_last_of_february():
    [finding] = findings_for("surgery", "yes", date(2026, 11, 30), date(2026, 12, 1))
    assert finding.until == date(2027, 2, 28)


@pytest.mark.parametrize("code", ["pregnant", "breastfeeding"])
def test_pregnancy_and_breastfeeding_defer_until_the_doctor_says(code):
    [finding] = findings_for(code, "yes", None, TODAY)
    assert (finding.outcome, finding.until) == ("temporary", None)
    assert findings_for(code, "yes", None, TODAY, sex="M") == []  # not asked of men


def test_a_positive_hiv_or_hepatitis_test_is_a_permanent_deferral():
    [finding] = findings_for("hiv_or_hepatitis_positive", "yes", None, TODAY)
    assert (finding.outcome, finding.until) == ("permanent", None)
    assert "2012" in finding.source


@pytest.mark.parametrize(
    ("code", "answer"),
    [
        ("feeling_well", "no"),
        ("fever_or_infection", "yes"),
        ("medicines", "yes"),
        ("transfused", "yes"),
        ("chronic_illness", "yes"),
        ("malaria_area", "yes"),
        ("injected_drugs", "yes"),
        ("new_sexual_partners", "yes"),
    ],
)
def test_what_the_sources_do_not_settle_goes_to_the_doctor(code, answer):
    [finding] = findings_for(code, answer, date(2020, 1, 1), TODAY)
    assert (finding.outcome, finding.until) == ("review", None)
    assert "médecin décide" in finding.source


def test_feeling_well_is_the_answer_expected():
    assert findings_for("feeling_well", "yes", None, TODAY) == []


def test_the_last_donation_raises_nothing_itself():
    answers = {"given_blood": Answer("yes", date(2026, 10, 1))}
    assert implied_findings(answers, "M", TODAY) == []
    assert last_donation_date(answers) == date(2026, 10, 1)
    assert last_donation_date({"given_blood": Answer("no")}) is None
    assert last_donation_date({}) is None


def test_a_stored_answer_without_its_date_counts_from_today():
    [finding] = findings_for("vaccine", "yes", None, TODAY)
    assert finding.until == date(2026, 12, 15)


def test_a_rule_counted_from_today(tmp_path, monkeypatch):
    body = question_text(outcome="temporary", duration='days = 2\nfrom = "today"')
    custom = load_questions(write_questions(tmp_path, body))
    monkeypatch.setattr(questionnaire, "load_questions", lambda: custom)
    [finding] = findings_for("vaccine", "yes", None, TODAY)
    assert finding.until == date(2026, 11, 26)


def test_findings_follow_the_order_of_the_questions():
    form = harmless_form() | {
        "q_new_sexual_partners": "yes",
        "q_vaccine": "yes",
        "q_vaccine_date": "2026-11-20",
        "q_medicines": "yes",
    }
    answers, errors = clean_answers(form, "F", TODAY)
    assert errors == {}
    codes = [finding.code for finding in implied_findings(answers, "F", TODAY)]
    assert codes == ["medicines", "vaccine", "new_sexual_partners"]


# --- stored with the visit ----------------------------------------------------------------------


def test_answers_survive_a_json_round_trip():
    answers = {
        "vaccine": Answer("yes", date(2026, 11, 1)),
        "medicines": Answer("no"),
        "given_blood": Answer("yes", date(2026, 2, 28)),
    }
    text = answers_to_json(answers)
    assert json.loads(text)["vaccine"] == {"answer": "yes", "date": "2026-11-01"}
    assert json.loads(text)["medicines"] == {"answer": "no", "date": None}
    assert answers_from_json(text) == answers


@pytest.mark.parametrize("text", ["", "{}", "not json", "[1, 2]", "null"])
def test_unreadable_stored_answers_read_as_none(text):
    assert answers_from_json(text) == {}


def test_broken_stored_entries_are_left_out():
    text = json.dumps(
        {
            "medicines": {"answer": "maybe"},
            "transfused": "yes",
            "vaccine": {"answer": "yes", "date": "2026-13-01"},
            "surgery": {"answer": "no"},
        }
    )
    assert answers_from_json(text) == {"vaccine": Answer("yes"), "surgery": Answer("no")}
