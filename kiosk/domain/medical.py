"""The doctor's screening and the phlebotomist's donation: their forms, checked, and their records.

Measurements outside what a living donor can show are refused, not stored. A decision that goes
against the rules' findings needs a note. Each record moves the visit on through the journey's
one state machine, in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk.db import write_transaction
from kiosk.domain.din import BagNumberError, normalise_bag_number
from kiosk.domain.donor_history import Deferral, add_history
from kiosk.domain.eligibility import (
    Finding,
    History,
    Measurements,
    RuleTable,
    Subject,
    evaluate,
    load_table,
    parse_thresholds,
    verdict,
)
from kiosk.domain.journey import Stage, TransitionRefused, record_event, transition
from kiosk.domain.questionnaire import answers_from_json
from kiosk.domain.validation import (
    FieldError,
    Invalid,
    date_text,
    has_hidden_characters,
    read_clock,
    read_date,
)
from kiosk.models import Campaign, Donation, Donor, Screening, Visit

# Values a living, standing adult can show; anything else is a typing mistake.
MEASUREMENT_BOUNDS: dict[str, tuple[float, float]] = {
    "weight_kg": (30, 250),
    "systolic": (60, 260),
    "diastolic": (30, 160),
    "pulse": (30, 220),
    "hemoglobin_g_dl": (5.0, 25.0),
    "temperature_c": (34.0, 42.5),
}
WHOLE_NUMBERS = frozenset({"systolic", "diastolic", "pulse"})
OPTIONAL_MEASUREMENTS = frozenset({"temperature_c"})
DECISIONS = ("eligible", "deferred_temporary", "deferred_permanent")
DEFERRAL_REASONS = (
    "low_hemoglobin",
    "low_weight",
    "blood_pressure",
    "recent_donation",
    "recent_procedure",
    "recent_vaccine",
    "recent_surgery",
    "infection",
    "medication",
    "pregnancy",
    "malaria_risk",
    "infection_risk",
    "chronic_illness",
    "age",
    "other",
)
BAG_TYPES = ("single", "double", "triple", "quadruple")
DONATION_OUTCOMES = ("complete", "partial", "failed_venipuncture")
# A failed venipuncture gives no blood: not the donor's last donation, not a repeat donor.
NOT_A_DONATION = "failed_venipuncture"
# ISBT/IHN 2014 categories of adverse donor reactions.
ADVERSE_EVENTS = (
    "none",
    "vasovagal",
    "haematoma",
    "arterial_puncture",
    "nerve_injury",
    "thrombophlebitis",
    "allergy",
    "other",
)
SEVERITIES = ("mild", "moderate", "severe")
VOLUME_BOUNDS = (50, 600)
CORRECTABLE_DONATION_FIELDS = (
    "bag_number",
    "bag_type",
    "volume_ml",
    "started_at",
    "ended_at",
    "outcome",
    "adverse_event",
    "adverse_severity",
    "note",
)
MAX_DEFERRAL = timedelta(days=3 * 366)
NOTE_LENGTH = 1000


class MedicalError(Invalid):
    """A record that cannot be made now (wrong stage, bag number used); `code` names why."""


@dataclass(frozen=True)
class ScreeningForm:
    measurements: Measurements
    decision: str
    deferral_reason: str | None
    deferral_until: date | None
    tell_reason: bool
    note: str


@dataclass(frozen=True)
class DonationForm:
    bag_number: str
    bag_type: str
    volume_ml: int
    started_at: datetime
    ended_at: datetime
    outcome: str
    adverse_event: str
    adverse_severity: str | None
    note: str


# --- reading the forms --------------------------------------------------------------------------


def clean_measurements(form: Mapping[str, str]) -> tuple[Measurements, dict[str, FieldError]]:
    values, errors = {}, {}
    for name, (low, high) in MEASUREMENT_BOUNDS.items():
        raw = (form.get(name) or "").strip().replace(",", ".")
        if not raw:
            if name not in OPTIONAL_MEASUREMENTS:
                errors[name] = FieldError(name, "required")
            continue
        try:
            value = int(raw) if name in WHOLE_NUMBERS else round(float(raw), 1)
        except ValueError:
            errors[name] = FieldError(name, "number_invalid")
            continue
        if not low <= value <= high:
            errors[name] = FieldError(
                name, "out_of_range", {"low": f"{low:g}", "high": f"{high:g}"}
            )
            continue
        values[name] = value
    return Measurements(**values), errors


def clean_screening(
    form: Mapping[str, str], findings_verdict_for, today: date
) -> tuple[ScreeningForm | None, dict[str, FieldError]]:
    """`findings_verdict_for(measurements)` gives the rules' verdict for these measurements."""
    measurements, errors = clean_measurements(form)
    decision = form.get("decision") or ""
    if decision not in DECISIONS:
        errors["decision"] = FieldError("decision", "choice_invalid")
    reason = form.get("deferral_reason") or None
    until = None
    if decision.startswith("deferred"):
        if reason not in DEFERRAL_REASONS:
            errors["deferral_reason"] = FieldError("deferral_reason", "choice_invalid")
    else:
        reason = None
    if decision == "deferred_temporary":
        try:
            until = _future_date(date_text(form, "deferral_until"), today)
        except Invalid as invalid:
            errors["deferral_until"] = FieldError("deferral_until", invalid.code, invalid.params)
    note = _note(form, errors)
    if not errors and not note and _against_the_rules(decision, findings_verdict_for(measurements)):
        errors["note"] = FieldError("note", "note_required")
    if errors:
        return None, errors
    tell = (form.get("tell_reason") or "").lower() in {"yes", "on", "1", "true"}
    return ScreeningForm(measurements, decision, reason, until, tell, note), {}


def _note(form: Mapping[str, str], errors: dict[str, FieldError]) -> str:
    """A free-text note, refused whole (never cut) when too long or holding hidden characters."""
    typed = form.get("note") or ""
    note = typed.strip()
    if len(note) > NOTE_LENGTH:
        errors["note"] = FieldError("note", "too_long", {"max": NOTE_LENGTH})
    elif has_hidden_characters(typed, allowed="\n\r\t"):
        errors["note"] = FieldError("note", "hidden_characters")
    return note


def _against_the_rules(decision: str, rules_verdict: str) -> bool:
    if decision == "eligible":
        return rules_verdict != "ok"
    return rules_verdict == "ok"


def _future_date(raw: str, today: date) -> date:
    value = read_date(raw)
    if value is None:
        raise Invalid("date_required")
    if value <= today:
        raise Invalid("date_not_future")
    if value - today > MAX_DEFERRAL:
        raise Invalid("date_too_far")
    return value


def clean_donation(
    form: Mapping[str, str], bag_policy: str, day: date, zone: ZoneInfo, now: datetime
) -> tuple[DonationForm | None, dict[str, FieldError]]:
    errors: dict[str, FieldError] = {}
    bag_number = ""
    try:
        bag_number = normalise_bag_number(form.get("bag_number") or "", bag_policy)
    except BagNumberError as error:
        errors["bag_number"] = FieldError("bag_number", error.code, error.params)
    chosen = {
        name: _choice(form, name, options, errors)
        for name, options in (
            ("bag_type", BAG_TYPES),
            ("outcome", DONATION_OUTCOMES),
            ("adverse_event", ADVERSE_EVENTS),
        )
    }
    severity = form.get("adverse_severity") or None
    if chosen["adverse_event"] not in (None, "none") and severity not in SEVERITIES:
        errors["adverse_severity"] = FieldError("adverse_severity", "choice_invalid")
    if chosen["adverse_event"] == "none":
        severity = None
    volume = _whole_number(form, "volume_ml", VOLUME_BOUNDS, errors)
    started = _clock_time(form, "started_at", day, zone, now, errors)
    ended = _clock_time(form, "ended_at", day, zone, now, errors)
    if started and ended and ended < started:
        errors["ended_at"] = FieldError("ended_at", "ends_before_start")
    note = _note(form, errors)
    if errors:
        return None, errors
    return (
        DonationForm(
            bag_number,
            chosen["bag_type"],
            volume,
            started,
            ended,
            chosen["outcome"],
            chosen["adverse_event"],
            severity,
            note,
        ),
        {},
    )


def _choice(form, name, options, errors) -> str | None:
    value = form.get(name) or ""
    if value not in options:
        errors[name] = FieldError(name, "choice_invalid")
        return None
    return value


def _whole_number(form, name, bounds, errors) -> int | None:
    raw = (form.get(name) or "").strip()
    if not raw.isdecimal():  # isdigit() would let "²" through to int()
        errors[name] = FieldError(name, "required" if not raw else "number_invalid")
        return None
    value = int(raw)
    if not bounds[0] <= value <= bounds[1]:
        errors[name] = FieldError(name, "out_of_range", {"low": bounds[0], "high": bounds[1]})
        return None
    return value


def _clock_time(form, name, day: date, zone: ZoneInfo, now: datetime, errors) -> datetime | None:
    """HH:MM (24-hour clock) on the campaign day, at the venue."""
    try:
        clock = read_clock(form.get(name) or "")
    except Invalid as invalid:
        errors[name] = FieldError(name, invalid.code)
        return None
    if clock is None:
        errors[name] = FieldError(name, "required")
        return None
    moment = datetime.combine(day, clock, tzinfo=zone)
    if moment > now + timedelta(minutes=5):
        errors[name] = FieldError(name, "time_future")
        return None
    return moment


def measurements_of(screening: Screening) -> Measurements:
    return Measurements(**{name: getattr(screening, name) for name in MEASUREMENT_BOUNDS})


# --- the rules for this visit -------------------------------------------------------------------


def table_for(campaign: Campaign) -> RuleTable:
    return load_table(campaign.rules).adjusted(parse_thresholds(campaign.thresholds))


def history_of(session: Session, donor: Donor, before: Visit) -> History:
    """Donations known here (other visits) and from the centre's list, and known deferrals."""
    dates = set(
        session.scalars(
            select(Visit.queue_day)
            .join(Donation, Donation.visit_id == Visit.id)
            .where(Visit.donor_id == donor.id, Visit.id != before.id)
        )
    )
    if donor.last_donation_on and not _given_at(before, donor.last_donation_on):
        dates.add(donor.last_donation_on)
    return History(
        donation_dates=tuple(sorted(dates)),
        deferred_until=donor.deferred_until,
        deferred_permanently=donor.deferred_permanently,
        deferral_reason=donor.deferral_reason,
    )


def _given_at(visit: Visit, day: date) -> bool:
    """Whether `day` is this visit's own donation: the record, read again after the donation,
    must not count it against the donor ("last donation 0 weeks ago")."""
    donation = visit.donation
    return donation is not None and donation.outcome != NOT_A_DONATION and visit.queue_day == day


def findings_for(
    session: Session, visit: Visit, day: date, measurements: Measurements | None = None
) -> list[Finding]:
    donor = visit.donor
    subject = Subject(
        birth_date=donor.birth_date,
        sex=donor.sex,
        day=day,
        answers=answers_from_json(visit.answers),
        measurements=measurements or Measurements(),
        history=history_of(session, donor, visit),
    )
    return evaluate(subject, table_for(visit.campaign))


def rules_verdict(session: Session, visit: Visit, day: date):
    """A function of the measurements, for clean_screening."""
    return lambda measurements: verdict(findings_for(session, visit, day, measurements))


# --- recording ----------------------------------------------------------------------------------


def record_screening(
    session: Session, visit_id: int, form: ScreeningForm, day: date, actor, now: datetime
) -> Screening:
    with write_transaction(session):
        visit = _visit_at(session, visit_id, Stage.INTERVIEW)
        findings = findings_for(session, visit, day, form.measurements)
        screening = Screening(
            visit=visit,
            **{name: getattr(form.measurements, name) for name in MEASUREMENT_BOUNDS},
            decision=form.decision,
            deferral_reason=form.deferral_reason,
            deferral_until=form.deferral_until,
            tell_reason=form.tell_reason,
            note=form.note,
            findings=json.dumps([f.to_dict() for f in findings], ensure_ascii=False),
            doctor=actor.name,
            at=now,
        )
        session.add(screening)
        action = "accept" if form.decision == "eligible" else "defer"
        _leave_desk(session, visit, action, actor, now)
        _remember_deferral(visit.donor, form)
        return screening


def _leave_desk(session: Session, visit: Visit, action: str, actor, now: datetime) -> None:
    """The record moves the visit on from the desk it was called to; the event names that desk.
    (The desk is read before the event exists: the audit log cannot be changed once written.)"""
    desk = visit.desk
    event = transition(session, visit, action, actor=actor.name, device=actor.device, now=now)
    event.desk = desk
    visit.desk = None


def _remember_deferral(donor: Donor, form: ScreeningForm) -> None:
    """The next campaign knows of a deferral decided today."""
    if form.decision in ("deferred_permanent", "deferred_temporary"):
        permanent = form.decision == "deferred_permanent"
        until = None if permanent else form.deferral_until
        add_history(donor, deferral=Deferral(permanent, until, form.deferral_reason))


def record_donation(
    session: Session, visit_id: int, form: DonationForm, actor, now: datetime
) -> Donation:
    try:
        with write_transaction(session):
            visit = _visit_at(session, visit_id, Stage.COLLECTION)
            if _bag_used(session, form.bag_number):
                raise MedicalError("bag_used", bag_number=form.bag_number)
            donation = Donation(
                visit=visit,
                bag_number=form.bag_number,
                bag_type=form.bag_type,
                volume_ml=form.volume_ml,
                started_at=form.started_at,
                ended_at=form.ended_at,
                outcome=form.outcome,
                adverse_event=form.adverse_event,
                adverse_severity=form.adverse_severity,
                note=form.note,
                phlebotomist=actor.name,
                at=now,
            )
            session.add(donation)
            _leave_desk(session, visit, "donate", actor, now)
            _remember_donation(visit, form.outcome)
            return donation
    except IntegrityError:  # the same bag stored by another device a moment earlier
        raise MedicalError("bag_used", bag_number=form.bag_number) from None


def correct_donation(
    session: Session, visit_id: int, form: DonationForm, actor, now: datetime
) -> tuple[str, ...]:
    """The coordinator's correction of a stored donation record, at any time, even after the
    day is closed. Returns the names of the fields changed; the audit event keeps only those."""
    try:
        with write_transaction(session):
            visit = session.get(Visit, visit_id)
            donation = visit.donation if visit else None
            if donation is None:
                raise MedicalError("no_donation")
            changed = tuple(
                name
                for name in CORRECTABLE_DONATION_FIELDS
                if getattr(donation, name) != getattr(form, name)
            )
            if "bag_number" in changed and _bag_used(session, form.bag_number):
                raise MedicalError("bag_used", bag_number=form.bag_number)
            for name in changed:
                setattr(donation, name, getattr(form, name))
            if changed:
                _remember_donation(visit, form.outcome)
                record_event(
                    session,
                    visit,
                    "correct_donation",
                    actor=actor.name,
                    device=actor.device,
                    now=now,
                    detail=" ".join(changed),
                )
            return changed
    except IntegrityError:
        raise MedicalError("bag_used", bag_number=form.bag_number) from None


def _bag_used(session: Session, bag_number: str) -> bool:
    return session.scalar(select(Donation.id).where(Donation.bag_number == bag_number)) is not None


def _remember_donation(visit: Visit, outcome: str) -> None:
    """A donation that gave blood is the donor's latest. (A correction to a failed venipuncture
    leaves the date as it was: the date before this visit is not kept.)"""
    if outcome != NOT_A_DONATION:
        add_history(visit.donor, donated_on=visit.queue_day)


def finish_rest(session: Session, visit_id: int, actor, now: datetime) -> Visit:
    with write_transaction(session):
        visit = _visit_at(session, visit_id, Stage.REST)
        try:
            transition(session, visit, "finish", actor=actor.name, device=actor.device, now=now)
        except TransitionRefused:
            raise MedicalError("no_donation_recorded") from None
        return visit


def _visit_at(session: Session, visit_id: int, stage: Stage) -> Visit:
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise MedicalError("no_visit")
    if visit.stage != stage:
        raise MedicalError(f"not_at_{stage.value}")
    return visit
