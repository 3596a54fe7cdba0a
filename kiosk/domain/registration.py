"""Registering a donor at the kiosk: one transaction stores the donor, the visit with its queue
number, the first ticket and the audit event, or nothing at all.

Idempotent twice over: the same `request_id` (a double tap, a retry after a lost answer) gives
back the visit it created, and a CIN already registered in the campaign gives back that visit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk.db import write_transaction
from kiosk.domain.journey import record_event, start_visit
from kiosk.domain.queue import next_queue_number
from kiosk.domain.tokens import is_well_formed, new_token, token_hash
from kiosk.domain.validation import FieldError, Registration
from kiosk.models import Campaign, Donor, Ticket, Visit

KIOSK_ACTOR = "kiosk"
Outcome = Literal["new", "replayed", "already_registered"]


class RegistrationRefused(Exception):
    def __init__(self, errors: dict[str, FieldError]) -> None:
        super().__init__(", ".join(error.code for error in errors.values()))
        self.errors = errors


class CampaignClosed(Exception):
    pass


@dataclass(frozen=True)
class Registered:
    visit: Visit
    token: str
    outcome: Outcome


@dataclass(frozen=True)
class Context:
    """Where and when a registration happens."""

    campaign_id: int
    day: date
    now: datetime
    language: str
    device: str
    actor: str = KIOSK_ACTOR  # a receptionist registering a walk-in donor is named


def register(
    session: Session, registration: Registration, request_id: str, context: Context
) -> Registered:
    try:
        with write_transaction(session):
            return _register_locked(session, registration, request_id, context)
    except IntegrityError:
        # Only reachable where the database lets two writers in at once (PostgreSQL): the other
        # writer stored this request first, so answer with what it stored.
        with write_transaction(session):
            visit = _visit_for_request(session, request_id)
            if visit is None:
                raise
            return Registered(visit, _issue_ticket(session, visit, context), "replayed")


def find_visit_by_token(session: Session, token: str) -> Visit | None:
    if not is_well_formed(token):
        return None
    ticket = session.scalar(select(Ticket).where(Ticket.token_hash == token_hash(token)))
    return ticket.visit if ticket else None


def _register_locked(
    session: Session, registration: Registration, request_id: str, context: Context
) -> Registered:
    campaign = session.get(Campaign, context.campaign_id)
    if campaign is None or campaign.status != "open":
        raise CampaignClosed()
    replayed = _visit_for_request(session, request_id)
    if replayed is not None:
        return Registered(replayed, _issue_ticket(session, replayed, context), "replayed")

    donor = _returning_donor(session, registration)
    if donor is not None:
        visit = session.scalar(
            select(Visit).where(Visit.campaign_id == campaign.id, Visit.donor_id == donor.id)
        )
        if visit is not None:
            record_event(
                session,
                visit,
                "ticket_again",
                actor=context.actor,
                device=context.device,
                now=context.now,
            )
            return Registered(visit, _issue_ticket(session, visit, context), "already_registered")
        _update_donor(donor, registration, context.now)
    else:
        donor = _new_donor(registration, context.now)
        session.add(donor)

    visit = Visit(
        campaign_id=campaign.id,
        donor=donor,
        queue_day=context.day,
        queue_number=next_queue_number(session, campaign.id, context.day),
        registered_at=context.now,
        request_id=request_id,
        language=context.language,
    )
    session.add(visit)
    start_visit(session, visit, actor=context.actor, device=context.device, now=context.now)
    return Registered(visit, _issue_ticket(session, visit, context), "new")


def _visit_for_request(session: Session, request_id: str) -> Visit | None:
    return session.scalar(select(Visit).where(Visit.request_id == request_id))


def _returning_donor(session: Session, registration: Registration) -> Donor | None:
    """The donor with this CIN, if any. A CIN typed with another birth date is refused rather
    than trusted: it is a typing mistake or somebody else's card, and reception should look."""
    if registration.cin is None:
        return None
    donor = session.scalar(select(Donor).where(Donor.cin == registration.cin))
    if donor is not None and donor.birth_date != registration.birth_date:
        raise RegistrationRefused({"cin": FieldError("cin", "cin_mismatch")})
    return donor


def _new_donor(registration: Registration, now: datetime) -> Donor:
    donor = Donor(created_at=now)
    _update_donor(donor, registration, now)
    return donor


def _update_donor(donor: Donor, registration: Registration, now: datetime) -> None:
    donor.cin = registration.cin
    donor.first_name = registration.first_name
    donor.last_name = registration.last_name
    donor.sex = registration.sex
    donor.birth_date = registration.birth_date
    donor.phone = registration.phone
    donor.category = registration.category
    donor.updated_at = now


def _issue_ticket(session: Session, visit: Visit, context: Context) -> str:
    token = new_token()
    session.add(Ticket(visit=visit, token_hash=token_hash(token), issued_at=context.now))
    return token
