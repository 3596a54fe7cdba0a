"""Counters over things a stranger could try many times: passwords, CIN + birth date pairs, and
registrations. One table holds every try (LoginAttempt, its `username` naming what was tried).

A try is *reserved* before it is evaluated: the count and the new row are written in one write
transaction (BEGIN IMMEDIATE on SQLite, the write lock on PostgreSQL), so forty tries sent at once
see each other and at most the limit of them are evaluated. The row starts as a failure and is
*settled* once the answer is known; a settle is one write whatever the answer, so a hit and a miss
take the same time.

Each counter is kept per device (the browser's cookie) and per address, never per account alone:
a stranger's wrong passwords slow the stranger's phone and address, not the account holder's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kiosk.db import write_transaction
from kiosk.models import LoginAttempt

WINDOW = timedelta(minutes=1)
SLOW_DOWN_AFTER = 3

# Staff logins: wrong passwords per (account, device) and per address, in the window.
LOGIN_FAILURES = 10
# CIN + birth date tried at a public page ("find my details", registration): misses per device
# and per address. Shared by every public path, so a guesser cannot switch pages.
CIN_TRY = "cin-lookup"
CIN_MISSES = 10
# Registrations from one kiosk: a real donor takes at least 30 s to fill in the wizard (identity,
# contact, questionnaire, review), so one tablet registers at most 2 in a minute. A device may
# register 4 a minute (twice that, for a quick second donor and a slow first one), an address 8
# (two tablets behind it). Staff registering a walk-in donor are not counted.
REGISTRATION = "registration"
REGISTRATION_REFUSED = "registration-refused"
REGISTRATIONS_PER_DEVICE = 4
REGISTRATIONS_PER_ADDRESS = 8

NOT_LOGINS = (CIN_TRY, "ticket-miss", REGISTRATION, REGISTRATION_REFUSED)


@dataclass(frozen=True)
class Reservation:
    attempt_id: int | None  # None: refused, nothing to evaluate
    retry_after: int = 0  # seconds, when refused
    delay_seconds: float = 0.0  # how long to slow this try down

    @property
    def refused(self) -> bool:
        return self.attempt_id is None


@dataclass(frozen=True)
class Who:
    """Where a try comes from."""

    address: str
    device: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", (self.address or "unknown")[:60])
        object.__setattr__(self, "device", (self.device or self.address)[:64])


def reserve(
    session: Session,
    now: datetime,
    name: str,
    who: Who,
    scopes: Sequence[tuple],
    limit: int,
    failures_only: bool = True,
    refusal_name: str | None = None,
) -> Reservation:
    """Counts the tries matching each scope in the window and, below the limit, stores this one
    (as a failure until settled), all under the write lock. `failures_only=False` counts every
    try (a rate, not a guess). A refusal is stored under `refusal_name` when given."""
    with write_transaction(session):
        attempt, retry_after, delay = _reserve_locked(
            session, now, name, who, scopes, limit, failures_only, refusal_name
        )
        if attempt is None:
            return Reservation(None, retry_after)
        session.flush()
        return Reservation(attempt.id, 0, delay)


def _reserve_locked(
    session: Session,
    now: datetime,
    name: str,
    who: Who,
    scopes: Sequence[tuple],
    limit: int,
    failures_only: bool = True,
    refusal_name: str | None = None,
) -> tuple[LoginAttempt | None, int, float]:
    """`reserve` inside the caller's write transaction: the try's row (added, not flushed; None
    when refused), the seconds to retry after when refused, and how long to slow the try down."""
    worst, oldest = _worst(session, now, scopes, failures_only)
    if worst >= limit:
        if refusal_name:
            session.add(_attempt(now, refusal_name, who))
        return None, max(1, int((oldest + WINDOW - now).total_seconds()) + 1), 0.0
    attempt = _attempt(now, name, who)
    session.add(attempt)
    delay = 0.0
    if failures_only and worst >= SLOW_DOWN_AFTER:
        delay = min(2.0, 0.5 * (worst - SLOW_DOWN_AFTER + 1))
    return attempt, 0, delay


def settle(session: Session, attempt_id: int, succeeded: bool) -> None:
    """The answer of a reserved try: one write, whichever it is."""
    with write_transaction(session):
        settle_locked(session, attempt_id, succeeded)


def settle_locked(session: Session, attempt_id: int, succeeded: bool) -> None:
    """`settle` inside the caller's write transaction."""
    session.execute(
        update(LoginAttempt).where(LoginAttempt.id == attempt_id).values(succeeded=succeeded)
    )


def login_scopes(username: str, who: Who) -> list[tuple]:
    return [
        (LoginAttempt.username == username, LoginAttempt.device == who.device),
        (LoginAttempt.address == who.address, LoginAttempt.username.not_in(NOT_LOGINS)),
    ]


def cin_scopes(who: Who) -> list[tuple]:
    return [
        (LoginAttempt.username == CIN_TRY, LoginAttempt.device == who.device),
        (LoginAttempt.username == CIN_TRY, LoginAttempt.address == who.address),
    ]


def reserve_cin_try(
    session: Session, now: datetime, who: Who, misses: int = CIN_MISSES
) -> Reservation:
    """A CIN + birth-date try's place in its device's and address's minute; `misses` 0 counts
    nothing (the load and crash tests, which play eight tablets from one address)."""
    if misses <= 0:
        return Reservation(_unlimited(session, now, who))
    return reserve(session, now, CIN_TRY, who, cin_scopes(who), misses)


def cin_try_locked(
    session: Session, now: datetime, who: Who, misses: int = CIN_MISSES
) -> tuple[LoginAttempt | None, int, float]:
    """`reserve_cin_try` inside the caller's write transaction: (the try's row, a miss until its
    `succeeded` is set; the seconds to retry after when refused (no row); the delay to wait)."""
    if misses <= 0:
        attempt = _attempt(now, CIN_TRY, who)
        session.add(attempt)
        return attempt, 0, 0.0
    return _reserve_locked(session, now, CIN_TRY, who, cin_scopes(who), misses)


def _unlimited(session: Session, now: datetime, who: Who) -> int:
    """A try stored but never refused, so that settling it works the same."""
    with write_transaction(session):
        attempt = _attempt(now, CIN_TRY, who)
        session.add(attempt)
        session.flush()
        return attempt.id


def reserve_registration(
    session: Session,
    now: datetime,
    who: Who,
    per_device: int = REGISTRATIONS_PER_DEVICE,
    per_address: int = REGISTRATIONS_PER_ADDRESS,
) -> Reservation:
    """A registration's place in its device's and address's minute (a limit of 0: none);
    refusals are kept, per address, for the coordinator's page."""
    with write_transaction(session):
        attempt, retry_after = registration_place_locked(session, now, who, per_device, per_address)
        if attempt is None:
            return Reservation(None, retry_after)
        session.flush()
        return Reservation(attempt.id)


def registration_place_locked(
    session: Session, now: datetime, who: Who, per_device: int, per_address: int
) -> tuple[LoginAttempt | None, int]:
    """`reserve_registration` inside the caller's write transaction (the registration's own, so
    that its place, the CIN try and the visit cost one commit): the registration's row (added)
    when it may go on, else None and the seconds to retry after (the refusal's row added)."""
    limits = [
        (
            (LoginAttempt.username == REGISTRATION, LoginAttempt.device == who.device),
            per_device,
        ),
        (
            (LoginAttempt.username == REGISTRATION, LoginAttempt.address == who.address),
            per_address,
        ),
    ]
    for conditions, limit in limits:
        if limit <= 0:
            continue
        count, oldest = _worst(session, now, [conditions], failures_only=False)
        if count >= limit:
            session.add(_attempt(now, REGISTRATION_REFUSED, who))
            return None, max(1, int((oldest + WINDOW - now).total_seconds()) + 1)
    attempt = _attempt(now, REGISTRATION, who, succeeded=True)
    session.add(attempt)
    return attempt, 0


@dataclass(frozen=True)
class Lockout:
    kind: str  # "account" (an account on one device) or "address"
    username: str | None
    address: str | None
    device: str | None
    failures: int
    until: datetime


def current_lockouts(session: Session, now: datetime) -> list[Lockout]:
    """Login scopes at their limit right now: an account on one device, or an address."""
    since = now - WINDOW
    failed = (
        LoginAttempt.at > since,
        LoginAttempt.succeeded.is_(False),
        LoginAttempt.cleared_at.is_(None),
        LoginAttempt.username.not_in(NOT_LOGINS),
    )
    found: list[Lockout] = []
    rows = session.execute(
        select(
            LoginAttempt.username,
            LoginAttempt.device,
            func.max(LoginAttempt.address),
            func.count(LoginAttempt.id),
            func.min(LoginAttempt.at),
        )
        .where(*failed)
        .group_by(LoginAttempt.username, LoginAttempt.device)
        .having(func.count(LoginAttempt.id) >= LOGIN_FAILURES)
    )
    for username, device, address, count, oldest in rows:
        found.append(Lockout("account", username, address, device, count, oldest + WINDOW))
    rows = session.execute(
        select(LoginAttempt.address, func.count(LoginAttempt.id), func.min(LoginAttempt.at))
        .where(*failed)
        .group_by(LoginAttempt.address)
        .having(func.count(LoginAttempt.id) >= LOGIN_FAILURES)
    )
    for address, count, oldest in rows:
        found.append(Lockout("address", None, address, None, count, oldest + WINDOW))
    return found


def clear_lockout(
    session: Session,
    now: datetime,
    username: str | None,
    address: str | None,
    device: str | None,
    event,
) -> int:
    """Lifts a lockout: its failures stop counting. `event` is the audit line, added in the same
    transaction. Returns how many failures were lifted."""
    conditions = [
        LoginAttempt.at > now - WINDOW,
        LoginAttempt.succeeded.is_(False),
        LoginAttempt.cleared_at.is_(None),
        LoginAttempt.username.not_in(NOT_LOGINS),
    ]
    if username is not None:
        conditions += [LoginAttempt.username == username, LoginAttempt.device == device]
    elif address is not None:
        conditions.append(LoginAttempt.address == address)
    else:
        return 0
    with write_transaction(session):
        result = session.execute(update(LoginAttempt).where(*conditions).values(cleared_at=now))
        session.add(event)
        return result.rowcount or 0


def refusals_per_address(session: Session, since: datetime) -> list[tuple[str, int]]:
    """Registrations refused by the limits since a moment, counted per address, most first."""
    rows = session.execute(
        select(LoginAttempt.address, func.count(LoginAttempt.id))
        .where(LoginAttempt.username == REGISTRATION_REFUSED, LoginAttempt.at >= since)
        .group_by(LoginAttempt.address)
        .order_by(func.count(LoginAttempt.id).desc(), LoginAttempt.address)
    )
    return [(address, count) for address, count in rows]


def _worst(session, now, scopes, failures_only) -> tuple[int, datetime | None]:
    since = now - WINDOW
    worst, oldest = 0, None
    for conditions in scopes:
        extra = (
            (LoginAttempt.succeeded.is_(False), LoginAttempt.cleared_at.is_(None))
            if failures_only
            else ()
        )
        count, first = session.execute(
            select(func.count(LoginAttempt.id), func.min(LoginAttempt.at)).where(
                *conditions, LoginAttempt.at > since, *extra
            )
        ).one()
        if count > worst:
            worst, oldest = count, first
    return worst, oldest


def _attempt(now: datetime, name: str, who: Who, succeeded: bool = False) -> LoginAttempt:
    return LoginAttempt(
        at=now, username=name[:40], address=who.address, device=who.device, succeeded=succeeded
    )
