"""One way to build a line of the audit log: every Event is made here, with who acted cut to the
width of its column. (kiosk/audit.py keeps the log append-only once written.)"""

from __future__ import annotations

from datetime import datetime

from kiosk.models import Desk, Event, Visit

NAME_WIDTH = 60  # Event.actor and Event.device


def audit_event(
    at: datetime,
    actor: str,
    device: str,
    action: str,
    *,
    campaign_id: int | None = None,
    visit: Visit | None = None,
    visit_id: int | None = None,
    from_stage: str | None = None,
    to_stage: str | None = None,
    desk: Desk | None = None,
    detail: str | None = None,
) -> Event:
    """A new audit event, not yet added to any session."""
    event = Event(
        at=at,
        campaign_id=campaign_id,
        actor=actor[:NAME_WIDTH],
        device=device[:NAME_WIDTH],
        action=action,
        from_stage=from_stage,
        to_stage=to_stage,
        detail=detail,
    )
    if visit is not None:
        event.visit = visit
    elif visit_id is not None:
        event.visit_id = visit_id
    if desk is not None:
        event.desk = desk
    return event
