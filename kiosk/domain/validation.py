"""What a donor types at the kiosk, checked and normalised. Pure functions, no database.

Each check returns the clean value or raises Invalid with a code; the web layer turns codes into
translated sentences. Arabic-Indic digits (٠١٢…, ۰۱۲…) are read as the digits they are.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

MIN_AGE = 18
MAX_AGE = 65
NAME_MAX_LENGTH = 60
CATEGORIES = ("civil_servant", "police", "auxiliary_forces", "citizen", "other")
SEXES = ("F", "M")
BLOOD_GROUPS = ("O+", "O-", "A+", "A-", "B+", "B-", "AB+", "AB-")
CONSENT_VALUES = frozenset({"yes", "on", "true", "1"})

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_NAME_PUNCTUATION = frozenset(" -'’.")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Shared with the questionnaire's answers.
ARABIC_INDIC_DIGITS = _DIGITS
ISO_DATE = _ISO_DATE
# Moroccan CIN: one or two letters (the issuing office) then digits.
_CIN = re.compile(r"[A-Z]{1,2}[0-9]{3,6}")
_PHONE_SEPARATORS = re.compile(r"[\s.\-()/]")
_NATIONAL_PHONE = re.compile(r"0[567][0-9]{8}")


class Invalid(ValueError):
    """A request the rules refuse: `code` names why (the web layer words it in the person's
    language) and `params` fill in the sentence. The domain's other refusals are its kinds."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Registration:
    first_name: str
    last_name: str
    sex: str
    birth_date: date
    cin: str | None
    phone: str | None
    category: str
    contact_consent: bool = False  # may be phoned when they may give again (optional)


def age_on(birth_date: date, day: date) -> int:
    """Completed years; someone born on 29 February is a year older on 1 March in common years."""
    had_birthday = (day.month, day.day) >= (birth_date.month, birth_date.day)
    return day.year - birth_date.year - (0 if had_birthday else 1)


# Embedding, override and isolate marks: they reorder what is shown, so a line can read differently
# from what it holds. The marks a right-to-left keyboard types (LRM, RLM, ALM, ZWJ, ZWNJ) may stay.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def has_hidden_characters(text: str, allowed: str = "") -> bool:
    """Control characters, bidi overrides, unassigned or private code points, or U+FFFD (the mark of
    text that lost its encoding on the way): nothing a person types into a free-text box."""
    for char in text:
        if char in allowed:
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs", "Co", "Cn") or char in BIDI_CONTROLS or char == "\ufffd":
            return True
    return False


def clean_name(raw: str, today: date) -> str:
    name = " ".join(unicodedata.normalize("NFC", raw).split())
    if not name:
        raise Invalid("required")
    if len(name) > NAME_MAX_LENGTH:
        raise Invalid("too_long", max=NAME_MAX_LENGTH)
    if any(char.isdigit() for char in name):
        raise Invalid("name_digits")
    for char in name:
        if char not in _NAME_PUNCTUATION and unicodedata.category(char)[0] not in "LM":
            raise Invalid("name_characters")
    if not any(char.isalpha() for char in name):
        raise Invalid("name_characters")
    return name


def clean_sex(raw: str, today: date) -> str:
    sex = raw.strip().upper()
    if not sex:
        raise Invalid("required")
    if sex not in SEXES:
        raise Invalid("choice_invalid")
    return sex


def clean_birth_date(raw: str, today: date) -> date:
    birth_date = read_date(raw)
    if birth_date is None:
        raise Invalid("required")
    if birth_date > today:
        raise Invalid("date_future")
    age = age_on(birth_date, today)
    if age < MIN_AGE:
        raise Invalid("too_young", min=MIN_AGE)
    if age > MAX_AGE:
        raise Invalid("too_old", max=MAX_AGE)
    return birth_date


# --- dates typed in three boxes -------------------------------------------------------------------
#
# Every date a person types (a birth date, the date of a vaccine, the end of a deferral, the day to
# export) is asked in three boxes: the day, the month by its name in the page's language, the year.
# A browser's own date picker writes the month first or the day first depending on the browser, not
# on the page: 01/12 was read as 12 January. The boxes of a field `<stem>_date` (or any other
# name) are `<stem>_day`, `<stem>_month`, `<stem>_year`; a form without them may send the field
# itself as YYYY-MM-DD, the one written form that cannot be misread (scripts and older pages).
#
# The boxes are joined into one text first (kept in the form's values, carried from one step of
# the wizard to the next), then read by `read_date`, which every date field's check starts with.

# What the join makes of boxes that hold no date; `read_date` turns each into its code.
DATE_INCOMPLETE = "?incomplete"
DATE_SHORT_YEAR = "?year"
DATE_NOT_DIGITS = "?digits"
_JOIN_PROBLEMS = {
    DATE_INCOMPLETE: "date_incomplete",
    DATE_SHORT_YEAR: "year_digits",
    DATE_NOT_DIGITS: "date_invalid",
}


def date_part_names(name: str) -> tuple[str, str, str]:
    """The names of a date field's three boxes: birth_date → birth_day, birth_month, birth_year;
    deferral_until → deferral_until_day, …"""
    stem = name.removesuffix("_date")
    return f"{stem}_day", f"{stem}_month", f"{stem}_year"


def date_text(form: Mapping[str, str], name: str) -> str:
    """The date a form gives for `name`: its three boxes joined when any of them was sent, else the
    field itself (YYYY-MM-DD)."""
    parts = date_part_names(name)
    if any(part in form for part in parts):
        return join_date_parts(*(form.get(part) or "" for part in parts))
    return form.get(name) or ""


def join_date_parts(day: str, month: str, year: str) -> str:
    """The ISO text of a date typed in three boxes, "" if all are empty, else one of the markers
    above: `read_date` refuses all but a real date. Arabic-Indic digits are read; a two-digit
    year is not guessed."""
    parts = [part.strip().translate(_DIGITS) for part in (year, month, day)]
    if not any(parts):
        return ""
    if not all(parts):
        return DATE_INCOMPLETE
    year, month, day = parts
    if not all(part.isascii() and part.isdigit() for part in parts):
        return DATE_NOT_DIGITS
    if len(year) != 4:
        return DATE_SHORT_YEAR
    if len(month) > 2 or len(day) > 2:
        return DATE_NOT_DIGITS
    return f"{year}-{month:0>2}-{day:0>2}"


def read_date(raw: str) -> date | None:
    """A typed date: None when nothing was typed; Invalid (date_invalid, date_incomplete,
    year_digits) when it is no date of the calendar (31 February, month 13, day 0). Reads the
    text `join_date_parts` makes, and YYYY-MM-DD with Western or Arabic-Indic digits."""
    text = raw.strip().translate(_DIGITS)
    if not text:
        return None
    if text in _JOIN_PROBLEMS:
        raise Invalid(_JOIN_PROBLEMS[text])
    if not _ISO_DATE.fullmatch(text):
        raise Invalid("date_invalid")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid("date_invalid") from None


def split_iso_date(text: str) -> tuple[str, str, str]:
    """(day, month, year) of a YYYY-MM-DD text, to put back in the three boxes; blanks if not."""
    if not _ISO_DATE.fullmatch(text):
        return "", "", ""
    year, month, day = text.split("-")
    return day.lstrip("0"), month.lstrip("0"), year


def date_boxes(form: Mapping[str, str], name: str) -> tuple[str, str, str]:
    """What the three boxes of `name` show: as typed when they were sent, else the field's date."""
    parts = date_part_names(name)
    if any(part in form for part in parts):
        return tuple(str(form.get(part) or "") for part in parts)  # type: ignore[return-value]
    return split_iso_date(str(form.get(name) or ""))


# --- times of day ---------------------------------------------------------------------------------

# 14:05, 14h05, 14.05, 14 05 or 1405 (a phone's number pad may have no colon); 9:05 and 905 too.
_CLOCK = re.compile(r"([0-9]{1,2})\s*[:hH.\s]?\s*([0-9]{2})")


def read_clock(raw: str) -> time | None:
    """A time of day on the 24-hour clock: None when nothing was typed, Invalid("time_invalid")
    when it is not one (25:00, 12:60, 10h, 2 pm). Arabic-Indic digits are read."""
    text = raw.strip().translate(_DIGITS)
    if not text:
        return None
    match = _CLOCK.fullmatch(text)
    if match is None:
        raise Invalid("time_invalid")
    hour, minute = (int(group) for group in match.groups())
    if hour > 23 or minute > 59:
        raise Invalid("time_invalid")
    return time(hour, minute)


def clean_cin(raw: str, today: date) -> str | None:
    cin = re.sub(r"[\s\-]", "", raw.translate(_DIGITS)).upper()
    if not cin:
        return None
    if not _CIN.fullmatch(cin):
        raise Invalid("cin_invalid")
    return cin


def clean_phone(raw: str, today: date) -> str | None:
    """Returns E.164 (+212 and nine digits) from any usual way of writing a Moroccan number."""
    digits = _PHONE_SEPARATORS.sub("", raw.translate(_DIGITS))
    if not digits:
        return None
    for prefix in ("+212", "00212", "212"):
        if digits.startswith(prefix) and len(digits) > len(prefix) + 8:
            rest = digits.removeprefix(prefix)
            digits = rest if rest.startswith("0") else "0" + rest
            break
    if not _NATIONAL_PHONE.fullmatch(digits):
        raise Invalid("phone_invalid")
    return "+212" + digits[1:]


def clean_category(raw: str, today: date) -> str:
    category = raw.strip()
    if not category:
        raise Invalid("required")
    if category not in CATEGORIES:
        raise Invalid("choice_invalid")
    return category


def clean_consent(raw: str, today: date) -> bool:
    if raw.strip().lower() not in CONSENT_VALUES:
        raise Invalid("consent_required")
    return True


def clean_contact_consent(raw: str, today: date) -> bool:
    """Optional: only a ticked box agrees."""
    return raw.strip().lower() in CONSENT_VALUES


CHECKS: dict[str, Callable[[str, date], Any]] = {
    "first_name": clean_name,
    "last_name": clean_name,
    "sex": clean_sex,
    "birth_date": clean_birth_date,
    "cin": clean_cin,
    "phone": clean_phone,
    "category": clean_category,
    "consent": clean_consent,
    "contact_consent": clean_contact_consent,
}
FIELDS = tuple(CHECKS)

# The kiosk wizard: the fields each step asks for, in order, then a review of everything.
# The questionnaire's fields (q_<code>) come from its own data file.
STEPS = ("identity", "contact", "questionnaire", "consent", "review")
STEP_FIELDS: dict[str, tuple[str, ...]] = {
    "identity": ("first_name", "last_name", "sex", "birth_date", "cin"),
    "contact": ("phone", "category"),
    "questionnaire": (),
    "consent": ("consent", "contact_consent"),
    "review": (),
}
QUESTION_PREFIX = "q_"


def check_fields(
    form: Mapping[str, str], fields: tuple[str, ...], today: date
) -> tuple[dict[str, Any], dict[str, FieldError]]:
    clean: dict[str, Any] = {}
    errors: dict[str, FieldError] = {}
    for name in fields:
        try:
            clean[name] = CHECKS[name](form.get(name) or "", today)
        except Invalid as invalid:
            errors[name] = FieldError(name, invalid.code, invalid.params)
    return clean, errors


def validate_registration(
    form: Mapping[str, str], today: date
) -> tuple[Registration | None, dict[str, FieldError]]:
    clean, errors = check_fields(form, FIELDS, today)
    if errors:
        return None, errors
    clean.pop("consent")
    return Registration(**clean), {}


def step_of_first_error(errors: Mapping[str, FieldError]) -> str:
    for step in STEPS:
        if any(name in errors for name in STEP_FIELDS[step]):
            return step
        if step == "questionnaire" and any(n.startswith(QUESTION_PREFIX) for n in errors):
            return step
    return "review"


def next_step(step: str) -> str:
    return STEPS[min(STEPS.index(step) + 1, len(STEPS) - 1)]


def previous_step(step: str) -> str:
    return STEPS[max(STEPS.index(step) - 1, 0)]
