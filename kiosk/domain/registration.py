"""Registering a donor at the kiosk: one transaction stores the donor, the visit with its queue
number, the first ticket and the audit event, or nothing at all.

Idempotent: the same `request_id` from the same device (a double tap, a retry after a lost
answer) gives back the visit it created. A CIN already registered in the campaign is *not* given
its ticket again: the kiosk is public, and a CIN and a birth date are printed on a card that
family and colleagues have seen. That donor is sent to reception, who check the card and reprint
(kiosk/domain/reception.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk.db import write_transaction
from kiosk.domain.journey import record_event, start_visit
from kiosk.domain.queue import next_queue_number
from kiosk.domain.throttle import (
    CIN_MISSES,
    Who,
    cin_try_locked,
    registration_place_locked,
    reserve_cin_try,
    settle,
    settle_locked,
)
from kiosk.domain.tokens import is_well_formed, new_token, token_hash
from kiosk.domain.validation import Registration
from kiosk.models import Campaign, Donor, Event, Ticket, Visit

KIOSK_ACTOR = "kiosk"
Outcome = Literal["new", "replayed", "already_registered"]
ALREADY_REGISTERED = "already_registered"


class CampaignClosed(Exception):
    pass


@dataclass(frozen=True)
class Registered:
    visit: Visit
    token: str | None  # None when already registered: no ticket is issued
    outcome: Outcome
    cin_conflict: bool = False


@dataclass(frozen=True)
class Context:
    """Where and when a registration happens."""

    campaign_id: int
    day: date
    now: datetime
    language: str
    device: str
    actor: str = KIOSK_ACTOR  # a receptionist registering a walk-in donor is named


@dataclass(frozen=True)
class PublicLimits:
    """The limits a donor's own registration meets (kiosk/domain/throttle.py): its place in its
    device's and address's minute, and its CIN as a try of the CIN counters. Counted inside the
    registration's own write transaction: one commit for the place, the try and the visit.
    `cin_try` is a try already reserved and waited for (see Held), to settle."""

    who: Who
    per_device: int
    per_address: int
    cin_misses: int = CIN_MISSES
    cin_try: int | None = None


@dataclass(frozen=True)
class Held:
    """No registration yet: refused by the limits (`retry_after` seconds), or a CIN try to slow
    down (`delay_seconds`, its try reserved as `cin_try`): wait, then register again with it,
    never holding the write lock while waiting."""

    retry_after: int = 0
    delay_seconds: float = 0.0
    cin_try: int | None = None


@dataclass(frozen=True)
class Prepared:
    """What a registration needs that does not depend on the database, made before the write
    lock: the ticket's token and its hash."""

    token: str
    token_hash: str

    @classmethod
    def new(cls) -> Prepared:
        token = new_token()
        return cls(token, token_hash(token))


def register(
    session: Session,
    registration: Registration,
    request_id: str,
    context: Context,
    answers: str = "{}",
    print_ticket: Callable[[Session, Visit, str], None] | None = None,
    limits: PublicLimits | None = None,
    prepared: Prepared | None = None,
) -> Registered | Held:
    """`answers` is the questionnaire as answered, in its stored (JSON) form. `print_ticket`, if
    given, queues the printed ticket in the same transaction (not for a replayed request: its
    ticket is already queued). `limits`, for a donor's own registration, are counted in the same
    transaction (not for a replayed request); they may hold it back (Held). `prepared` gives
    the ticket's token made beforehand; the write transaction holds only the reads and rows
    that must be in it."""
    prepared = prepared or Prepared.new()
    try:
        with write_transaction(session):
            registered = _register_locked(
                session, registration, request_id, context, answers, limits, prepared
            )
            if (
                print_ticket is not None
                and isinstance(registered, Registered)
                and registered.outcome == "new"
            ):
                print_ticket(session, registered.visit, registered.token)
            return registered
    except IntegrityError:
        # Only reachable where the database lets two writers in at once (PostgreSQL): the other
        # writer stored this request first, so answer with what it stored.
        with write_transaction(session):
            visit = _visit_for_request(session, request_id)
            if visit is None:
                raise
            if not _same_device(session, visit, context.device):
                return Registered(visit, None, "already_registered")
            return Registered(visit, _issue_ticket(session, visit, context), "replayed")


def known_donor(
    session: Session,
    cin: str | None,
    birth_date: date | None,
    who: Who,
    now: datetime,
    campaign_id: int | None = None,
    sleep=None,
    misses: int = CIN_MISSES,
) -> Donor | str | None:
    """The donor with this CIN *and* birth date, to fill in their details at the kiosk. Anything
    else gives None, the same way whether the CIN is known or not; a CIN already registered in
    the open campaign gives ALREADY_REGISTERED whatever the birth date. Tries are counted per
    device and per address with registration's (kiosk/domain/throttle.py): repeated misses are
    slowed down, then not even looked up until the minute has passed."""
    if cin is None or birth_date is None:
        return None
    reservation = reserve_cin_try(session, now, who, misses)
    if reservation.refused:
        return None
    if reservation.delay_seconds and sleep is not None:
        sleep(reservation.delay_seconds)
    session.rollback()
    registered = campaign_id is not None and registered_visit(session, campaign_id, cin)
    donor = session.scalar(select(Donor).where(Donor.cin == cin, Donor.birth_date == birth_date))
    settle(session, reservation.attempt_id, donor is not None and not registered)
    if registered:
        return ALREADY_REGISTERED
    return session.get(Donor, donor.id) if donor is not None else None


def registered_visit(session: Session, campaign_id: int, cin: str) -> Visit | None:
    """The visit of this campaign that holds this CIN (as its donor's, or waiting for the card
    to be checked), whatever birth date came with it."""
    return session.scalar(
        select(Visit)
        .join(Donor, Visit.donor_id == Donor.id)
        .where(Visit.campaign_id == campaign_id, or_(Donor.cin == cin, Visit.cin_conflict == cin))
        .order_by(Visit.id)
        .limit(1)
    )


def find_visit_by_token(session: Session, token: str) -> Visit | None:
    if not is_well_formed(token):
        return None
    ticket = session.scalar(select(Ticket).where(Ticket.token_hash == token_hash(token)))
    return ticket.visit if ticket else None


# What a person types for a queue number: "4", "004", "#4", "N° 4", " 4 ", Arabic-Indic digits.
_TYPED_NUMBER = re.compile(r"(?:#|n°|no\.?|№)?(\d{1,6})", re.IGNORECASE)

# The longest row id a URL may carry: what a database integer holds, and never a token's length.
_ID_DIGITS = 18


def typed_queue_number(text: str) -> int | None:
    """The queue number in what was typed into the scan field, or None if it is not one."""
    found = _TYPED_NUMBER.fullmatch("".join(text.split()))
    number = int(found.group(1)) if found else 0
    return number if number > 0 else None


def find_visit_by_number(
    session: Session, campaign_id: int, day: date, number: int
) -> Visit | None:
    """The visit holding this queue number in this campaign on this day (numbers restart daily)."""
    return session.scalar(
        select(Visit).where(
            Visit.campaign_id == campaign_id,
            Visit.queue_day == day,
            Visit.queue_number == number,
        )
    )


def find_visit_by_key(session: Session, key: str) -> Visit | None:
    """A visit from the key of a staff URL: its row id (what the console and a typed number
    give), or its ticket's token (what a scanned QR gives). A token is never all digits of a
    row id's length, so the two cannot be confused."""
    if is_row_id(key):
        return session.get(Visit, int(key))
    return find_visit_by_token(session, key)


def is_row_id(key: str) -> bool:
    return key.isascii() and key.isdecimal() and len(key) <= _ID_DIGITS


def _register_locked(
    session: Session,
    registration: Registration,
    request_id: str,
    context: Context,
    answers: str,
    limits: PublicLimits | None,
    prepared: Prepared,
) -> Registered | Held:
    campaign = session.get(Campaign, context.campaign_id)
    if campaign is None or campaign.status != "open":
        raise CampaignClosed()
    replayed = _visit_for_request(session, request_id)
    if replayed is not None:
        if not _same_device(session, replayed, context.device):
            return Registered(replayed, None, "already_registered")
        return Registered(replayed, _issue_ticket(session, replayed, context), "replayed")

    cin_try = None
    if limits is not None and limits.cin_try is None:
        place, retry_after = registration_place_locked(
            session, context.now, limits.who, limits.per_device, limits.per_address
        )
        if place is None:
            return Held(retry_after=retry_after)
        if registration.cin is not None:
            cin_try, retry_after, delay = cin_try_locked(
                session, context.now, limits.who, limits.cin_misses
            )
            if cin_try is None:
                return Held(retry_after=retry_after)
            if delay:
                session.flush()
                return Held(delay_seconds=delay, cin_try=cin_try.id)

    registered = _register_new(session, campaign, registration, request_id, context, answers)
    # The CIN try's answer: a miss when the CIN was registered already or is another donor's.
    missed = registered.outcome == ALREADY_REGISTERED or registered.cin_conflict
    if cin_try is not None:
        cin_try.succeeded = not missed
    elif limits is not None and limits.cin_try is not None:
        settle_locked(session, limits.cin_try, not missed)
    if registered.outcome == "new":
        visit = registered.visit
        session.add(Ticket(visit=visit, token_hash=prepared.token_hash, issued_at=context.now))
        return Registered(visit, prepared.token, "new", registered.cin_conflict)
    return registered


def _register_new(
    session: Session,
    campaign: Campaign,
    registration: Registration,
    request_id: str,
    context: Context,
    answers: str,
) -> Registered:
    """The visit with its number and audit event (its ticket is the caller's), or the visit
    that already holds this CIN in the campaign."""
    if registration.cin is not None:
        visit = registered_visit(session, campaign.id, registration.cin)
        if visit is not None:
            record_event(
                session,
                visit,
                "registered_again",
                actor=context.actor,
                device=context.device,
                now=context.now,
            )
            return Registered(visit, None, "already_registered")

    donor, conflict = _returning_donor(session, registration)
    if donor is not None:
        _update_donor(donor, registration, context.now)
    else:
        donor = _new_donor(registration, context.now, cin=None if conflict else registration.cin)
        session.add(donor)

    visit = Visit(
        campaign_id=campaign.id,
        donor=donor,
        queue_day=context.day,
        queue_number=next_queue_number(session, campaign.id, context.day),
        registered_at=context.now,
        request_id=request_id,
        language=context.language,
        answers=answers,
        cin_conflict=conflict,
        contact_consent=registration.contact_consent,
    )
    session.add(visit)
    start_visit(session, visit, actor=context.actor, device=context.device, now=context.now)
    return Registered(visit, None, "new", cin_conflict=conflict is not None)


def is_replay(session: Session, request_id: str, device: str) -> bool:
    """Whether this submission is stored already, from this device: a double tap or a network
    retry, answered with its own ticket again and never counted against the kiosk's limits."""
    visit = _visit_for_request(session, request_id)
    return visit is not None and _same_device(session, visit, device)


def _visit_for_request(session: Session, request_id: str) -> Visit | None:
    return session.scalar(select(Visit).where(Visit.request_id == request_id))


def _same_device(session: Session, visit: Visit, device: str) -> bool:
    """Whether the registration of this visit came from this device: a replay from elsewhere
    (a request id seen over a shoulder) gets no ticket."""
    registered_from = session.scalar(
        select(Event.device)
        .where(Event.visit_id == visit.id, Event.action == "register")
        .order_by(Event.id)
        .limit(1)
    )
    return registered_from is None or registered_from == device[:60]


def _returning_donor(
    session: Session, registration: Registration
) -> tuple[Donor | None, str | None]:
    """The donor with this CIN and birth date, if any. A CIN known with another birth date is
    a typing mistake or somebody else's card: the kiosk must not reveal that the CIN is known,
    so the visit goes on as a new donor's and the CIN waits on the visit for the doctor to
    check the card (the second value)."""
    if registration.cin is None:
        return None, None
    donor = session.scalar(select(Donor).where(Donor.cin == registration.cin))
    if donor is not None and donor.birth_date != registration.birth_date:
        return None, registration.cin
    return donor, None


def _new_donor(registration: Registration, now: datetime, cin: str | None) -> Donor:
    donor = Donor(created_at=now)
    _update_donor(donor, registration, now)
    donor.cin = cin
    return donor


def _update_donor(donor: Donor, registration: Registration, now: datetime) -> None:
    donor.cin = registration.cin
    donor.first_name = registration.first_name
    donor.last_name = registration.last_name
    donor.sex = registration.sex
    donor.birth_date = registration.birth_date
    donor.phone = registration.phone
    donor.category = registration.category
    donor.contact_consent = registration.contact_consent
    donor.updated_at = now


def _issue_ticket(session: Session, visit: Visit, context: Context) -> str:
    token = new_token()
    session.add(Ticket(visit=visit, token_hash=token_hash(token), issued_at=context.now))
    return token
