"""Queue numbers: per campaign day, 1, 2, 3 … with no gap and no duplicate.

The number is taken inside the registration's write transaction (BEGIN IMMEDIATE on SQLite), so
two kiosks never read the same maximum; a unique constraint backs this up on any database.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk.domain.journey import WAITING_STAGES
from kiosk.models import Visit


def next_queue_number(session: Session, campaign_id: int, day: date) -> int:
    highest = session.scalar(
        select(func.max(Visit.queue_number)).where(
            Visit.campaign_id == campaign_id, Visit.queue_day == day
        )
    )
    return (highest or 0) + 1


def people_ahead(session: Session, visit: Visit) -> int:
    """How many visits wait before this one at the same stage; 0 once it is no longer waiting."""
    if visit.stage not in WAITING_STAGES:
        return 0
    return session.scalar(
        select(func.count(Visit.id)).where(
            Visit.campaign_id == visit.campaign_id,
            Visit.queue_day == visit.queue_day,
            Visit.stage == visit.stage,
            Visit.queue_number < visit.queue_number,
        )
    )
