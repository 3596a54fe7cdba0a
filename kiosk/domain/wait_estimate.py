"""How long a waiting donor will likely wait before being called, from the day's own pace.

How it is computed (say this to anyone who asks why the ticket says "about 25 minutes"):
- A *service* is the time a desk spends on one donor: the time between two consecutive calls at the
  same desk, for the line that desk serves. A gap longer than `PAUSE` (a break, a desk left
  unattended) is not a service and is left out; only services that ended in the last `WINDOW` count,
  so the estimate follows the pace of the last hours, not of the morning.
- Nothing is estimated before `MIN_SERVICES` services were seen, or while no desk of that line is
  open (a staff member logged in at it, or a call from it in the last `PAUSE`): the pages say so.
- With `d` desks open, mean service `m` and standard deviation `s` (from `k` services), a donor with
  `n` people ahead is called once `n` donors left the desks and one more desk came free: on average
  `(n + 1/2) · m / d`. The range is that ± 1.28 standard deviations (an 80 % band): the spread of
  `n + 1` services shared by `d` desks, `s · √(n + 1) / d`, plus the uncertainty of `m` itself,
  `s · (n + 1) / (d · √k)`.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.domain.journey import Stage
from kiosk.models import Desk, Event, StaffSession, Visit

MIN_SERVICES = 5
WINDOW = timedelta(hours=2)
PAUSE = timedelta(minutes=30)
LIVE_SESSION = timedelta(minutes=15)
BAND = 1.28  # standard deviations either side: 80 % of waits fall inside the range

DESK_STAGE_FOR = {Stage.WAITING_INTERVIEW: "interview", Stage.WAITING_COLLECTION: "collection"}


@dataclass(frozen=True)
class WaitEstimate:
    """Whole minutes; `low` ≤ `minutes` ≤ `high`."""

    minutes: int
    low: int
    high: int


@dataclass(frozen=True)
class NoEstimate:
    """Why there is no estimate yet: "few_calls" (the day's pace is not known) or "no_desk"."""

    reason: str


def service_seconds(calls: Iterable[tuple[int, datetime]], now: datetime) -> list[float]:
    """The services seen in `calls` (desk id, time of the call), in seconds."""
    by_desk: dict[int, list[datetime]] = {}
    for desk_id, at in calls:
        by_desk.setdefault(desk_id, []).append(at)
    services = []
    for times in by_desk.values():
        times.sort()
        for before, after in zip(times, times[1:], strict=False):
            if after - before <= PAUSE and now - after <= WINDOW:
                services.append((after - before).total_seconds())
    return services


def estimate(ahead: int, services: Sequence[float], desks_open: int) -> WaitEstimate | NoEstimate:
    """The wait of a donor with `ahead` people before them, from the services seen today."""
    if desks_open < 1:
        return NoEstimate("no_desk")
    if len(services) < MIN_SERVICES:
        return NoEstimate("few_calls")
    mean = statistics.fmean(services)
    spread = statistics.stdev(services)
    served = ahead + 1
    centre = (ahead + 0.5) * mean / desks_open
    deviation = spread * (math.sqrt(served) + served / math.sqrt(len(services))) / desks_open
    low = max(0.0, centre - BAND * deviation)
    high = centre + BAND * deviation
    return WaitEstimate(
        minutes=round(centre / 60), low=math.floor(low / 60), high=max(1, math.ceil(high / 60))
    )


def wait_for_line(
    session: Session, campaign_id: int, waiting_stage: str, ahead: int, now: datetime
) -> WaitEstimate | NoEstimate:
    """The estimate for a donor with `ahead` people before them in `waiting_stage`'s line."""
    desk_stage = DESK_STAGE_FOR[Stage(waiting_stage)]
    calls = session.execute(
        select(Event.desk_id, Event.at).where(
            Event.campaign_id == campaign_id,
            Event.action == "call",
            Event.from_stage == waiting_stage,
            Event.desk_id.is_not(None),
            Event.at >= now - WINDOW - PAUSE,
        )
    ).all()
    desks = _desks_open(session, desk_stage, calls, now)
    return estimate(ahead, service_seconds(calls, now), len(desks))


def wait_for_visit(
    session: Session, visit: Visit, ahead: int, now: datetime
) -> WaitEstimate | NoEstimate | None:
    """None once the visit no longer waits in a line."""
    if visit.stage not in DESK_STAGE_FOR:
        return None
    return wait_for_line(session, visit.campaign_id, visit.stage, ahead, now)


def _desks_open(session: Session, desk_stage: str, calls, now: datetime) -> set[int]:
    """Desks with a staff member logged in at them, and desks that called lately."""
    staffed = session.scalars(
        select(StaffSession.desk_id)
        .join(Desk, StaffSession.desk_id == Desk.id)
        .where(
            Desk.stage == desk_stage,
            StaffSession.ended_at.is_(None),
            StaffSession.last_seen_at >= now - LIVE_SESSION,
        )
    ).all()
    calling = {desk_id for desk_id, at in calls if now - at <= PAUSE}
    return set(staffed) | calling
