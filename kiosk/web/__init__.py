"""The web side: blueprints, languages, errors and the headers every answer carries."""

from __future__ import annotations

from babel.lists import format_list
from flask import Flask
from flask_babel import format_date, format_datetime, get_locale
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

from kiosk.domain.names import in_language
from kiosk.web import dates, device_cookie, errors, guard, i18n, security_headers, voice
from kiosk.web.i18n import current_language
from kiosk.web.messages import (
    ACTOR_LABELS,
    ADVERSE_EVENT_LABELS,
    BAG_TYPE_LABELS,
    DECISION_LABELS,
    DEFERRAL_REASON_LABELS,
    DESK_STAGE_LABELS,
    DONATION_OUTCOME_LABELS,
    EVENT_LABELS,
    FIELD_LABELS,
    OUTCOME_LABELS,
    ROLE_LABELS,
    SEVERITY_LABELS,
    SEX_LABELS,
    STAGE_LABELS,
    THRESHOLD_LABELS,
)

csrf = CSRFProtect()
htmx = Htmx()


def init_web(app: Flask) -> None:
    csrf.init_app(app)
    htmx.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    dates.init_app(app)

    from kiosk.web.auth import bp as auth_bp
    from kiosk.web.display import bp as display_bp
    from kiosk.web.exports import bp as exports_bp
    from kiosk.web.kiosk import bp as kiosk_bp
    from kiosk.web.phone import bp as phone_bp
    from kiosk.web.reception import bp as reception_bp
    from kiosk.web.records import bp as records_bp
    from kiosk.web.report import bp as report_bp
    from kiosk.web.staff import bp as staff_bp
    from kiosk.web.ticket import bp as ticket_bp

    for blueprint in (kiosk_bp, ticket_bp, auth_bp, staff_bp, records_bp, display_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(report_bp)
    app.register_blueprint(exports_bp)
    app.register_blueprint(reception_bp)
    app.register_blueprint(phone_bp)
    device_cookie.init_app(app)
    guard.init_app(app)
    voice.init_app(app)
    security_headers.init_app(app)
    # Browsers ask every site for /favicon.ico: the static file (a red drop), not a 404.
    app.add_url_rule(
        "/favicon.ico",
        endpoint="static",
        defaults={"filename": "favicon.ico"},
        view_func=app.view_functions["static"],
    )
    app.jinja_env.filters.update(
        format_campaign_day=lambda day: format_date(day, "full"),
        format_birth_date=lambda day: format_date(day, "long"),
        format_moment=lambda moment: format_datetime(moment, "d MMMM y · HH:mm"),
        format_clock=lambda moment: format_datetime(moment, "HH:mm"),
        queue_number=lambda number: f"{number:03d}",
        field_list=_field_list,
        site_name=lambda campaign, language=None: in_language(
            campaign.site_names, language or current_language(), campaign.site
        ),
        centre_name=lambda campaign, language=None: in_language(
            campaign.centre_names, language or current_language(), campaign.regional_centre
        ),
        desk_name=lambda desk, language=None: in_language(
            desk.names, language or current_language(), desk.name
        ),
        actor_name=_actor_name,
    )
    app.jinja_env.globals.update(
        stage_labels=STAGE_LABELS,
        desk_stage_labels=DESK_STAGE_LABELS,
        role_labels=ROLE_LABELS,
        event_labels=EVENT_LABELS,
        field_labels=FIELD_LABELS,
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

    from kiosk.web.printing import init_printing

    init_printing(app)

    from kiosk.web.replica import init_replica

    init_replica(app)


def _actor_name(actor: str) -> str:
    """Who did it, as the history shows it: a person's user name as is, the app's own actors
    ("kiosk", "system", "display", "server") in the page's language."""
    label = ACTOR_LABELS.get(actor)
    return str(label) if label is not None else actor


def _field_list(names: str) -> str:
    """The form fields an event names ("bag_number volume_ml"), labelled and joined as the
    language joins words: "Numéro de poche et Volume (mL)", "رقم الكيس والحجم (مل)"."""
    labels = [str(FIELD_LABELS.get(name, name)) for name in names.split()]
    return format_list(labels, locale=get_locale())
