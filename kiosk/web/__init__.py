"""The web side: blueprints, languages, errors and the headers every answer carries."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_babel import format_date, format_datetime
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

from kiosk.web import errors, i18n
from kiosk.web.messages import (
    ADVERSE_EVENT_LABELS,
    BAG_TYPE_LABELS,
    DECISION_LABELS,
    DEFERRAL_REASON_LABELS,
    DESK_STAGE_LABELS,
    DONATION_OUTCOME_LABELS,
    EVENT_LABELS,
    OUTCOME_LABELS,
    ROLE_LABELS,
    SEVERITY_LABELS,
    SEX_LABELS,
    STAGE_LABELS,
    THRESHOLD_LABELS,
)

csrf = CSRFProtect()
htmx = Htmx()

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def init_web(app: Flask) -> None:
    csrf.init_app(app)
    htmx.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)

    from kiosk.web.auth import bp as auth_bp
    from kiosk.web.display import bp as display_bp
    from kiosk.web.exports import bp as exports_bp
    from kiosk.web.kiosk import bp as kiosk_bp
    from kiosk.web.records import bp as records_bp
    from kiosk.web.staff import bp as staff_bp
    from kiosk.web.ticket import bp as ticket_bp

    for blueprint in (kiosk_bp, ticket_bp, auth_bp, staff_bp, records_bp, display_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(exports_bp)
    app.after_request(_protective_headers)
    app.jinja_env.filters.update(
        format_campaign_day=lambda day: format_date(day, "full"),
        format_birth_date=lambda day: format_date(day, "long"),
        format_moment=lambda moment: format_datetime(moment, "d MMMM y · HH:mm"),
        format_clock=lambda moment: format_datetime(moment, "HH:mm"),
        queue_number=lambda number: f"{number:03d}",
    )
    app.jinja_env.globals.update(
        stage_labels=STAGE_LABELS,
        desk_stage_labels=DESK_STAGE_LABELS,
        role_labels=ROLE_LABELS,
        event_labels=EVENT_LABELS,
        sex_labels=SEX_LABELS,
        decision_labels=DECISION_LABELS,
        deferral_reason_labels=DEFERRAL_REASON_LABELS,
        bag_type_labels=BAG_TYPE_LABELS,
        donation_outcome_labels=DONATION_OUTCOME_LABELS,
        adverse_event_labels=ADVERSE_EVENT_LABELS,
        severity_labels=SEVERITY_LABELS,
        severity_choices={"": "—", **SEVERITY_LABELS},
        outcome_labels=OUTCOME_LABELS,
        threshold_labels=THRESHOLD_LABELS,
    )


def _protective_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # Ticket URLs carry a token: never leak them to another site.
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    if request.endpoint != "static":
        # A kiosk is shared: Back must never show the previous donor's page.
        headers["Cache-Control"] = "no-store"
    return response
