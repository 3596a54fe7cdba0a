"""The sentences a donor reads for each validation code, in their language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from kiosk.domain.validation import FieldError, Invalid

HIDDEN_CHARACTERS = _l("This text holds invisible or control characters: please type it again.")
FIELD_MESSAGES = {
    "required": _l("Please fill in this field."),
    "too_long": _l("This is too long (at most %(max)s characters)."),
    "hidden_characters": HIDDEN_CHARACTERS,
    "name_digits": _l("A name cannot contain digits."),
    "name_characters": _l("Please use letters only (Arabic or Latin), spaces or hyphens."),
    "choice_invalid": _l("Please choose one of the options."),
    "date_invalid": _l("This date does not exist. Please check the day, month and year."),
    "date_incomplete": _l("Please give the day, the month and the year."),
    "year_digits": _l("Please write the year with its four digits, for example 2026."),
    "date_future": _l("The date of birth cannot be in the future."),
    "too_young": _l("Donors must be at least %(min)s years old."),
    "too_old": _l("Donors must be at most %(max)s years old."),
    "cin_invalid": _l("A CIN is one or two letters followed by digits, for example AB123456."),
    "phone_invalid": _l("Please give a Moroccan number, for example 06 12 34 56 78."),
    "consent_required": _l("We can only register you with your consent."),
    "number_invalid": _l("Please type a number."),
    "date_required": _l("Please give the date."),
    "answer_date_future": _l("This date is in the future: please check it."),
    "out_of_range": _l("This value is not plausible: between %(low)s and %(high)s, please check."),
    "date_not_future": _l("The end of a deferral is a date after today."),
    "date_too_far": _l("A temporary deferral lasts three years at most."),
    "note_required": _l("Your decision differs from the rules' finding: please write why."),
    "time_invalid": _l("Please give a time on the 24-hour clock, for example 14:05."),
    "time_future": _l("This time has not come yet."),
    "ends_before_start": _l("The end is before the start."),
    "din_format": _l(
        "This is not an ISBT 128 donation number (13 characters, e.g. G123498654321)."
    ),
    "din_check": _l("The check character does not match: please scan or type the label again."),
    "bag_format": _l("This bag number does not have the centre's format."),
    "bag_required": _l("Please scan or type the bag number."),
    "bag_too_long": _l("This is too long (at most %(max)s characters)."),
    "bag_characters": _l("This bag number has invisible characters: please scan it again."),
}

MEDICAL_MESSAGES = {
    "bag_used": _l("Bag %(bag_number)s is already recorded for another donation."),
    "not_at_interview": _l("This donor is not at an interview desk: call them first."),
    "not_at_collection": _l("This donor is not at a collection desk: call them first."),
    "not_at_rest": _l("This donor is not in the rest area."),
    "no_visit": _l("This visit does not exist."),
    "no_donation": _l("This visit has no donation record to correct."),
    "no_donation_recorded": _l(
        "No donation is recorded for this donor: record the donation (even a failed "
        "venipuncture) before they leave the rest area."
    ),
}

# Shown on a visit's record after a change, by the code in `?notice=`.
RECORD_NOTICES = {
    "corrected": _l("The donation record is corrected. The history below keeps who changed what."),
    "unchanged": _l("Nothing was changed: the record already held these values."),
}

DECISION_LABELS = {
    "eligible": _l("Eligible: to the donation"),
    "deferred_temporary": _l("Deferred until a date"),
    "deferred_permanent": _l("Deferred permanently"),
}

DEFERRAL_REASON_LABELS = {
    "low_hemoglobin": _l("Low haemoglobin"),
    "low_weight": _l("Weight too low"),
    "blood_pressure": _l("Blood pressure"),
    "recent_donation": _l("Donation too recent"),
    "recent_procedure": _l("Dental care, hijama, tattoo or piercing"),
    "recent_vaccine": _l("Recent vaccine"),
    "recent_surgery": _l("Recent surgery"),
    "infection": _l("Fever or infection"),
    "medication": _l("Medicines"),
    "pregnancy": _l("Pregnancy, birth or breast-feeding"),
    "malaria_risk": _l("Stay in a malaria area"),
    "infection_risk": _l("Risk of infection"),
    "chronic_illness": _l("Chronic illness"),
    "age": _l("Age"),
    "other": _l("Other"),
}

# What a deferred donor can do until they may come back, for the reasons where a few words help.
# Shown only when the doctor lets the donor read the reason (the screening's `tell_reason`).
DEFERRAL_ADVICE = {
    "low_hemoglobin": _l(
        "Eat iron-rich food (lentils, beans, chickpeas, meat, liver, dates, green vegetables) and "
        "see a doctor or your health centre to check your blood."
    ),
    "low_weight": _l("You are welcome again once your weight is above the minimum for giving."),
    "blood_pressure": _l(
        "Have your blood pressure checked at your health centre before you come back."
    ),
    "recent_donation": _l("Your body is rebuilding its blood: drink water and eat well."),
    "recent_procedure": _l("Come back once the date above has passed and everything has healed."),
    "recent_surgery": _l("Come back once the date above has passed and everything has healed."),
    "recent_vaccine": _l("Come back once the date above has passed."),
    "infection": _l("Rest, and come back once you have been well for some time."),
    "medication": _l("Never stop a treatment to give blood; ask your doctor."),
    "pregnancy": _l("Take care of yourself: you will be welcome again after the date above."),
}

BAG_TYPE_LABELS = {
    "single": _l("Single"),
    "double": _l("Double"),
    "triple": _l("Triple"),
    "quadruple": _l("Quadruple"),
}

DONATION_OUTCOME_LABELS = {
    "complete": _l("Complete"),
    "partial": _l("Partial"),
    "failed_venipuncture": _l("Failed venipuncture"),
}

ADVERSE_EVENT_LABELS = {
    "none": _l("None"),
    "vasovagal": _l("Vasovagal reaction"),
    "haematoma": _l("Haematoma"),
    "arterial_puncture": _l("Arterial puncture"),
    "nerve_injury": _l("Nerve injury"),
    "thrombophlebitis": _l("Thrombophlebitis"),
    "allergy": _l("Allergy"),
    "other": _l("Other"),
}

SEVERITY_LABELS = {"mild": _l("Mild"), "moderate": _l("Moderate"), "severe": _l("Severe")}

OUTCOME_LABELS = {
    "ok": _l("OK"),
    "review": _l("Doctor's review"),
    "temporary": _l("Temporary deferral"),
    "permanent": _l("Permanent deferral"),
    # The record's panel before the doctor's screening: the rules have not seen a measurement.
    "unscreened": _l("Not screened"),
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


def _worded(messages: dict, error: FieldError | Invalid, fallback: str) -> str:
    text = str(messages.get(error.code, messages[fallback]))
    return text % error.params if error.params else text


def field_message(error: FieldError) -> str:
    return _worded(FIELD_MESSAGES, error, "choice_invalid")


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
    "desk_characters": HIDDEN_CHARACTERS,
    "desk_other_name": _l("A desk name in another language has at most 40 characters."),
    "desk_other_characters": HIDDEN_CHARACTERS,
    "desk_stage": _l("Choose what the desk is for: interview or collection."),
    "desk_exists": _l("There is already a desk called “%(name)s”."),
    "eligible_screening": _l(
        "Number %(number)s has no eligible screening on record: the doctor must see them again "
        "before the donation."
    ),
    "donation": _l("Number %(number)s has no donation on record: record it first."),
    "deferring_screening": _l("Number %(number)s has no deferral on record."),
    "not_allowed": _l("This cannot be done for number %(number)s at this stage."),
}

DESK_STAGE_LABELS = {"interview": _l("Interview"), "collection": _l("Collection")}

ROLE_LABELS = {
    "reception": _l("Reception"),
    "doctor": _l("Doctor"),
    "phlebotomist": _l("Phlebotomist"),
    "coordinator": _l("Coordinator"),
}

# The app's own actors in the audit log, as the record's history names them (a person's user
# name is shown as is; these are refused as user names).
ACTOR_LABELS = {
    "kiosk": _l("registration kiosk"),
    "system": _l("system"),
}

EVENT_LABELS = {
    "register": _l("Registered"),
    "ticket_again": _l("Ticket shown again"),
    "lockout_cleared": _l("Login lockout lifted"),
    "registered_again": _l("Came back to the kiosk, already registered"),
    "ticket_reissued": _l("Ticket given again by reception, card checked"),
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
    "correct_donation": _l("Donation record corrected"),
}

# The names an event's `detail` may hold, as the forms label them.
FIELD_LABELS = {
    "bag_number": _l("Bag number"),
    "bag_type": _l("Bag type"),
    "volume_ml": _l("Volume (mL)"),
    "started_at": _l("Started at"),
    "ended_at": _l("Ended at"),
    "outcome": _l("Outcome"),
    "adverse_event": _l("Adverse event"),
    "adverse_severity": _l("Severity (if any)"),
    "note": _l("Note"),
}


def queue_message(error: Invalid) -> str:
    return _worded(QUEUE_MESSAGES, error, "nobody_at_desk")


def medical_message(error: Invalid) -> str:
    return _worded(MEDICAL_MESSAGES, error, "no_visit")


THRESHOLD_LABELS = {
    "age_min": _l("Minimum age (years)"),
    "age_max": _l("Maximum age (years)"),
    "age_max_repeat": _l("Maximum age, repeat donor (years)"),
    "weight_min_kg": _l("Minimum weight (kg)"),
    "systolic_max": _l("Maximum systolic (mmHg)"),
    "diastolic_max": _l("Maximum diastolic (mmHg)"),
    "hemoglobin_min_f": _l("Minimum haemoglobin, women (g/dL)"),
    "hemoglobin_min_m": _l("Minimum haemoglobin, men (g/dL)"),
    "donations_per_year_f": _l("Donations in 12 months, women"),
    "donations_per_year_m": _l("Donations in 12 months, men"),
    "interval_weeks_f": _l("Weeks between donations, women"),
    "interval_weeks_m": _l("Weeks between donations, men"),
}

# Thermal printing: what a print job is, and the audit line of a reprint.
PRINT_KIND_LABELS = {
    "ticket": _l("Ticket"),
    "deferral": _l("Deferral slip"),
    "thanks": _l("Thank-you slip"),
    "test": _l("Test page"),
}
EVENT_LABELS["reprint_ticket"] = _l("Ticket printed again")


# The coordinator's medical settings refused, by CampaignError's code.
CAMPAIGN_MESSAGES = {
    "rules_unknown": _l("Choose one of the rule tables offered."),
    "bag_policy": _l(
        "The bag-number check is not valid: choose “any”, “isbt128”, or “regex:” followed by "
        "a pattern."
    ),
    "threshold": _l("%(label)s must be between %(low)s and %(high)s."),
    "campaign": _l("This cannot be done for the campaign now."),
}


def campaign_message(error) -> str:
    params = dict(error.params)
    if "name" in params:
        params["label"] = str(THRESHOLD_LABELS.get(params.pop("name"), ""))
    text = str(CAMPAIGN_MESSAGES.get(error.code, CAMPAIGN_MESSAGES["campaign"]))
    return text % params if params else text
