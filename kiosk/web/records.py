"""A visit's record for staff: the form of the visit's stage first (the doctor's screening, the
phlebotomist's donation, the end of the rest), then identity, questionnaire with the rules'
findings, past visits and the journey so far.

Every route takes the visit's key: its row id (the console's links, a typed queue number) or its
ticket's token (a scanned QR code). Both resolve through `find_visit_by_key`; the page's forms post
to the key it was opened with, so a record opened from a ticket keeps its ticket (to print it again)
and one opened from the console needs none."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, url_for
from sqlalchemy import select

from kiosk.db import db
from kiosk.domain.eligibility import verdict
from kiosk.domain.medical import (
    MedicalError,
    clean_donation,
    clean_measurements,
    clean_screening,
    correct_donation,
    findings_for,
    finish_rest,
    measurements_of,
    record_donation,
    record_screening,
    rules_verdict,
)
from kiosk.domain.questionnaire import answers_from_json, questions_for
from kiosk.domain.registration import find_visit_by_key, is_row_id
from kiosk.domain.staff import note_record_opened, record_rights
from kiosk.domain.validation import age_on
from kiosk.models import Event, Visit
from kiosk.timezones import venue_zone
from kiosk.web import printing
from kiosk.web.auth import current_staff, staff_required
from kiosk.web.context import now, venue_today
from kiosk.web.messages import RECORD_NOTICES, STAGE_LABELS, field_message, medical_message
from kiosk.web.rendering import see_other
from kiosk.web.staff import home_context, staff_actor

bp = Blueprint("records", __name__, url_prefix="/staff/visits")


def _visit_or_404(key: str) -> Visit:
    visit = find_visit_by_key(db.session, key)
    if visit is None:
        abort(404)
    return visit


def _record_context(key: str, visit: Visit, **extra) -> dict:
    donor = visit.donor
    role = current_staff().user.role
    measurements = measurements_of(visit.screening) if visit.screening else None
    findings = findings_for(db.session, visit, visit.queue_day, measurements)
    return {
        **home_context(extra.pop("message", None)),
        "key": key,
        # The ticket's token, only when the record was opened with it: printing the ticket again
        # needs it (the QR code carries it) and the database keeps only its hash.
        "token": None if is_row_id(key) else key,
        "visit": visit,
        "donor": donor,
        "age": age_on(donor.birth_date, visit.queue_day),
        "stage_label": STAGE_LABELS.get(visit.stage, visit.stage),
        "events": db.session.scalars(
            select(Event)
            .where(Event.visit_id == visit.id, Event.campaign_id.is_not(None))
            .order_by(Event.id)
        ).all(),
        "questions": questions_for(donor.sex),
        "answers": answers_from_json(visit.answers),
        "findings": findings,
        "findings_by_code": {f.code: f for f in findings},
        "verdict": verdict(findings),
        "unscreened": visit.screening is None,
        "past_visits": db.session.scalars(
            select(Visit)
            .where(Visit.donor_id == donor.id, Visit.id != visit.id)
            .order_by(Visit.queue_day.desc())
        ).all(),
        **record_rights(role, visit.stage, visit.donation is not None),
        "correction": _donation_as_form(visit.donation) if visit.donation else {},
        "correction_errors": {},
        "correcting": False,
        "form": request.form if request.method == "POST" else {},
        "errors": {},
        "today": venue_today(),
        **extra,
    }


@bp.get("/<key>")
@staff_required("visit.view")
def show(key: str):
    visit = _visit_or_404(key)
    actor = staff_actor()
    note_record_opened(db.session, visit.id, (actor.name, actor.device), now())
    visit = db.session.get(Visit, visit.id)
    notice = RECORD_NOTICES.get(request.args.get("notice", ""))
    return render_template("staff/visit.html", **_record_context(key, visit, notice=notice))


@bp.post("/<key>/findings")
@staff_required("screening")
def live_findings(key: str):
    """The rules' findings for the values typed so far (HTMX, while the doctor types)."""
    visit = _visit_or_404(key)
    measurements, missing_or_wrong = clean_measurements(request.form)
    findings = findings_for(db.session, visit, visit.queue_day, measurements)
    return render_template(
        "staff/_findings.html",
        findings=findings,
        verdict=verdict(findings),
        unscreened=bool(missing_or_wrong),
        live=True,
    )


@bp.post("/<key>/screening")
@staff_required("screening")
def screening(key: str):
    visit = _visit_or_404(key)
    form, errors = clean_screening(
        request.form, rules_verdict(db.session, visit, visit.queue_day), venue_today()
    )
    if errors:
        return _form_again(key, visit, errors)
    try:
        record_screening(db.session, visit.id, form, visit.queue_day, staff_actor(), now())
    except MedicalError as error:
        return _form_again(key, visit, {}, medical_message(error))
    printing.queue_slip(visit.id)
    return see_other(url_for("records.show", key=key))


@bp.post("/<key>/donation")
@staff_required("donation")
def donation(key: str):
    visit = _visit_or_404(key)
    form, errors = _read_donation_form(visit)
    if errors:
        return _form_again(key, visit, errors)
    try:
        record_donation(db.session, visit.id, form, staff_actor(), now())
    except MedicalError as error:
        field = "bag_number" if error.code == "bag_used" else None
        if field:
            return _form_again(key, visit, {}, None, {field: medical_message(error)})
        return _form_again(key, visit, {}, medical_message(error))
    printing.queue_slip(visit.id)
    return see_other(url_for("records.show", key=key))


@bp.post("/<key>/donation/correct")
@staff_required("record.correct")
def donation_correction(key: str):
    visit = _visit_or_404(key)
    form, errors = _read_donation_form(visit)
    if errors:
        return _correction_again(key, visit, errors)
    try:
        changed = correct_donation(db.session, visit.id, form, staff_actor(), now())
    except MedicalError as error:
        if error.code == "bag_used":
            return _correction_again(key, visit, {}, {"bag_number": medical_message(error)})
        return _form_again(key, visit, {}, medical_message(error))
    notice = "corrected" if changed else "unchanged"
    return see_other(url_for("records.show", key=key, notice=notice))


def _read_donation_form(visit: Visit):
    """The donation form as posted, checked against the visit's day and bag number policy."""
    zone = venue_zone(current_app.config["TIMEZONE"])
    return clean_donation(request.form, visit.campaign.bag_numbers, visit.queue_day, zone, now())


def _donation_as_form(donation) -> dict[str, str]:
    """A stored donation as the donation form's fields, for the coordinator's correction."""
    zone = venue_zone(current_app.config["TIMEZONE"])
    return {
        "bag_number": donation.bag_number,
        "bag_type": donation.bag_type,
        "volume_ml": str(donation.volume_ml),
        "started_at": donation.started_at.astimezone(zone).strftime("%H:%M"),
        "ended_at": donation.ended_at.astimezone(zone).strftime("%H:%M"),
        "outcome": donation.outcome,
        "adverse_event": donation.adverse_event,
        "adverse_severity": donation.adverse_severity or "",
        "note": donation.note or "",
    }


def _correction_again(key, visit, errors, extra_errors=None):
    """The record with the correction form open again, as typed, with its errors; 422."""
    shown = {name: field_message(error) for name, error in errors.items()}
    shown.update(extra_errors or {})
    context = _record_context(
        key, visit, correction=request.form, correction_errors=shown, correcting=True
    )
    return render_template("staff/visit.html", **context), 422


@bp.post("/<key>/finish")
@staff_required("rest.finish")
def finish(key: str):
    visit = _visit_or_404(key)
    try:
        finish_rest(db.session, visit.id, staff_actor(), now())
    except MedicalError as error:
        return _form_again(key, visit, {}, medical_message(error))
    return see_other(url_for("records.show", key=key))


def _form_again(key, visit, errors, message=None, extra_errors=None):
    """The record again with the typed values and a message next to each field; 422."""
    shown = {name: field_message(error) for name, error in errors.items()}
    shown.update(extra_errors or {})
    context = _record_context(key, visit, message=message, errors=shown)
    return render_template("staff/visit.html", **context), 422
