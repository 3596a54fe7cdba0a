"""The sentences a donor reads for each validation code, in their language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from kiosk.domain.validation import FieldError

FIELD_MESSAGES = {
    "required": _l("Please fill in this field."),
    "too_long": _l("This is too long (at most %(max)s characters)."),
    "name_digits": _l("A name cannot contain digits."),
    "name_characters": _l("Please use letters only (Arabic or Latin), spaces or hyphens."),
    "choice_invalid": _l("Please choose one of the options."),
    "date_invalid": _l("This date does not exist. Please check the day, month and year."),
    "date_future": _l("The date of birth cannot be in the future."),
    "too_young": _l("Donors must be at least %(min)s years old."),
    "too_old": _l("Donors must be at most %(max)s years old."),
    "cin_invalid": _l("A CIN is one or two letters followed by digits, for example AB123456."),
    "cin_mismatch": _l(
        "This CIN is already known with another date of birth. Please check, "
        "or ask the reception desk."
    ),
    "phone_invalid": _l("Please give a Moroccan number, for example 06 12 34 56 78."),
    "consent_required": _l("We can only register you with your consent."),
}

CATEGORY_LABELS = {
    "civil_servant": _l("Civil servant"),
    "police": _l("National police"),
    "auxiliary_forces": _l("Auxiliary forces"),
    "citizen": _l("Citizen"),
    "other": _l("Other"),
}

SEX_LABELS = {"F": _l("Woman"), "M": _l("Man")}

STAGE_LABELS = {
    "waiting_interview": _l("Waiting for the interview"),
    "interview": _l("At the interview"),
    "waiting_collection": _l("Waiting for the donation"),
    "collection": _l("Giving blood"),
    "rest": _l("Resting"),
    "done": _l("Done, thank you!"),
    "deferred": _l("Seen by the doctor"),
    "left": _l("Left"),
    "no_show": _l("Called, not present: please go to the reception desk"),
}


def field_message(error: FieldError) -> str:
    text = str(FIELD_MESSAGES.get(error.code, FIELD_MESSAGES["choice_invalid"]))
    return text % error.params if error.params else text
