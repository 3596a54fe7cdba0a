"""How good is the wait a donor is told? A simulated venue day (donors arriving at random, doctors'
interviews of random length, a doctor's break), replayed through the same functions the ticket uses
(kiosk/domain/wait_estimate.py): for every donor told an estimate, its error against the wait that
followed, and how often the real wait fell inside the range shown.

    python -m bench.wait_estimate [--days 20] [--seed 1]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kiosk.domain.wait_estimate import WaitEstimate, estimate, service_seconds

OPENING = datetime(2026, 12, 3, 8, 30, tzinfo=UTC)
DAY = timedelta(hours=6)
ARRIVALS_PER_HOUR = 19.0  # close to what two doctors at 6 minutes a donor can see: a line forms
INTERVIEW_MINUTES = 6.0
INTERVIEW_SPREAD = 0.4  # coefficient of variation of an interview's length
DESKS = 2
BREAK_STARTS, BREAK_LENGTH = timedelta(hours=3), timedelta(minutes=25)  # doctor 2's lunch


@dataclass
class Told:
    estimate: WaitEstimate
    waited_minutes: float


def simulate_day(rng: random.Random) -> tuple[list[Told], int]:
    """The donors told an estimate, and how many were told "not known yet"."""
    arrivals, at = [], OPENING
    while at < OPENING + DAY:
        at += timedelta(hours=rng.expovariate(ARRIVALS_PER_HOUR))
        arrivals.append(at)
    free_at = dict.fromkeys(range(DESKS), OPENING)
    calls: list[tuple[int, datetime]] = []
    called_at: list[datetime] = []
    for arrived in arrivals:
        desk = min(free_at, key=lambda d: max(free_at[d], arrived))
        start = max(free_at[desk], arrived)
        if desk == 1 and OPENING + BREAK_STARTS <= start < OPENING + BREAK_STARTS + BREAK_LENGTH:
            start = OPENING + BREAK_STARTS + BREAK_LENGTH
        calls.append((desk, start))
        called_at.append(start)
        free_at[desk] = start + timedelta(minutes=_interview_minutes(rng))
    told, unknown = [], 0
    for index, arrived in enumerate(arrivals):
        seen = [call for call in calls if call[1] <= arrived]
        ahead = sum(1 for earlier in called_at[:index] if earlier > arrived)
        desks_open = sum(
            1 for desk in range(DESKS) if not _on_break(desk, arrived) and _has_opened(desk, seen)
        )
        result = estimate(ahead, service_seconds(seen, arrived), desks_open)
        if isinstance(result, WaitEstimate):
            waited = (called_at[index] - arrived).total_seconds() / 60
            told.append(Told(result, waited))
        else:
            unknown += 1
    return told, unknown


def _interview_minutes(rng: random.Random) -> float:
    """Log-normal, with the mean and spread above."""
    sigma_squared = math.log(1 + INTERVIEW_SPREAD**2)
    mu = math.log(INTERVIEW_MINUTES) - sigma_squared / 2
    return rng.lognormvariate(mu, math.sqrt(sigma_squared))


def _on_break(desk: int, at: datetime) -> bool:
    return desk == 1 and OPENING + BREAK_STARTS <= at < OPENING + BREAK_STARTS + BREAK_LENGTH


def _has_opened(desk: int, calls) -> bool:
    return any(call_desk == desk for call_desk, _ in calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    told, unknown = [], 0
    for _ in range(args.days):
        day_told, day_unknown = simulate_day(rng)
        told += day_told
        unknown += day_unknown
    errors = [abs(t.estimate.minutes - t.waited_minutes) for t in told]
    inside = sum(1 for t in told if t.estimate.low <= t.waited_minutes <= t.estimate.high)
    waits = [t.waited_minutes for t in told]
    print(f"wait estimate, {args.days} simulated days, {len(told) + unknown} donors")
    print(f"  told an estimate             {len(told)}  (not yet known: {unknown})")
    print(f"  real wait, mean              {statistics.fmean(waits):.1f} min")
    print(f"  mean absolute error          {statistics.fmean(errors):.1f} min")
    print(f"  median absolute error        {statistics.median(errors):.1f} min")
    print(f"  real wait inside the range   {100 * inside / len(told):.0f} %  (aim: about 80 %)")


if __name__ == "__main__":
    main()
