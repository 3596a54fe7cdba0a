"""What a donor types at the kiosk, checked and normalised. Pure functions, no database.

Each check returns the clean value or raises Invalid with a code; the web layer turns codes into
translated sentences. Arabic-Indic digits (٠١٢…, ۰۱۲…) are read as the digits they are.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

MIN_AGE = 18
MAX_AGE = 65
NAME_MAX_LENGTH = 60
CATEGORIES = ("civil_servant", "police", "auxiliary_forces", "citizen", "other")
SEXES = ("F", "M")
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
    text = raw.strip().translate(_DIGITS)
    if not text:
        raise Invalid("required")
    if not _ISO_DATE.fullmatch(text):
        raise Invalid("date_invalid")
    try:
        birth_date = date.fromisoformat(text)
    except ValueError:
        raise Invalid("date_invalid") from None
    if birth_date > today:
        raise Invalid("date_future")
    age = age_on(birth_date, today)
    if age < MIN_AGE:
        raise Invalid("too_young", min=MIN_AGE)
    if age > MAX_AGE:
        raise Invalid("too_old", max=MAX_AGE)
    return birth_date


def join_date_parts(day: str, month: str, year: str) -> str:
    """The ISO text of a date typed in three boxes; something clean_birth_date refuses if the
    boxes hold anything but a day, a month and a four-digit year."""
    parts = [part.strip().translate(_DIGITS) for part in (year, month, day)]
    if not any(parts):
        return ""
    year, month, day = parts
    if not all(part.isascii() and part.isdigit() for part in parts) or len(year) != 4:
        return "invalid"
    return f"{year}-{month:0>2}-{day:0>2}"


def split_iso_date(text: str) -> tuple[str, str, str]:
    """(day, month, year) of a YYYY-MM-DD text, to put back in the three boxes; blanks if not."""
    if not _ISO_DATE.fullmatch(text):
        return "", "", ""
    year, month, day = text.split("-")
    return day.lstrip("0"), month.lstrip("0"), year


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


CHECKS: dict[str, Callable[[str, date], Any]] = {
    "first_name": clean_name,
    "last_name": clean_name,
    "sex": clean_sex,
    "birth_date": clean_birth_date,
    "cin": clean_cin,
    "phone": clean_phone,
    "category": clean_category,
    "consent": clean_consent,
}
FIELDS = tuple(CHECKS)

# The kiosk wizard: the fields each step asks for, in order, then a review of everything.
# The questionnaire's fields (q_<code>) come from its own data file.
STEPS = ("identity", "contact", "questionnaire", "consent", "review")
STEP_FIELDS: dict[str, tuple[str, ...]] = {
    "identity": ("first_name", "last_name", "sex", "birth_date", "cin"),
    "contact": ("phone", "category"),
    "questionnaire": (),
    "consent": ("consent",),
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
