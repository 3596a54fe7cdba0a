"""Staff accounts, their logins and what each role may do.

Roles and rights are data (RIGHTS). The coordinator may do everything. Logins are throttled per
(account, device) and per address; a login is a server-side session that logout or inactivity ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from kiosk.db import write_transaction
from kiosk.domain.audit_events import audit_event
from kiosk.domain.throttle import (
    CIN_TRY,
    LOGIN_FAILURES,
    SLOW_DOWN_AFTER,
    WINDOW,
    Who,
    login_scopes,
    reserve,
)
from kiosk.domain.tokens import is_well_formed, new_token, token_hash
from kiosk.models import Event, LoginAttempt, StaffSession, StaffUser

ROLES = ("reception", "doctor", "phlebotomist", "coordinator")
COORDINATOR = "coordinator"
MIN_PASSWORD_LENGTH = 8
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,39}")

# right -> the roles that have it (besides the coordinator, who has them all)
RIGHTS: dict[str, frozenset[str]] = {
    "staff": frozenset({"reception", "doctor", "phlebotomist"}),
    "queue.view": frozenset({"reception", "doctor", "phlebotomist"}),
    "queue.interview": frozenset({"doctor"}),
    "queue.collection": frozenset({"phlebotomist"}),
    "visit.view": frozenset({"reception", "doctor", "phlebotomist"}),
    "register.walk_in": frozenset({"reception"}),
    "screening": frozenset({"doctor"}),
    "donation": frozenset({"phlebotomist"}),
    "rest.finish": frozenset({"reception", "doctor", "phlebotomist"}),
    "admin": frozenset(),
    "record.correct": frozenset(),  # the coordinator only, even after the day is closed
    "report": frozenset(),  # the session report: the coordinator's alone
    "export": frozenset(),  # the day's bundle holds every donor's health data
}
# The stage each role works at, for the desk picker.
ROLE_STAGES = {"doctor": ("interview",), "phlebotomist": ("collection",)}

THROTTLE_WINDOW = WINDOW
CIN_LOOKUP = CIN_TRY  # the tries of a CIN and birth date at the public pages
TICKET_MISS = "ticket-miss"  # a ticket address with no ticket behind it
MAX_FAILURES_PER_WINDOW = LOGIN_FAILURES
# Checked when the username is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password")


# Who acts when a command is typed on the server itself.
SYSTEM = ("system", "server")
# Actors of the audit log that are the app itself, not a person: no account may take their name
# (the record's history words them in the page's language).
APP_ACTORS = frozenset({"system", "kiosk"})


def access_event(
    now: datetime,
    by: tuple[str, str],
    action: str,
    detail: str | None = None,
    visit_id: int | None = None,
) -> Event:
    """An audit line about access, not about a visit's journey: a login, an account change, a
    record opened. It belongs to no campaign, so the campaign's exported log and the display's
    news stay the journey's alone."""
    actor, device = by
    return audit_event(
        now, actor, device, action, visit_id=visit_id, detail=detail and detail[:200]
    )


def note_record_opened(session: Session, visit_id: int, by: tuple[str, str], now: datetime) -> None:
    """Who opened a donor's record, and when: health data is read only with a trace."""
    with write_transaction(session):
        session.add(access_event(now, by, "view_record", visit_id=visit_id))


class AccountError(ValueError):
    """An account request that cannot be carried out; the message says why."""


class LoginRefused(Exception):
    def __init__(self, reason: str, retry_after: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason  # "invalid" | "throttled"
        self.retry_after = retry_after


@dataclass(frozen=True)
class Throttle:
    delay_seconds: float
    retry_after: int  # seconds; 0 when a try is allowed


def may(role: str, right: str) -> bool:
    return role == COORDINATOR or role in RIGHTS.get(right, frozenset())


# --- accounts -----------------------------------------------------------------------------------


# Which form of a visit's record a role may use, and at which stage of the journey.
RECORD_FORMS = {
    "screen": ("screening", "interview"),
    "record_donation": ("donation", "collection"),
    "finish": ("rest.finish", "rest"),
}


def record_rights(role: str, stage: str, has_donation: bool) -> dict[str, bool]:
    """What the record page offers this role for a visit at `stage`: each stage's form, and the
    coordinator's correction of a stored donation (at any stage, even after the day)."""
    rights = {
        f"can_{form}": stage == at_stage and may(role, right)
        for form, (right, at_stage) in RECORD_FORMS.items()
    }
    rights["can_correct"] = has_donation and may(role, "record.correct")
    return rights


def add_staff(
    session: Session,
    username: str,
    password: str,
    role: str,
    now: datetime,
    by: tuple[str, str] = SYSTEM,
) -> StaffUser:
    """A new account; `by` is who adds it and from which device, for the audit log."""
    username = username.strip().lower()
    if not USERNAME.fullmatch(username):
        raise AccountError(
            "a username is 2 to 40 lower-case letters, digits, dots, dashes or underscores"
        )
    if username in APP_ACTORS:
        raise AccountError(f"{username} is the app's own name in the audit log: choose another")
    if role not in ROLES:
        raise AccountError(f"the role must be one of: {', '.join(ROLES)}")
    check_password(password)
    with write_transaction(session):
        if session.scalar(select(StaffUser).where(StaffUser.username == username)):
            raise AccountError(f"{username} already exists")
        user = StaffUser(
            username=username,
            password_hash=generate_password_hash(password),
            role=role,
            active=True,
            created_at=now,
        )
        session.add(user)
        session.add(access_event(now, by, "staff_add", f"{username} ({role})"))
        return user


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")


def list_staff(session: Session) -> list[StaffUser]:
    return list(session.scalars(select(StaffUser).order_by(StaffUser.username)))


def disable_staff(
    session: Session, username: str, now: datetime, by: tuple[str, str] = SYSTEM
) -> StaffUser:
    """Disables the account and ends its open sessions at once."""
    with write_transaction(session):
        user = session.scalar(select(StaffUser).where(StaffUser.username == username.lower()))
        if user is None:
            raise AccountError(f"no account named {username}")
        user.active = False
        session.add(access_event(now, by, "staff_disable", user.username))
        for staff_session in session.scalars(
            select(StaffSession).where(
                StaffSession.user_id == user.id, StaffSession.ended_at.is_(None)
            )
        ):
            staff_session.ended_at = now
        return user


# --- logging in ---------------------------------------------------------------------------------


def throttle(
    session: Session, username: str, address: str, now: datetime, device: str | None = None
) -> Throttle:
    """Failed logins in the last minute, for this account on this device or from this address,
    slow the next try down and, past the limit, refuse it until the oldest failure leaves the
    window. Never per account alone: a stranger cannot lock the holder out of her own phone."""
    who = Who(address, device or address)
    return throttle_scopes(session, now, *login_scopes(username, who))


def throttle_scopes(
    session: Session, now: datetime, *scopes, limit: int = MAX_FAILURES_PER_WINDOW
) -> Throttle:
    """The throttle over the failures matching any one scope (a tuple of conditions)."""
    since = now - THROTTLE_WINDOW
    worst = 0
    oldest: datetime | None = None
    for conditions in scopes:
        failures, first = session.execute(
            select(func.count(LoginAttempt.id), func.min(LoginAttempt.at)).where(
                *conditions,
                LoginAttempt.at > since,
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.cleared_at.is_(None),
            )
        ).one()
        if failures > worst:
            worst, oldest = failures, first
    if worst >= limit:
        retry_after = max(1, int((oldest + THROTTLE_WINDOW - now).total_seconds()) + 1)
        return Throttle(0.0, retry_after)
    delay = min(2.0, 0.5 * (worst - SLOW_DOWN_AFTER + 1)) if worst >= SLOW_DOWN_AFTER else 0.0
    return Throttle(delay, 0)


def log_in(
    session: Session,
    username: str,
    password: str,
    address: str,
    now: datetime,
    sleep=None,
    device: str | None = None,
) -> tuple[StaffUser, str]:
    """Checks the password and opens a session; returns the user and the session's token. The
    try is reserved before the password is checked (kiosk/domain/throttle.py): at most the limit
    of simultaneous tries are evaluated."""
    username = username.strip().lower()[:40]
    who = Who(address, device or address)
    reservation = reserve(
        session, now, username, who, login_scopes(username, who), MAX_FAILURES_PER_WINDOW
    )
    if reservation.refused:
        raise LoginRefused("throttled", reservation.retry_after)
    if reservation.delay_seconds and sleep is not None:
        sleep(reservation.delay_seconds)
    session.rollback()
    user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    valid = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    succeeded = bool(user and user.active and valid)
    with write_transaction(session):
        if succeeded:
            session.get(LoginAttempt, reservation.attempt_id).succeeded = True
        # A name that is no account may be a password typed in the wrong box: never kept.
        who_logged = (user.username if user else "unknown", who.address)
        session.add(access_event(now, who_logged, "login" if succeeded else "login_failed"))
        if not succeeded:
            token = None
        else:
            token = new_token()
            session.add(
                StaffSession(
                    token_hash=token_hash(token),
                    user_id=user.id,
                    address=who.address,
                    created_at=now,
                    last_seen_at=now,
                )
            )
    if token is None:
        raise LoginRefused("invalid")
    return user, token


def resume(
    session: Session, token: str | None, now: datetime, idle_limit: timedelta
) -> StaffSession | None:
    """The open session of this token, if it is still alive; notes that it was seen."""
    if not token or not is_well_formed(token):
        return None
    staff_session = session.scalar(
        select(StaffSession).where(StaffSession.token_hash == token_hash(token))
    )
    if staff_session is None or staff_session.ended_at is not None:
        return None
    if not staff_session.user.active or now - staff_session.last_seen_at > idle_limit:
        return None
    if now - staff_session.last_seen_at > timedelta(minutes=1):  # a write a minute at most
        session_id = staff_session.id
        with write_transaction(session):
            session.get(StaffSession, session_id).last_seen_at = now
        staff_session = session.get(StaffSession, session_id)
    return staff_session


def log_out(session: Session, token: str | None, now: datetime) -> None:
    if not token or not is_well_formed(token):
        return
    with write_transaction(session):
        staff_session = session.scalar(
            select(StaffSession).where(StaffSession.token_hash == token_hash(token))
        )
        if staff_session is not None and staff_session.ended_at is None:
            staff_session.ended_at = now


def choose_desk(session: Session, staff_session_id: int, desk_id: int | None) -> None:
    with write_transaction(session):
        session.get(StaffSession, staff_session_id).desk_id = desk_id
