"""The one state machine of a visit's journey, and the audit events it writes.

Every change of stage goes through `transition`, which refuses what the table does not allow and
appends the event in the caller's transaction, so a stage never changes without its audit line.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk.models import Event, Visit


class Stage(StrEnum):
    WAITING_INTERVIEW = "waiting_interview"
    INTERVIEW = "interview"
    WAITING_COLLECTION = "waiting_collection"
    COLLECTION = "collection"
    REST = "rest"
    DONE = "done"
    DEFERRED = "deferred"
    LEFT = "left"
    NO_SHOW = "no_show"


FINAL_STAGES = frozenset({Stage.DONE, Stage.DEFERRED, Stage.LEFT})
WAITING_STAGES = frozenset({Stage.WAITING_INTERVIEW, Stage.WAITING_COLLECTION})
_STILL_HERE = [stage for stage in Stage if stage not in FINAL_STAGES]

# action -> {from stage: to stage}
TRANSITIONS: dict[str, dict[Stage, Stage]] = {
    "call": {
        Stage.WAITING_INTERVIEW: Stage.INTERVIEW,
        Stage.WAITING_COLLECTION: Stage.COLLECTION,
    },
    "recall": {Stage.INTERVIEW: Stage.INTERVIEW, Stage.COLLECTION: Stage.COLLECTION},
    "no_show": {Stage.INTERVIEW: Stage.NO_SHOW, Stage.COLLECTION: Stage.NO_SHOW},
    "accept": {Stage.INTERVIEW: Stage.WAITING_COLLECTION},
    "defer": {Stage.INTERVIEW: Stage.DEFERRED},
    "donate": {Stage.COLLECTION: Stage.REST},
    "finish": {Stage.REST: Stage.DONE},
    # A no-show who turns up waits again in the line of the desk that called them.
    "put_back_interview": {Stage.NO_SHOW: Stage.WAITING_INTERVIEW},
    "put_back_collection": {Stage.NO_SHOW: Stage.WAITING_COLLECTION},
    "leave": {stage: Stage.LEFT for stage in _STILL_HERE},
}


class TransitionRefused(Exception):
    def __init__(self, action: str, stage: str) -> None:
        super().__init__(f"{action!r} is not allowed from {stage!r}")
        self.action = action
        self.stage = stage


def target_stage(action: str, stage: str) -> Stage:
    allowed = TRANSITIONS.get(action, {})
    try:
        return allowed[Stage(stage)]
    except (KeyError, ValueError):
        raise TransitionRefused(action, stage) from None


def start_visit(session: Session, visit: Visit, *, actor: str, device: str, now: datetime) -> Event:
    """A new visit enters the journey: it waits for the interview."""
    visit.stage = Stage.WAITING_INTERVIEW
    visit.stage_changed_at = now
    event = _append_event(session, visit, "register", None, visit.stage, actor, device, now)
    return _entered(session, visit, event)


def transition(
    session: Session, visit: Visit, action: str, *, actor: str, device: str, now: datetime
) -> Event:
    to_stage = target_stage(action, visit.stage)
    event = _append_event(session, visit, action, visit.stage, to_stage, actor, device, now)
    visit.stage = to_stage
    visit.stage_changed_at = now
    return _entered(session, visit, event)


def _entered(session: Session, visit: Visit, event: Event) -> Event:
    """The visit's place in its new stage's line: one more than the last place given, counted
    in the database under the write lock. It only grows, so a clock that jumps back changes no
    one's place."""
    visit.line_seq = select(func.coalesce(func.max(Visit.line_seq), 0) + 1).scalar_subquery()
    return event


def record_event(
    session: Session,
    visit: Visit,
    action: str,
    *,
    actor: str,
    device: str,
    now: datetime,
    detail: str | None = None,
) -> Event:
    """An audit line that does not move the visit (a ticket shown again, a reprint, a
    correction). `detail` names what was touched, never a health value."""
    event = _append_event(session, visit, action, visit.stage, visit.stage, actor, device, now)
    event.detail = detail[:200] if detail else None
    return event


def _append_event(
    session: Session,
    visit: Visit,
    action: str,
    from_stage: str | None,
    to_stage: str | None,
    actor: str,
    device: str,
    now: datetime,
) -> Event:
    event = Event(
        at=now,
        campaign_id=visit.campaign_id,
        visit=visit,
        actor=actor[:60],
        device=device[:60],
        action=action,
        from_stage=from_stage,
        to_stage=to_stage,
    )
    session.add(event)
    return event
