"""A busy venue against the real server, on SQLite and on PostgreSQL: 500 registrations from 8
tablets at once, then 4 doctors and 4 phlebotomists draining the interview and collection queues
at once. Numbers 1 to 500 without a gap or a duplicate, every visit called exactly once at each
stage, no request failing. Each run prints its figures.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.server import run_kiosk_commands, running_server
from tests.support.kiosk_http import donor
from tests.support.staff_http import PASSWORD, StaffDevice, drain, register_donor
from tests.support.venue_staff import DOCTORS, PHLEBOTOMISTS

pytestmark = pytest.mark.slow

DONORS = 500
TABLETS = 8
COMMANDS_AT_ONCE = 4
STUCK_AFTER = 600  # seconds: a run still calling then is reported as stuck (not a timing test)


def register_500(base_url: str) -> tuple[list[tuple[str, int]], list[str]]:
    """Each registration's ticket token and queue number, and the errors."""
    start = threading.Barrier(TABLETS)

    def one_tablet(tablet: int) -> tuple[list[tuple[str, int]], list[str]]:
        tickets, errors = [], []
        start.wait()
        for serial in range(tablet, DONORS, TABLETS):
            try:
                tickets.append(register_donor(base_url, donor(700_000 + serial)))
            except Exception as error:  # collected: one failure shows them all
                errors.append(f"donor {serial}: {type(error).__name__}: {error}")
        return tickets, errors

    with ThreadPoolExecutor(TABLETS) as pool:
        results = list(pool.map(one_tablet, range(TABLETS)))
    return (
        [ticket for tickets, _ in results for ticket in tickets],
        [error for _, errors in results for error in errors],
    )


def staff_at_their_desks(base_url: str, **env: str) -> list[tuple[StaffDevice, str]]:
    desks = {desk: "interview" for desk in DOCTORS.values()}
    desks |= {desk: "collection" for desk in PHLEBOTOMISTS.values()}
    staff = {name: "doctor" for name in DOCTORS} | {name: "phlebotomist" for name in PHLEBOTOMISTS}
    commands = [("staff", "add", name, "--role", role) for name, role in staff.items()]
    commands += [("desk", "add", name, "--stage", stage) for name, stage in desks.items()]
    # A few at a time: sixteen Python processes starting at once on a small, shared machine can
    # take longer than run_kiosk_commands waits.
    for start in range(0, len(commands), COMMANDS_AT_ONCE):
        batch = commands[start : start + COMMANDS_AT_ONCE]
        run_kiosk_commands(base_url.instance, batch, KIOSK_PASSWORD=PASSWORD, **env)
    devices = []
    for username, desk in (DOCTORS | PHLEBOTOMISTS).items():
        device = StaffDevice(base_url, username)
        device.log_in()
        device.pick_desk(desk)
        devices.append((device, desks[desk]))
    return devices


@pytest.fixture(params=["sqlite", "postgresql"])
def venue(request, tmp_path):
    """The real server on SQLite (its instance folder's file) or on a fresh PostgreSQL database;
    yields its URL and the environment its `kiosk` commands need."""
    env = {}
    if request.param == "postgresql":
        env["DATABASE_URL"] = request.getfixturevalue("postgres_url")
    with running_server(tmp_path, **env) as base_url:
        yield request.param, base_url, env


def test_500_registrations_then_8_desks_drain_both_queues(venue):
    database, base_url, env = venue
    began = time.monotonic()
    tickets, errors = register_500(base_url)
    numbers = [number for _, number in tickets]
    registering = time.monotonic() - began
    distinct = set(numbers)
    gaps = len(set(range(1, max(distinct, default=0) + 1)) - distinct)
    print(
        f"\n{database}: {DONORS} registrations from {TABLETS} threads in {registering:.1f} s: "
        f"{len(distinct)} distinct, {gaps} gaps, {len(numbers) - len(distinct)} duplicates, "
        f"{len(errors)} errors"
    )
    assert errors == []
    assert sorted(numbers) == list(range(1, DONORS + 1))

    devices = staff_at_their_desks(base_url, **env)
    began = time.monotonic()
    logs = drain(devices, STUCK_AFTER, {number: token for token, number in tickets})
    draining = time.monotonic() - began
    for device, _ in devices:
        device.close()
    errors = [error for log in logs for error in log.errors]
    figures = []
    for stage in ("interview", "collection"):
        called = Counter(number for log in logs if log.stage == stage for number in log.called)
        twice = sorted(number for number, times in called.items() if times > 1)
        missing = sorted(set(range(1, DONORS + 1)) - set(called))
        figures.append(
            f"{stage} {sum(called.values())} calls, {len(twice)} twice, {len(missing)} never"
        )
        assert twice == [], f"called more than once at the {stage}: {twice}"
        assert missing == [], f"never called at the {stage}: {missing}"
    print(
        f"{database}: {len(devices)} desks drained both queues in {draining:.1f} s: "
        f"{'; '.join(figures)}; {len(errors)} errors"
    )
    assert errors == []
