"""Thermal printing seen from the web: the layouts built in the donor's language, the jobs queued
by a registration, a decision or a donation, their status at the kiosk and on the coordinator's
page, and the staff's reprint button."""

from __future__ import annotations

import logging
from dataclasses import replace

from flask import Blueprint, Flask, abort, current_app, render_template, url_for
from flask_babel import force_locale, format_date, format_datetime, gettext
from sqlalchemy.orm import Session

from kiosk.config import ConfigError
from kiosk.db import db
from kiosk.domain.names import in_language
from kiosk.domain.registration import find_visit_by_token
from kiosk.domain.slips import (
    DEFERRAL_SLIP,
    THANKS_SLIP,
    next_donation_for,
    reason_the_donor_may_read,
    slip_kind,
)
from kiosk.models import Visit
from kiosk.printing import jobs as print_jobs
from kiosk.printing.jobs import add_job, latest_job, queue_state
from kiosk.printing.layout import MOMENT, Layout
from kiosk.printing.text import FontError
from kiosk.printing.worker import SETTINGS, PrinterSettings, notify_worker, printer_settings
from kiosk.web.auth import staff_required
from kiosk.web.context import now, public_base_url
from kiosk.web.messages import DEFERRAL_ADVICE, DEFERRAL_REASON_LABELS, PRINT_KIND_LABELS
from kiosk.web.rendering import see_other
from kiosk.web.staff import staff_actor

log = logging.getLogger(__name__)
bp = Blueprint("printing", __name__)


def init_printing(app: Flask) -> None:
    try:
        app.extensions[SETTINGS] = printer_settings(app.config)
    except (ValueError, FontError) as error:
        raise ConfigError(str(error)) from None
    app.register_blueprint(bp)
    app.jinja_env.globals.update(
        printer=lambda: app.extensions[SETTINGS],
        ticket_print_job=lambda visit: latest_job(db.session, visit.id),
        print_queue_state=lambda: queue_state(db.session),
        print_kind_labels=PRINT_KIND_LABELS,
    )


def configured_printer() -> PrinterSettings | None:
    return current_app.extensions.get(SETTINGS)


# --- layouts ---------------------------------------------------------------------------------


def ticket_layout(visit: Visit, token: str, language: str) -> Layout:
    """The ticket in `language`: what the page shows and the printer prints."""
    return _ticket_layout(
        visit.campaign,
        visit.donor.first_name,
        visit.registered_at,
        visit.queue_number,
        token,
        language,
    )


def _ticket_layout(campaign, first_name, registered_at, number: int, token: str, language: str):
    with force_locale(_locale(language)):
        return Layout(
            kind="ticket",
            language=language,
            campaign=campaign.name,
            site=in_language(campaign.site_names, language, campaign.site),
            moment=format_datetime(registered_at, MOMENT),
            number_label=gettext("Your number"),
            number=number,
            first_name=first_name,
            url=public_base_url() + url_for("ticket.status", token=token),
            lines=(
                gettext(
                    "Scan to follow your place in the queue. "
                    "Keep this ticket until the end of your visit."
                ),
            ),
        )


def slip_layout(visit: Visit) -> Layout | None:
    """The deferral slip or the thank-you slip (next eligible date), in the donor's language;
    None when the visit calls for neither."""
    language = visit.language
    with force_locale(_locale(language)):
        lines = _slip_lines(visit)
        if lines is None:
            return None
        kind, texts = lines
        return Layout(
            kind=kind,
            language=language,
            campaign=visit.campaign.name,
            site=in_language(visit.campaign.site_names, language, visit.campaign.site),
            moment=format_datetime(now(), MOMENT),
            number_label=gettext("Number"),
            number=visit.queue_number,
            first_name=visit.donor.first_name,
            lines=tuple(texts),
        )


def _slip_lines(visit: Visit) -> tuple[str, list[str]] | None:
    kind = slip_kind(visit)
    if kind == DEFERRAL_SLIP:
        screening = visit.screening
        if screening.deferral_until:
            texts = [
                gettext(
                    "Thank you for coming. The doctor asks you to wait before giving blood: "
                    "you will be welcome again from %(date)s.",
                    date=_unbroken(format_date(screening.deferral_until, "long")),
                )
            ]
        else:
            texts = [
                gettext(
                    "Thank you for coming. As the doctor explained, giving blood is not "
                    "possible for you; you can help in many other ways, starting by bringing "
                    "others."
                )
            ]
        reason = reason_the_donor_may_read(visit)
        if reason:
            texts.append(gettext("Reason: %(reason)s", reason=DEFERRAL_REASON_LABELS[reason]))
            if reason in DEFERRAL_ADVICE:
                texts.append(str(DEFERRAL_ADVICE[reason]))
        return kind, texts
    if kind == THANKS_SLIP:
        again = next_donation_for(visit)
        return kind, [
            gettext("Thank you! Your blood will help patients of the region."),
            gettext(
                "You may give blood again from %(date)s.",
                date=_unbroken(format_date(again, "long")),
            ),
        ]
    return None


def _unbroken(text: str) -> str:
    """A date kept on one printed row."""
    return text.replace(" ", "\u00a0")


def _locale(language: str) -> str:
    return f"{language}_MA"


# --- queueing --------------------------------------------------------------------------------


def ticket_printer_hook():
    """For the registration: adds the ticket's print job inside its transaction, when a printer
    is configured; None otherwise."""
    if configured_printer() is None:
        return None

    def queue_ticket(session: Session, visit: Visit, token: str) -> None:
        session.flush()  # a new visit's campaign and donor, loaded
        try:
            layout = ticket_layout(visit, token, visit.language)
        except Exception:  # never a registration lost to the printer: the screen has the ticket
            log.exception("the ticket of visit %s could not be laid out for the printer", visit.id)
            return
        add_job(session, layout, now(), visit=visit)

    return queue_ticket


def registration_printer_hook(campaign, registration, token: str, context):
    """For a donor's registration: the ticket laid out before the write lock (all of it but the
    queue number, which only the transaction knows), added as a print job inside it; None
    without a printer."""
    if configured_printer() is None:
        return None
    try:
        layout = _ticket_layout(
            campaign, registration.first_name, context.now, 0, token, context.language
        )
    except Exception:  # never a registration lost to the printer: the screen has the ticket
        log.exception("a ticket could not be laid out for the printer")
        return None

    def queue_ticket(session: Session, visit: Visit, token: str) -> None:
        add_job(session, replace(layout, number=visit.queue_number), context.now, visit=visit)

    return queue_ticket


def printing_registered() -> None:
    """After the commit: wake the worker so the ticket prints at once."""
    if configured_printer() is not None:
        notify_worker(current_app)


def queue_slip(visit_id: int) -> None:
    """After a decision or a donation: the slip that goes with it, if any and if a printer is
    configured. The record is already stored; a failure here is logged, never shown as one."""
    if configured_printer() is None:
        return
    try:
        queued = print_jobs.queue_slip(
            db.session, visit_id, slip_layout, now(), requested_by=staff_actor().name
        )
    except Exception:
        log.exception("the slip of visit %s could not be queued", visit_id)
        return
    if queued:
        notify_worker(current_app)


# --- routes ----------------------------------------------------------------------------------


@bp.post("/staff/visits/<token>/reprint")
@staff_required("visit.view")
def reprint(token: str):
    """Prints the ticket again (a lost ticket, a jammed printer): a new job, and an audit line."""
    visit = find_visit_by_token(db.session, token)
    if visit is None:
        abort(404)
    if configured_printer() is None:
        return see_other(url_for("ticket.show", token=token))
    print_jobs.reprint_ticket(
        db.session,
        visit.id,
        lambda visit: ticket_layout(visit, token, visit.language),
        staff_actor(),
        now(),
    )
    notify_worker(current_app)
    return see_other(url_for("records.show", key=token) + "#printing")


@bp.get("/staff/printing")
@staff_required("admin")
def admin_panel():
    """The coordinator's printer panel alone, for its refresh."""
    return render_template("printing/_admin_panel.html")
