"""What stands between a guessed ticket address and a visit: the misses' limit, and the end of a
closed campaign's status pages.

A ticket's token is 192 random bits, so guessing one is hopeless; the limit is there so that
trying does not cost the server anything either. Misses are kept as failed attempts of their own
kind (LoginAttempt rows named TICKET_MISS), counted per address over the throttles' minute.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.db import write_transaction
from kiosk.domain.staff import TICKET_MISS, throttle_scopes
from kiosk.domain.tokens import is_well_formed, token_hash
from kiosk.models import Campaign, LoginAttempt, Ticket


def misses_retry_after(session: Session, address: str, now: datetime, limit: int) -> int:
    """Seconds this address must wait before trying a ticket again; 0 when it may (or when
    `limit` is 0: no limit)."""
    if limit <= 0:
        return 0
    verdict = throttle_scopes(
        session,
        now,
        (LoginAttempt.username == TICKET_MISS, LoginAttempt.address == address[:60]),
        limit=limit,
    )
    return verdict.retry_after


def note_miss(session: Session, address: str, now: datetime) -> None:
    with write_transaction(session):
        session.add(
            LoginAttempt(at=now, username=TICKET_MISS, address=address[:60], succeeded=False)
        )


def find_ticket(session: Session, token: str) -> Ticket | None:
    if not is_well_formed(token):
        return None
    return session.scalar(select(Ticket).where(Ticket.token_hash == token_hash(token)))


def status_page_over(campaign: Campaign, now: datetime, days_after_close: int) -> bool:
    """A closed campaign's tickets stop showing anything `days_after_close` days after it closed."""
    if campaign.status != "closed" or campaign.closed_at is None:
        return False
    return now >= campaign.closed_at + timedelta(days=days_after_close)
