"""The staff side: home and desk picker, queue consoles, visit records, the coordinator's page."""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext

from kiosk.db import db
from kiosk.domain.campaigns import (
    CampaignError,
    close_campaign,
    current_campaign,
    update_medical_settings,
)
from kiosk.domain.eligibility import TABLES, THRESHOLD_BOUNDS
from kiosk.domain.exchange.signing import fingerprint, public_text, venue_key
from kiosk.domain.medical import table_for
from kiosk.domain.queue import (
    DESK_STAGES,
    SHOWN_IN_LINE,
    WAITING_FOR,
    Actor,
    QueueError,
    add_desk,
    board_version,
    call_next,
    desk_named,
    desks,
    line_head,
    mark_no_show,
    no_shows,
    put_back,
    recall,
    visit_at_desk,
)
from kiosk.domain.registration import (
    find_visit_by_number,
    find_visit_by_token,
    typed_queue_number,
)
from kiosk.domain.staff import ROLE_STAGES, choose_desk, list_staff, may
from kiosk.domain.tokens import TOKEN_LENGTH
from kiosk.printing.qr import qr_svg
from kiosk.web.auth import current_staff, staff_required
from kiosk.web.context import device, now, public_base_url, venue_today
from kiosk.web.messages import THRESHOLD_LABELS, campaign_message, queue_message
from kiosk.web.rendering import full_or_fragment, is_htmx, polled, see_other

bp = Blueprint("staff", __name__, url_prefix="/staff")

_TOKEN_IN_CODE = re.compile(rf"(?:/t/)?([A-Za-z0-9_-]{{{TOKEN_LENGTH}}})/?$")


def staff_actor() -> Actor:
    return Actor(current_staff().user.username, device())


def _stage_or_404(stage: str) -> str:
    if stage not in DESK_STAGES:
        abort(404)
    return stage


def _my_desk():
    return current_staff().desk


def _desks_for_me():
    role = current_staff().user.role
    stages = ROLE_STAGES.get(role, DESK_STAGES if role == "coordinator" else ())
    return [desk for desk in desks(db.session) if desk.stage in stages]


@bp.get("/")
@staff_required()
def index():
    return render_template("staff/index.html", **home_context())


def home_context(message: str | None = None) -> dict:
    staff = current_staff()
    return {
        "staff": staff,
        "campaign": current_campaign(db.session),
        "my_desks": _desks_for_me(),
        "queues": [stage for stage in DESK_STAGES if may(staff.user.role, "queue.view")],
        "message": message,
    }


@bp.post("/desk")
@staff_required()
def pick_desk():
    name = (request.form.get("desk") or "").strip()
    staff = current_staff()
    if not name:
        choose_desk(db.session, staff.id, None)
        return see_other(url_for("staff.index"))
    desk = desk_named(db.session, name)
    if desk is None or desk not in _desks_for_me():
        message = gettext(
            "There is no desk called “%(name)s” for you. Please pick one below.", name=name
        )
        return full_or_fragment(
            "staff/index.html", "staff/_desk_picker.html", 422, **home_context(message)
        )
    choose_desk(db.session, staff.id, desk.id)
    return see_other(url_for("staff.queue", stage=desk.stage))


# --- the queue console --------------------------------------------------------------------------


def _console_context(stage: str, message: str | None = None) -> dict:
    return {
        **home_context(message),
        **_desk_context(stage, message),
        **_waiting_context(stage, current_campaign(db.session)),
    }


def _desk_context(stage: str, message: str | None = None) -> dict:
    """What my desk's fragment shows: the answer to each of the desk's buttons."""
    desk = _my_desk()
    mine = desk is not None and desk.stage == stage
    return {
        "message": message,
        "stage": stage,
        "desk": desk if mine else None,
        "other_desk": desk if desk is not None and not mine else None,
        "can_call": _can_call(stage),
        "serving": visit_at_desk(db.session, desk) if mine else None,
        "recalls_first": current_app.config["NO_SHOW_AFTER_RECALLS"],
    }


def _can_call(stage: str) -> bool:
    desk = _my_desk()
    return (
        desk is not None
        and desk.stage == stage
        and may(current_staff().user.role, f"queue.{stage}")
    )


def _waiting_context(stage: str, campaign, version: int | None = None) -> dict:
    """The head of the line (SHOWN_IN_LINE of it) and how many more wait: a poll costs the same
    whatever the length of the queue."""
    if campaign is None:
        return {
            "waiting": [],
            "waiting_total": 0,
            "waiting_more": 0,
            "absent": [],
            "etag": _waiting_etag(0),
            "moment": now(),
        }
    if version is None:
        version = board_version(db.session, campaign.id)
    line = line_head(db.session, campaign.id, WAITING_FOR[stage])
    return {
        "waiting": line.shown,
        "waiting_total": line.total,
        "waiting_more": line.more,
        "absent": no_shows(db.session, campaign.id, stage, limit=SHOWN_IN_LINE),
        "etag": _waiting_etag(version),
        "moment": now(),
    }


def _waiting_etag(version: int) -> str:
    """Changes with every event, and every minute for the time waited."""
    return f"q{version}-{now():%H%M}"


@bp.get("/queue/<stage>")
@staff_required("queue.view")
def queue(stage: str):
    _stage_or_404(stage)
    return render_template("staff/queue.html", **_console_context(stage))


@bp.get("/queue/<stage>/waiting")
@staff_required("queue.view")
def waiting(stage: str):
    """The waiting list, polled: an unchanged list answers 304 with no body."""
    _stage_or_404(stage)
    if not is_htmx():
        return redirect(url_for("staff.queue", stage=stage))
    campaign = current_campaign(db.session)
    version = board_version(db.session, campaign.id) if campaign else 0

    def render() -> str:
        context = {"stage": stage, "can_call": _can_call(stage), "message": None}
        context.update(_waiting_context(stage, campaign, version))
        return render_template("staff/_waiting.html", **context)

    return polled(_waiting_etag(version), render)


def _desk_action(stage: str, action):
    """Runs one action of my desk; answers with my desk's fragment (or the whole console).
    An empty line is news, not a failure: it answers 200 with "nobody is waiting"."""
    _stage_or_404(stage)
    desk = _my_desk()
    if desk is None or desk.stage != stage:
        message = gettext("Choose your desk first.")
        return full_or_fragment(
            "staff/index.html", "staff/_desk_picker.html", 409, **home_context(message)
        )
    if not may(current_staff().user.role, f"queue.{stage}"):
        abort(403)
    message, status = None, 200
    try:
        action(desk)
    except QueueError as error:
        message = queue_message(error)
        status = 200 if error.code == "nobody_waiting" else 409
    response = full_or_fragment(
        "staff/queue.html",
        "staff/_desk.html",
        status,
        page_context=lambda: _console_context(stage, message),
        **_desk_context(stage, message),
    )
    # The waiting list beside my desk reads again at once: a donor just called leaves it.
    response.headers["HX-Trigger"] = "queue-changed"
    return response


def _call_next(desk) -> None:
    campaign = current_campaign(db.session)
    if campaign is None:
        raise QueueError("no_campaign")
    if call_next(db.session, campaign.id, desk, staff_actor(), now()) is None:
        raise QueueError("nobody_waiting")


def _mark_no_show(desk) -> None:
    recalls_first = current_app.config["NO_SHOW_AFTER_RECALLS"]
    mark_no_show(db.session, desk, staff_actor(), now(), recalls_first)


DESK_ACTIONS = {
    "call-next": _call_next,
    "recall": lambda desk: recall(db.session, desk, staff_actor(), now()),
    "no-show": _mark_no_show,
}


@bp.post("/queue/<stage>/<any('call-next', recall, 'no-show'):action>")
@staff_required("queue.view")
def desk_action(stage: str, action: str):
    return _desk_action(stage, DESK_ACTIONS[action])


@bp.post("/queue/<stage>/put-back")
@staff_required("queue.view")
def put_back_view(stage: str):
    _stage_or_404(stage)
    if not may(current_staff().user.role, f"queue.{stage}"):
        abort(403)
    visit_id = request.form.get("visit", "")
    message = None
    try:
        campaign = current_campaign(db.session)
        campaign_id = campaign.id if campaign else -1  # no open campaign: nothing to put back
        put_back(db.session, _row_id(visit_id), staff_actor(), now(), stage, campaign_id)
    except QueueError as error:
        message = queue_message(error)
    context = _console_context(stage, message)
    status = 409 if message else 200
    return full_or_fragment("staff/queue.html", "staff/_waiting.html", status, **context)


def _row_id(raw: str) -> int:
    """A row id from a form; 0 (no such row) for anything but digits a database integer holds."""
    return int(raw) if raw.isdecimal() and len(raw) <= 18 else 0


# --- the scanner field ----------------------------------------------------


@bp.get("/scan")
@staff_required("visit.view")
def scan():
    """What a barcode scanner types into the field (the ticket's URL, or its token), or a queue
    number typed by hand ("4", "004", "#4"): a number of today in the open campaign."""
    code = (request.args.get("code") or "").strip()[:500]
    found = _TOKEN_IN_CODE.search(code)
    if found and find_visit_by_token(db.session, found.group(1)) is not None:
        return redirect(url_for("records.show", key=found.group(1)), code=303)
    number = typed_queue_number(code)
    if number is None:
        message = gettext("No ticket matches this code. Scan it again or type the number.")
        return _scan_again(code, message)
    campaign = current_campaign(db.session)
    if campaign is None:
        return _scan_again(code, gettext("No campaign is open."))
    visit = find_visit_by_number(db.session, campaign.id, venue_today(), number)
    if visit is None:
        message = gettext(
            "Nobody has the number %(number)s today. Check the number on the ticket.",
            number=f"{number:03d}",
        )
        return _scan_again(code, message)
    return redirect(url_for("records.show", key=visit.id), code=303)


def _scan_again(code: str, message: str):
    """The staff home with the message, and what was typed still in the field; 404."""
    context = home_context(message)
    return render_template("staff/index.html", scan_code=code, **context), 404


# --- the coordinator's page ---------------------------------------------------------------------


@bp.get("/admin")
@staff_required("admin")
def admin():
    return render_template("staff/admin.html", **admin_context())


def admin_context(message: str | None = None, status_ok: bool = True) -> dict:
    staff_url = public_base_url() + url_for("staff.index")
    return {
        **home_context(message),
        "all_desks": desks(db.session),
        "accounts": list_staff(db.session),
        "staff_url": staff_url,
        "staff_qr": qr_svg(staff_url),
        "display_url": public_base_url() + url_for("display.show"),
        "venue_fingerprint": fingerprint(public_text(venue_key(current_app.instance_path))),
        "stages": DESK_STAGES,
        "ok": status_ok,
        **_medical_settings(),
    }


def _medical_settings() -> dict:
    campaign = current_campaign(db.session)
    if campaign is None:
        return {"tables": TABLES, "threshold_values": {}}
    return {
        "tables": TABLES,
        "threshold_values": table_for(campaign).thresholds,
        "threshold_bounds": THRESHOLD_BOUNDS,
    }


@bp.post("/admin/close")
@staff_required("admin")
def admin_close():
    """Ends the campaign day, once the coordinator has ticked the confirmation."""
    if request.form.get("confirm") != "yes":
        message = gettext("Tick the box to confirm that the day is over.")
        return render_template("staff/admin.html", **admin_context(message, False)), 422
    try:
        closed = close_campaign(db.session, staff_actor(), now())
    except CampaignError:
        return render_template(
            "staff/admin.html", **admin_context(gettext("No campaign is open."), False)
        ), 409
    message = gettext(
        "The campaign is closed: %(left)s visits marked left, %(done)s resting donors done.",
        left=closed.left,
        done=closed.finished,
    )
    return render_template("staff/admin.html", **admin_context(message))


@bp.post("/admin/medical")
@staff_required("admin")
def admin_medical():
    campaign = current_campaign(db.session)
    if campaign is None:
        abort(409)
    thresholds, problems = {}, []
    for name in THRESHOLD_BOUNDS:
        raw = (request.form.get(name) or "").strip().replace(",", ".")
        try:
            thresholds[name] = float(raw)
        except ValueError:
            problems.append(name)
    if problems:
        labels = ", ".join(str(THRESHOLD_LABELS[name]) for name in problems)
        message = gettext("Please give a number for: %(names)s", names=labels)
        return render_template("staff/admin.html", **admin_context(message, False)), 422
    try:
        update_medical_settings(
            db.session,
            campaign.id,
            request.form.get("rules") or "",
            (request.form.get("bag_numbers") or "")[:200],
            thresholds,
        )
    except CampaignError as error:
        message = campaign_message(error)
        return render_template("staff/admin.html", **admin_context(message, False)), 422
    return render_template("staff/admin.html", **admin_context(gettext("Saved.")))


# The desk form's field each refusal is shown next to.
DESK_ERROR_FIELDS = {
    "desk_other_name": "name_ar",
    "desk_other_characters": "name_ar",
    "desk_stage": "stage",
}


@bp.post("/admin/desks")
@staff_required("admin")
def admin_add_desk():
    name = (request.form.get("name") or "")[:100]
    name_ar = (request.form.get("name_ar") or "")[:100]
    stage = request.form.get("stage") or ""
    try:
        desk = add_desk(db.session, name, stage, {"ar": name_ar})
    except QueueError as error:
        field = DESK_ERROR_FIELDS.get(error.code, "name")
        return render_template(
            "staff/admin.html",
            **admin_context(None, False),
            desk_form={"name": name, "name_ar": name_ar, "stage": stage},
            desk_errors={field: queue_message(error)},
        ), 422
    message = gettext("Desk “%(name)s” added.", name=desk.name)
    return render_template("staff/admin.html", **admin_context(message))
