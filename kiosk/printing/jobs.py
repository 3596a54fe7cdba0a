"""The print queue in the database: a job is stored before anything is sent to the printer, and
jobs leave the queue one at a time, oldest first, only once the printer took them.

A job that fails (printer off, out of paper, unplugged) stays pending with its error and is tried
again: the ones behind it wait, so tickets come out in the order the donors registered. Nothing
is held locked while the printer is being talked to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kiosk.db import write_transaction
from kiosk.domain.journey import record_event
from kiosk.models import PrintJob, Visit
from kiosk.printing.layout import KINDS, Layout

PENDING = "pending"
PRINTED = "printed"
# Taken by one server's worker, being printed: no other worker takes it (issue 14: two servers
# on one database printed the same tickets). A claim older than STALE_CLAIM belongs to a server
# that died mid-print: the job goes back to the line.
CLAIMED = "printing"
STALE_CLAIM = timedelta(minutes=5)
ERROR_LENGTH = 200


def add_job(
    session: Session,
    layout: Layout,
    now: datetime,
    visit: Visit | None = None,
    requested_by: str = "",
) -> PrintJob:
    """Adds the job to the caller's transaction (a registration's, a reprint's)."""
    if layout.kind not in KINDS:
        raise ValueError(f"unknown print job kind {layout.kind!r}")
    job = PrintJob(
        kind=layout.kind,
        visit=visit,
        layout=layout.to_json(),
        created_at=now,
        requested_by=requested_by[:60],
        status=PENDING,
        attempts=0,
    )
    session.add(job)
    return job


def queue_slip(
    session: Session,
    visit_id: int,
    slip_for: Callable[[Visit], Layout | None],
    now: datetime,
    requested_by: str,
) -> bool:
    """After a decision or a donation, in a transaction of its own (the record is already
    stored): the job of the slip `slip_for` lays out, if the visit calls for one. True when a
    job was added."""
    with write_transaction(session):
        visit = session.get(Visit, visit_id)
        layout = slip_for(visit) if visit is not None else None
        if layout is None:
            return False
        add_job(session, layout, now, visit=visit, requested_by=requested_by)
        return True


def reprint_ticket(
    session: Session, visit_id: int, ticket_for: Callable[[Visit], Layout], actor, now: datetime
) -> PrintJob:
    """The ticket printed again (a lost ticket, a jammed printer): its job and the audit line,
    in one transaction."""
    with write_transaction(session):
        visit = session.get(Visit, visit_id)
        job = add_job(session, ticket_for(visit), now, visit, actor.name)
        record_event(
            session, visit, "reprint_ticket", actor=actor.name, device=actor.device, now=now
        )
        return job


def next_pending(session: Session) -> PrintJob | None:
    return session.scalar(
        select(PrintJob).where(PrintJob.status == PENDING).order_by(PrintJob.id).limit(1)
    )


def claim_next(session: Session, now: datetime) -> tuple[int, Layout] | None:
    """Takes the oldest pending job for this worker: a conditional UPDATE (WHERE status is still
    pending) under the write lock, so of two servers on one database only one gets each job."""
    session.rollback()
    with write_transaction(session):
        session.execute(
            update(PrintJob)
            .where(PrintJob.status == CLAIMED, PrintJob.last_attempt_at < now - STALE_CLAIM)
            .values(status=PENDING)
        )
        job_id = session.scalar(
            select(PrintJob.id).where(PrintJob.status == PENDING).order_by(PrintJob.id).limit(1)
        )
        if job_id is None:
            return None
        taken = session.execute(
            update(PrintJob)
            .where(PrintJob.id == job_id, PrintJob.status == PENDING)
            .values(status=CLAIMED, last_attempt_at=now)
        )
        if taken.rowcount != 1:
            return None
        layout = session.scalar(select(PrintJob.layout).where(PrintJob.id == job_id))
    session.rollback()  # no read transaction held while the printer works
    return job_id, Layout.from_json(layout or "{}")


@dataclass(frozen=True)
class Attempt:
    job_id: int
    printed: bool
    error: str | None = None


def print_next(
    session: Session,
    render: Callable[[Layout], bytes],
    send: Callable[[bytes], None],
    clock: Callable[[], datetime],
) -> Attempt | None:
    """Prints the oldest pending job, if any. The job is marked printed only after the printer
    took every byte; a failure is recorded on the job, which stays first in line."""
    claimed = claim_next(session, clock())
    if claimed is None:
        return None
    job_id, layout = claimed
    try:
        send(render(layout))
    except Exception as error:  # whatever the printer or its driver raises: retry later
        message = _one_line(error)
        with write_transaction(session):
            failed = session.get(PrintJob, job_id)
            failed.status = PENDING  # first in line again, for whichever worker comes next
            failed.attempts += 1
            failed.last_attempt_at = clock()
            failed.last_error = message[:ERROR_LENGTH]
        return Attempt(job_id, printed=False, error=message)
    with write_transaction(session):
        printed = session.get(PrintJob, job_id)
        printed.attempts += 1
        printed.last_attempt_at = printed.printed_at = clock()
        printed.status = PRINTED
        printed.last_error = None
        printed.layout = None  # the ticket's address and the first name are no longer needed
    return Attempt(job_id, printed=True)


def latest_job(session: Session, visit_id: int, kind: str = "ticket") -> PrintJob | None:
    return session.scalar(
        select(PrintJob)
        .where(PrintJob.visit_id == visit_id, PrintJob.kind == kind)
        .order_by(PrintJob.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class QueueState:
    pending: int
    printed: int
    oldest_pending: PrintJob | None
    waiting: list[PrintJob]


def queue_state(session: Session, shown: int = 10) -> QueueState:
    counts = dict(
        session.execute(select(PrintJob.status, func.count()).group_by(PrintJob.status)).all()
    )
    waiting = session.scalars(
        select(PrintJob).where(PrintJob.status == PENDING).order_by(PrintJob.id).limit(shown)
    ).all()
    return QueueState(
        pending=counts.get(PENDING, 0),
        printed=counts.get(PRINTED, 0),
        oldest_pending=waiting[0] if waiting else None,
        waiting=list(waiting),
    )


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
