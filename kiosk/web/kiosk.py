"""The donor's side of the tablet: start page, registration wizard, final registration."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import replace
from functools import partial

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext

from kiosk.db import db
from kiosk.domain.campaigns import current_campaign
from kiosk.domain.questionnaire import (
    answers_to_json,
    clean_answers,
    implied_findings,
    questions_for,
)
from kiosk.domain.registration import (
    ALREADY_REGISTERED,
    CampaignClosed,
    Context,
    Held,
    Prepared,
    PublicLimits,
    known_donor,
    register,
)
from kiosk.domain.validation import (
    CATEGORIES,
    FIELDS,
    STEP_FIELDS,
    STEPS,
    FieldError,
    check_fields,
    date_part_names,
    date_text,
    next_step,
    previous_step,
    step_of_first_error,
    validate_registration,
)
from kiosk.web.auth import current_staff
from kiosk.web.context import device, now, pause, venue_today
from kiosk.web.device_cookie import who
from kiosk.web.errors import error_page
from kiosk.web.i18n import current_language
from kiosk.web.messages import CATEGORY_LABELS, SEX_LABELS, field_message
from kiosk.web.phone import forget_draft, keep_draft, prints_at_once, saved_draft
from kiosk.web.printing import printing_registered, registration_printer_hook
from kiosk.web.reception import found_by_cin
from kiosk.web.rendering import full_or_fragment, see_other

bp = Blueprint("kiosk", __name__)

DATE_PART_LENGTH = 10
_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
MAX_FIELD_LENGTH = 200


@bp.get("/")
def index():
    return redirect(url_for("kiosk.start", **request.args))


@bp.get("/healthz")
def health():
    return "ok", 200, {"Content-Type": "text/plain"}


@bp.get("/kiosk")
def start():
    return render_template("kiosk/start.html", campaign=current_campaign(db.session))


@bp.get("/kiosk/register")
def new_registration():
    """A new form; on a phone, the one its donor left half-filled (kiosk/web/phone.py)."""
    draft = saved_draft()
    if draft is not None and draft[0] in STEPS:
        return _render_wizard(*draft)
    return _render_wizard("identity", {})


@bp.get("/kiosk/questionnaire")
def questionnaire():
    """The questionnaire step on its own: every question's field, for every donor."""
    return _render_wizard("questionnaire", {})


@bp.post("/kiosk/wizard")
def wizard():
    """One step of the wizard: check its fields, then show the next (or the same with errors)."""
    values = _submitted_values(request.form)
    step = request.form.get("step")
    step = step if step in STEPS else "identity"
    go = request.form.get("go", "next")
    if request.form.get("switch_lang"):
        return _render_wizard(step, values)
    if go == "back":
        return _render_wizard(previous_step(step), values)
    if go == "lookup":
        known = _with_known_details(values)
        if known == ALREADY_REGISTERED:
            return already_registered()
        return _render_wizard("identity", known, looked_up=True)
    if go in STEPS[:-1]:  # "change" from the review goes back to an earlier step
        return _render_wizard(go, values)
    _, errors = check_fields(values, STEP_FIELDS[step], venue_today())
    if step == "questionnaire":
        errors.update(_questionnaire_errors(values))
    if errors:
        return _render_wizard(step, values, errors, status=422)
    return _render_wizard(next_step(step), values)


@bp.post("/kiosk/register")
def submit_registration():
    """Everything that needs no database happens before the registration's one write
    transaction (validation, the questionnaire, the ticket's token and its hash, the printed
    ticket's layout but its number); the redirect to the ticket (its QR) after the commit."""
    values = _submitted_values(request.form)
    today = venue_today()
    registration, errors = validate_registration(values, today)
    errors.update(_questionnaire_errors(values))
    if errors:
        return _render_wizard(step_of_first_error(errors), values, errors, status=422)
    answers, _ = clean_answers(values, registration.sex, today)
    campaign = current_campaign(db.session)
    if campaign is None:
        return _render_wizard("review", values, status=409, closed=True)
    staff = current_staff()
    actor = {"actor": staff.user.username} if staff else {}
    context = Context(campaign.id, today, now(), current_language(), device(), **actor)
    prepared = Prepared.new()
    limits = None if staff else _public_limits()
    print_ticket = (
        registration_printer_hook(campaign, registration, prepared.token, context)
        if prints_at_once()
        else None
    )
    attempt = partial(
        register,
        db.session,
        registration,
        values["request_id"],
        context,
        answers_to_json(answers),
        print_ticket=print_ticket,
        prepared=prepared,
    )
    try:
        registered = attempt(limits=limits)
        if isinstance(registered, Held) and registered.delay_seconds:
            # Repeated CIN misses from here: slowed down, outside the write lock.
            pause(registered.delay_seconds)
            registered = attempt(limits=replace(limits, cin_try=registered.cin_try))
    except CampaignClosed:
        return _render_wizard("review", values, status=409, closed=True)
    if isinstance(registered, Held):
        return too_many_registrations(registered.retry_after)
    forget_draft()
    if registered.outcome == ALREADY_REGISTERED:
        if staff is not None:
            return found_by_cin(registration.cin)
        return already_registered()
    printing_registered()
    return see_other(url_for("ticket.show", token=registered.token))


def _public_limits() -> PublicLimits:
    """A donor's registration takes its place in its device's and address's minute, and its CIN
    counts as a try of the CIN counters (kiosk/domain/throttle.py); a replayed request (a double
    tap, a retry) gets its ticket again without counting."""
    config = current_app.config
    return PublicLimits(
        who(),
        config["REGISTRATIONS_PER_DEVICE_PER_MINUTE"],
        config["REGISTRATIONS_PER_ADDRESS_PER_MINUTE"],
        config["CIN_MISSES_PER_MINUTE"],
    )


def already_registered():
    """The same answer for every CIN registered today, whatever birth date came with it: no
    ticket, no number, no name, not even what was typed."""
    return full_or_fragment("kiosk/already.html", "kiosk/_already.html")


def too_many_registrations(retry_after: int):
    response = error_page(
        429,
        gettext("This tablet is registering too quickly."),
        gettext("Please wait a minute, then try again, or ask a member of staff."),
    )
    response.headers["Retry-After"] = str(retry_after)
    return response


def _submitted_values(form: Mapping[str, str]) -> dict[str, str]:
    """The wizard's own fields only, each cut to a sane length; a fresh request id if absent.

    Dates (the birth date, a vaccine's…) come in three boxes, day, month and year: a native date
    picker shows month-first or day-first depending on the browser, and scrolling back 40 years
    on a touch screen is no kindness. The boxes are kept to be shown back as typed, and joined
    into the date field itself, which is what the next steps carry. A plain POST may send the
    date field itself as YYYY-MM-DD."""
    values = {name: (form.get(name) or "")[:MAX_FIELD_LENGTH] for name in FIELDS}
    values.update(_question_values(form))
    for name in ("birth_date", *_question_date_names()):
        values.update(_typed_date(form, name))
    request_id = form.get("request_id") or ""
    values["request_id"] = request_id if _REQUEST_ID.fullmatch(request_id) else _new_request_id()
    return values


def _typed_date(form: Mapping[str, str], name: str) -> dict[str, str]:
    """A date field's boxes as typed (if sent) and its text (see `date_text`), if any."""
    boxes = {
        part: (form.get(part) or "")[:DATE_PART_LENGTH]
        for part in date_part_names(name)
        if part in form
    }
    text = date_text({**boxes, name: (form.get(name) or "")[:MAX_FIELD_LENGTH]}, name)
    return {**boxes, name: text} if text or boxes else {}


def _with_known_details(values: dict[str, str]) -> dict[str, str] | str:
    """A returning donor's details from their CIN and birth date, to confirm, not retype.
    Only empty fields are filled: what the donor typed wins."""
    today = venue_today()
    cin, _ = check_fields(values, ("cin", "birth_date"), today)
    campaign = current_campaign(db.session)
    donor = known_donor(
        db.session,
        cin.get("cin"),
        cin.get("birth_date"),
        who(),
        now(),
        campaign_id=campaign.id if campaign else None,
        sleep=pause,
        misses=current_app.config["CIN_MISSES_PER_MINUTE"],
    )
    if donor is None or donor == ALREADY_REGISTERED:
        return donor or values
    known = {
        "first_name": donor.first_name,
        "last_name": donor.last_name,
        "sex": donor.sex,
        "phone": _national_phone(donor.phone),
        "category": donor.category,
    }
    return {**values, **{k: v for k, v in known.items() if v and not values.get(k)}}


def _national_phone(e164: str | None) -> str:
    return "0" + e164.removeprefix("+212") if e164 else ""


def _question_values(form: Mapping[str, str]) -> dict[str, str]:
    """The questionnaire's answers, for the questions that exist only (their dates: see
    `_typed_date`)."""
    names = {question.field_name for question in questions_for(None)}
    return {name: (form.get(name) or "")[:20] for name in names if form.get(name)}


def _question_date_names() -> tuple[str, ...]:
    return tuple(q.date_field_name for q in questions_for(None) if q.asks_date)


def _question_fields() -> frozenset[str]:
    """The fields the questionnaire step carries on to the next ones: answers and dates."""
    answers = {question.field_name for question in questions_for(None)}
    return frozenset(answers | set(_question_date_names()))


def _questionnaire_errors(values: dict[str, str]) -> dict[str, FieldError]:
    sex = values.get("sex", "").upper() or None
    _, errors = clean_answers(values, sex if sex in ("F", "M") else None, venue_today())
    # The date of a vaccine or a surgery, not of a birth: its own wording.
    codes = {"date_future": "answer_date_future"}
    return {name: FieldError(name, codes.get(code, code)) for name, code in errors.items()}


def _new_request_id() -> str:
    return uuid.uuid4().hex


def _render_wizard(
    step: str,
    values: dict[str, str],
    errors: dict[str, FieldError] | None = None,
    status: int = 200,
    closed: bool = False,
    looked_up: bool = False,
):
    values = values or {"request_id": _new_request_id()}
    errors = errors or {}
    if not closed:
        keep_draft(step, values)
    review = validate_registration(values, venue_today())[0] if step == "review" else None
    sex = values.get("sex", "").upper()
    questions = questions_for(sex if sex in ("F", "M") else None)
    answers, _ = clean_answers(values, sex or None, venue_today())
    return full_or_fragment(
        "kiosk/register.html",
        "kiosk/_wizard.html",
        status=status,
        step=step,
        step_number=STEPS.index(step) + 1,
        step_count=len(STEPS),
        step_fields=STEP_FIELDS,
        values=values,
        errors={name: field_message(error) for name, error in errors.items()},
        review=review,
        closed=closed,
        looked_up=looked_up,
        categories=[(code, CATEGORY_LABELS[code]) for code in CATEGORIES],
        sexes=SEX_LABELS,
        category_labels=CATEGORY_LABELS,
        questions=questions,
        question_values={k: v for k, v in values.items() if k in _question_fields()},
        doctor_will_talk=bool(implied_findings(answers, sex or None, venue_today())),
        review_answers=answers,
        today=venue_today(),
    )
