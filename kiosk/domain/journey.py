"""The one state machine of a visit's journey, and the audit events it writes.

Every change of stage goes through `transition`, which refuses what the table does not allow and
appends the event in the caller's transaction, so a stage never changes without its audit line.

The medical steps are guarded here, not in the views: a visit reaches the collection line, the
chair, the rest area or the end of the journey only with a screening whose decision is eligible,
and the rest area or the end only with a recorded donation (any outcome, a failed venipuncture
included); it is deferred only by a screening that defers. No button, route or command can move a
visit past a missing step, because every one of them goes through `transition`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk.domain.audit_events import audit_event
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


ELIGIBLE = "eligible"
DEFERRING = frozenset({"deferred_temporary", "deferred_permanent"})


@dataclass(frozen=True)
class Records:
    """What a visit holds that its medical steps need: the screening's decision (None before the
    doctor's record) and whether a donation is recorded."""

    decision: str | None = None
    donation: bool = False

    @classmethod
    def of(cls, visit: Visit) -> Records:
        screening = visit.screening
        return cls(screening.decision if screening else None, visit.donation is not None)


# What a visit must hold to be at a stage, whichever action brings it there.
REQUIRED: dict[Stage, tuple[str, ...]] = {
    Stage.WAITING_COLLECTION: ("eligible_screening",),
    Stage.COLLECTION: ("eligible_screening",),
    Stage.REST: ("eligible_screening", "donation"),
    Stage.DONE: ("eligible_screening", "donation"),
    Stage.DEFERRED: ("deferring_screening",),
}
CHECKS = {
    "eligible_screening": lambda records: records.decision == ELIGIBLE,
    "deferring_screening": lambda records: records.decision in DEFERRING,
    "donation": lambda records: records.donation,
}


class TransitionRefused(Exception):
    """`missing` names the record the move needs and the visit lacks (None: not a move the table
    allows from this stage)."""

    def __init__(self, action: str, stage: str, missing: str | None = None) -> None:
        why = f" without {missing.replace('_', ' ')}" if missing else ""
        super().__init__(f"{action!r} is not allowed from {stage!r}{why}")
        self.action = action
        self.stage = stage
        self.missing = missing


def target_stage(action: str, stage: str, records: Records | None = None) -> Stage:
    """The stage `action` leads to from `stage`, for a visit holding `records` (none: nothing
    recorded yet); TransitionRefused when the table or a missing record forbids it."""
    allowed = TRANSITIONS.get(action, {})
    try:
        to_stage = allowed[Stage(stage)]
    except (KeyError, ValueError):
        raise TransitionRefused(action, stage) from None
    missing = missing_record(to_stage, records or Records())
    if missing:
        raise TransitionRefused(action, stage, missing)
    return to_stage


def missing_record(stage: Stage, records: Records) -> str | None:
    """The first record a visit at `stage` must hold and does not, or None."""
    for need in REQUIRED.get(stage, ()):
        if not CHECKS[need](records):
            return need
    return None


def _records_needed(action: str, visit: Visit) -> Records | None:
    """The visit's records, read only when the move leads to a guarded stage (a call to the
    interview costs no query for them)."""
    to_stage = TRANSITIONS.get(action, {}).get(visit.stage)
    return Records.of(visit) if to_stage in REQUIRED else None


def start_visit(session: Session, visit: Visit, *, actor: str, device: str, now: datetime) -> Event:
    """A new visit enters the journey: it waits for the interview."""
    visit.stage = Stage.WAITING_INTERVIEW
    visit.stage_changed_at = now
    event = _append_event(session, visit, "register", None, visit.stage, actor, device, now)
    return _entered(session, visit, event)


def transition(
    session: Session, visit: Visit, action: str, *, actor: str, device: str, now: datetime
) -> Event:
    to_stage = target_stage(action, visit.stage, _records_needed(action, visit))
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
    event = audit_event(
        now,
        actor,
        device,
        action,
        campaign_id=visit.campaign_id,
        visit=visit,
        from_stage=from_stage,
        to_stage=to_stage,
    )
    session.add(event)
    return event
