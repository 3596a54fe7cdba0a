"""The sentences a donor reads for each validation code, in their language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from kiosk.domain.queue import QueueError
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


QUEUE_MESSAGES = {
    "nobody_waiting": _l("Nobody is waiting."),
    "nobody_at_desk": _l("Nobody is at your desk. Call the next donor first."),
    "recall_first": _l(
        "Call the donor again first: a donor is marked absent after %(recalls)s recalls "
        "(%(done)s so far)."
    ),
    "not_no_show": _l("This donor is no longer marked absent."),
    "no_campaign": _l("No campaign is open."),
    "desk_name": _l("A desk name has 1 to 40 characters."),
    "desk_stage": _l("Choose what the desk is for: interview or collection."),
    "desk_exists": _l("There is already a desk called “%(name)s”."),
}

DESK_STAGE_LABELS = {"interview": _l("Interview"), "collection": _l("Collection")}

ROLE_LABELS = {
    "reception": _l("Reception"),
    "doctor": _l("Doctor"),
    "phlebotomist": _l("Phlebotomist"),
    "coordinator": _l("Coordinator"),
}

EVENT_LABELS = {
    "register": _l("Registered"),
    "ticket_again": _l("Ticket shown again"),
    "call": _l("Called"),
    "recall": _l("Called again"),
    "no_show": _l("Absent when called"),
    "put_back_interview": _l("Back in the line"),
    "put_back_collection": _l("Back in the line"),
    "accept": _l("Sent on to the donation"),
    "defer": _l("Deferred"),
    "donate": _l("Donation recorded"),
    "finish": _l("Left the rest area"),
    "leave": _l("Left"),
}


def queue_message(error: QueueError) -> str:
    text = str(QUEUE_MESSAGES.get(error.code, QUEUE_MESSAGES["nobody_at_desk"]))
    return text % error.params if error.params else text
