"""Reception's answer to "I am already registered": find the visit by its CIN, check the card,
and give a new ticket for it. The kiosk never does this by itself (kiosk/domain/registration.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from kiosk.db import write_transaction
from kiosk.domain.journey import record_event
from kiosk.domain.registration import registered_visit
from kiosk.domain.tokens import new_token, token_hash
from kiosk.models import Campaign, Ticket, Visit


class ReissueRefused(Exception):
    pass


def visit_for_cin(session: Session, campaign_id: int, cin: str) -> Visit | None:
    return registered_visit(session, campaign_id, cin)


def reissue_ticket(
    session: Session,
    visit_id: int,
    campaign_id: int,
    by: tuple[str, str],
    now: datetime,
    print_ticket: Callable[[Session, Visit, str], None] | None = None,
) -> tuple[Visit, str]:
    """A new ticket (a new token: the lost one keeps working) for a visit of the open campaign,
    with its audit line and its print job, in one transaction."""
    actor, device = by
    with write_transaction(session):
        visit = session.get(Visit, visit_id)
        campaign = session.get(Campaign, campaign_id)
        if visit is None or campaign is None or visit.campaign_id != campaign.id:
            raise ReissueRefused()
        if campaign.status != "open":
            raise ReissueRefused()
        token = new_token()
        session.add(Ticket(visit=visit, token_hash=token_hash(token), issued_at=now))
        record_event(session, visit, "ticket_reissued", actor=actor, device=device, now=now)
        if print_ticket is not None:
            print_ticket(session, visit, token)
        return visit, token
