"""Queue numbers, the waiting lines, and the desks that call from them.

Numbers are taken inside the registration's write transaction (BEGIN IMMEDIATE on SQLite), so two
kiosks never read the same maximum; a unique constraint backs this up on any database. Calling the
next visit happens in one write transaction as well, and on PostgreSQL the row is taken with
FOR UPDATE SKIP LOCKED: two desks pressing at the same instant never get the same donor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from kiosk.db import write_transaction
from kiosk.domain.journey import WAITING_STAGES, Stage, TransitionRefused, transition
from kiosk.domain.names import NameProblem, in_language, with_names
from kiosk.domain.validation import Invalid, has_hidden_characters
from kiosk.domain.wait_estimate import WaitEstimate, wait_for_line
from kiosk.models import Desk, Event, Visit

DESK_STAGES = ("interview", "collection")
WAITING_FOR = {"interview": Stage.WAITING_INTERVIEW, "collection": Stage.WAITING_COLLECTION}


class QueueError(Invalid):
    """A queue action that cannot be done now; `code` names the reason for the message."""


@dataclass(frozen=True)
class Actor:
    """Who acts, from which device: written in every audit event."""

    name: str
    device: str


def next_queue_number(session: Session, campaign_id: int, day: date) -> int:
    highest = session.scalar(
        select(func.max(Visit.queue_number)).where(
            Visit.campaign_id == campaign_id, Visit.queue_day == day
        )
    )
    return (highest or 0) + 1


# --- the waiting lines --------------------------------------------------------------------------
# First come, first served: by the order the visits entered their waiting stage (a counter),
# then by number.
# A no-show put back waits again from the moment it is put back.


# How many of a line the staff consoles list; the rest is a count ("and 1,950 more"): a poll
# costs the same with 20 waiting or 2,000.
SHOWN_IN_LINE = 30


def waiting_line(
    session: Session, campaign_id: int, stage: str, limit: int | None = None
) -> list[Visit]:
    """The line in its order (its first `limit`), with each visit's donor in the same query: the
    console shows their names."""
    line = _in_line(campaign_id, stage).options(joinedload(Visit.donor, innerjoin=True))
    if limit is not None:
        line = line.limit(limit)
    return list(session.scalars(line))


def waiting_count(session: Session, campaign_id: int, stage: str) -> int:
    return session.scalar(
        select(func.count(Visit.id)).where(Visit.campaign_id == campaign_id, Visit.stage == stage)
    )


@dataclass(frozen=True)
class Line:
    """The head of a line and how many wait in it."""

    shown: list[Visit]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.shown)


def line_head(session: Session, campaign_id: int, stage: str, shown: int | None = None) -> Line:
    """The first `shown` (SHOWN_IN_LINE) of a line and its length: two queries at most,
    whatever the line's length."""
    shown = SHOWN_IN_LINE if shown is None else shown
    head = waiting_line(session, campaign_id, stage, limit=shown)
    total = len(head) if len(head) < shown else waiting_count(session, campaign_id, stage)
    return Line(head, total)


def _in_line(campaign_id: int, stage: str):
    return (
        select(Visit)
        .where(Visit.campaign_id == campaign_id, Visit.stage == stage)
        .order_by(_PLACE, Visit.stage_changed_at, Visit.queue_number)
    )


# A visit's place in its line: a counter given as it enters (kiosk/domain/journey.py), so a clock
# that jumps back reorders no one. Visits from before that column come first, by time.
_PLACE = func.coalesce(Visit.line_seq, 0)


def people_ahead(session: Session, visit: Visit) -> int:
    """How many visits wait before this one at the same stage; 0 once it is no longer waiting."""
    if visit.stage not in WAITING_STAGES:
        return 0
    return session.scalar(
        select(func.count(Visit.id)).where(
            Visit.campaign_id == visit.campaign_id,
            Visit.stage == visit.stage,
            or_(
                _PLACE < (visit.line_seq or 0),
                and_(
                    _PLACE == (visit.line_seq or 0),
                    or_(
                        Visit.stage_changed_at < visit.stage_changed_at,
                        and_(
                            Visit.stage_changed_at == visit.stage_changed_at,
                            Visit.queue_number < visit.queue_number,
                        ),
                    ),
                ),
            ),
        )
    )


def visit_at_desk(session: Session, desk: Desk) -> Visit | None:
    return session.scalar(
        select(Visit).where(Visit.desk_id == desk.id, Visit.stage == desk.stage).limit(1)
    )


def no_shows(
    session: Session, campaign_id: int, desk_stage: str | None = None, limit: int | None = None
) -> list[Visit]:
    """Those absent when called, in line order; only those called by a desk of `desk_stage`
    when given (each line puts back its own)."""
    query = _in_line(campaign_id, Stage.NO_SHOW).options(joinedload(Visit.desk))
    if desk_stage is not None:
        query = query.join(Desk, Visit.desk_id == Desk.id).where(Desk.stage == desk_stage)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


# --- desks --------------------------------------------------------------------------------------


def add_desk(session: Session, name: str, stage: str, names: dict[str, str] | None = None) -> Desk:
    """A desk; `names` gives it in other languages ({"ar": "الطبيب 1"}), checked as its name is."""
    name = " ".join(name.split())
    if not 1 <= len(name) <= 40:
        raise QueueError("desk_name")
    if has_hidden_characters(name):
        raise QueueError("desk_characters")
    try:
        stored_names = with_names(None, names or {}, 40)
    except NameProblem as problem:
        raise QueueError(
            "desk_other_characters" if problem.code == "hidden_characters" else "desk_other_name"
        ) from None
    if stage not in DESK_STAGES:
        raise QueueError("desk_stage")
    with write_transaction(session):
        if session.scalar(select(Desk).where(func.lower(Desk.name) == name.lower())):
            raise QueueError("desk_exists", name=name)
        desk = Desk(name=name, stage=stage, active=True, names=stored_names)
        session.add(desk)
        return desk


def desks(session: Session, stage: str | None = None) -> list[Desk]:
    query = select(Desk).where(Desk.active.is_(True)).order_by(Desk.stage, Desk.name)
    if stage is not None:
        query = query.where(Desk.stage == stage)
    return list(session.scalars(query))


def desk_named(session: Session, name: str) -> Desk | None:
    return session.scalar(select(Desk).where(Desk.name == name, Desk.active.is_(True)))


# --- calling ------------------------------------------------------------------------------------


def call_next(
    session: Session, campaign_id: int, desk: Desk, actor: Actor, now: datetime
) -> Visit | None:
    """Assigns the first waiting visit to the desk. A desk still serving someone gets that visit
    back (a double tap calls nobody new); an empty line gives None."""
    desk_id = desk.id
    with write_transaction(session):
        desk = session.get(Desk, desk_id)
        current = visit_at_desk(session, desk)
        if current is not None:
            return current
        first_in_line = _in_line(campaign_id, WAITING_FOR[desk.stage]).limit(1)
        visit = session.scalar(first_in_line.with_for_update(skip_locked=True))
        if visit is None:
            return None
        _move(session, visit, "call", desk, actor, now)
        visit.desk = desk
        visit.called_at = now
        visit.recalls = 0
        return visit


def recall(session: Session, desk: Desk, actor: Actor, now: datetime) -> Visit:
    with write_transaction(session):
        visit = _serving(session, desk)
        _move(session, visit, "recall", visit.desk, actor, now)
        visit.recalls += 1
        return visit


def mark_no_show(
    session: Session, desk: Desk, actor: Actor, now: datetime, recalls_first: int
) -> Visit:
    """Only once the donor was called again `recalls_first` times without coming."""
    with write_transaction(session):
        visit = _serving(session, desk)
        if visit.recalls < recalls_first:
            raise QueueError("recall_first", recalls=recalls_first, done=visit.recalls)
        _move(session, visit, "no_show", visit.desk, actor, now)
        return visit


def put_back(
    session: Session,
    visit_id: int,
    actor: Actor,
    now: datetime,
    stage: str | None = None,
    campaign_id: int | None = None,
) -> Visit:
    """A no-show who turns up waits again in the line of the desk that called them. Given the
    route's `stage` and the open campaign, a no-show of another line or campaign is refused
    (a doctor cannot put back a collection no-show through the interview queue)."""
    with write_transaction(session):
        visit = session.get(Visit, visit_id)
        if visit is None or visit.stage != Stage.NO_SHOW:
            raise QueueError("not_no_show")
        if campaign_id is not None and visit.campaign_id != campaign_id:
            raise QueueError("not_no_show")
        line = visit.desk.stage if visit.desk else "interview"
        if stage is not None and line != stage:
            raise QueueError("not_no_show")
        stage = line
        _move(session, visit, f"put_back_{stage}", visit.desk, actor, now)
        visit.desk = None
        visit.recalls = 0
        return visit


def _serving(session: Session, desk: Desk) -> Visit:
    visit = visit_at_desk(session, session.get(Desk, desk.id))
    if visit is None:
        raise QueueError("nobody_at_desk")
    return visit


def _move(session: Session, visit: Visit, action: str, desk, actor: Actor, now: datetime):
    try:
        event = transition(session, visit, action, actor=actor.name, device=actor.device, now=now)
    except TransitionRefused as refused:
        # Only a visit that reached a line without its record (a database written before the
        # journey guarded its medical steps) gets here; the desk is told, nothing moves.
        raise QueueError(
            refused.missing or "not_allowed", number=f"{visit.queue_number:03d}"
        ) from None
    event.desk = desk
    return event


# --- what the display shows ---------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    event_id: int
    queue_number: int
    desk_name: str
    action: str  # call | recall
    at: datetime
    desk_names: str | None = None  # the desk in other languages (kiosk/domain/names.py)

    def desk_in(self, language: str | None) -> str:
        return in_language(self.desk_names, language, self.desk_name)


@dataclass(frozen=True)
class StageWait:
    stage: str
    waiting: int
    minutes: int | None  # estimated wait for the last in line; None while unknown


def latest_calls(session: Session, campaign_id: int, count: int = 6) -> list[Call]:
    """The most recent calls and recalls, newest first, one line per visit."""
    rows = session.execute(
        select(
            Event.id, Visit.queue_number, Desk.name, Event.action, Event.at, Visit.id, Desk.names
        )
        .join(Visit, Event.visit_id == Visit.id)
        .join(Desk, Event.desk_id == Desk.id)
        .where(Event.campaign_id == campaign_id, Event.action.in_(("call", "recall")))
        .order_by(Event.id.desc())
        .limit(count * 4)
    ).all()
    calls, seen = [], set()
    for event_id, number, desk_name, action, at, visit_id, desk_names in rows:
        if visit_id in seen:
            continue
        seen.add(visit_id)
        calls.append(Call(event_id, number, desk_name, action, at, desk_names))
        if len(calls) == count:
            break
    return calls


def stage_waits(session: Session, campaign_id: int, now: datetime) -> list[StageWait]:
    """Waiting counts per stage, and how long the last in line will likely wait
    (kiosk/domain/wait_estimate.py says how)."""
    waits = []
    for desk_stage, waiting_stage in WAITING_FOR.items():
        waiting = session.scalar(
            select(func.count(Visit.id)).where(
                Visit.campaign_id == campaign_id, Visit.stage == waiting_stage
            )
        )
        wait = wait_for_line(session, campaign_id, waiting_stage, max(waiting - 1, 0), now)
        minutes = wait.minutes if isinstance(wait, WaitEstimate) else None
        waits.append(StageWait(desk_stage, waiting, minutes))
    return waits


def board_version(session: Session, campaign_id: int) -> int:
    """Changes whenever anything the queue pages show changes: every change writes an event."""
    return session.scalar(
        select(func.coalesce(func.max(Event.id), 0)).where(Event.campaign_id == campaign_id)
    )
