"""The wait a donor is told: from the day's own services and the desks open, never before enough
calls, with a range."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from kiosk.db import db
from kiosk.domain.campaigns import current_campaign
from kiosk.domain.queue import add_desk, stage_waits
from kiosk.domain.registration import Context, register
from kiosk.domain.validation import Registration
from kiosk.domain.wait_estimate import (
    MIN_SERVICES,
    PAUSE,
    WINDOW,
    NoEstimate,
    WaitEstimate,
    estimate,
    service_seconds,
    wait_for_line,
)
from kiosk.models import Event
from tests.support.factories import CAMPAIGN_DAY, FROZEN_NOW

MINUTE = timedelta(minutes=1)
FIVE_MINUTES = [300.0, 240.0, 360.0, 300.0, 300.0]


def test_no_estimate_before_enough_services():
    assert estimate(3, FIVE_MINUTES[: MIN_SERVICES - 1], 1) == NoEstimate("few_calls")
    assert isinstance(estimate(3, FIVE_MINUTES[:MIN_SERVICES], 1), WaitEstimate)


def test_no_estimate_while_no_desk_is_open():
    assert estimate(3, FIVE_MINUTES, 0) == NoEstimate("no_desk")


def test_the_estimate_is_the_people_ahead_at_the_days_pace():
    # 4 ahead, 5 minutes a donor, one desk: 4.5 × 5 = 22.5 minutes
    wait = estimate(4, FIVE_MINUTES, 1)
    assert wait.minutes in (22, 23)
    assert wait.low <= wait.minutes <= wait.high
    assert wait.low < wait.minutes < wait.high


def test_two_desks_halve_the_wait():
    one, two = estimate(9, FIVE_MINUTES, 1), estimate(9, FIVE_MINUTES, 2)
    assert two.minutes == pytest.approx(one.minutes / 2, abs=1)


def test_the_next_donor_waits_about_half_a_service_and_never_below_zero():
    wait = estimate(0, FIVE_MINUTES, 1)
    assert wait.minutes in (2, 3)
    assert 0 <= wait.low <= wait.minutes < wait.high
    uneven = estimate(0, [10.0, 900.0, 20.0, 800.0, 30.0], 1)
    assert uneven.low == 0


def test_a_steadier_pace_gives_a_narrower_range():
    steady = estimate(10, [300.0] * 4 + [301.0], 1)
    uneven = estimate(10, [60.0, 600.0, 120.0, 540.0, 180.0], 1)
    assert steady.high - steady.low < uneven.high - uneven.low


def test_services_are_between_two_calls_at_the_same_desk():
    at = FROZEN_NOW - 30 * MINUTE
    calls = [(1, at), (2, at + MINUTE), (1, at + 5 * MINUTE), (2, at + 9 * MINUTE)]
    assert sorted(service_seconds(calls, FROZEN_NOW)) == [300.0, 480.0]


def test_a_pause_at_a_desk_is_not_a_service():
    at = FROZEN_NOW - 2 * PAUSE
    calls = [(1, at), (1, at + PAUSE + MINUTE), (1, at + PAUSE + 6 * MINUTE)]
    assert service_seconds(calls, FROZEN_NOW) == [300.0]


def test_the_mornings_pace_is_forgotten():
    old = FROZEN_NOW - WINDOW - 10 * MINUTE
    calls = [(1, old), (1, old + 5 * MINUTE), (1, FROZEN_NOW - 4 * MINUTE), (1, FROZEN_NOW)]
    assert service_seconds(calls, FROZEN_NOW) == [240.0]


@pytest.fixture
def desks(app):
    with app.app_context():
        campaign = current_campaign(db.session)
        yield (
            campaign.id,
            add_desk(db.session, "Médecin 1", "interview"),
            add_desk(db.session, "Fauteuil 1", "collection"),
        )


def _calls(campaign_id: int, desk, from_stage: str, count: int, every: timedelta) -> None:
    for n in range(count):
        at = FROZEN_NOW - (count - n) * every
        db.session.add(
            Event(
                at=at,
                campaign_id=campaign_id,
                actor="doctor",
                action="call",
                from_stage=from_stage,
                to_stage=from_stage.removeprefix("waiting_"),
                desk_id=desk.id,
            )
        )
    db.session.commit()


def register_waiting(campaign_id: int, count: int) -> None:
    for n in range(1, count + 1):
        context = Context(campaign_id, CAMPAIGN_DAY, FROZEN_NOW - n * MINUTE, "fr", "kiosk")
        person = Registration("Donor", "Waiting", "F", date(1990, 1, n), None, None, "citizen")
        register(db.session, person, f"request-wait-{n:010d}", context)


def test_the_line_is_estimated_from_its_own_desks_calls(desks):
    campaign_id, doctor, chair = desks
    _calls(campaign_id, doctor, "waiting_interview", MIN_SERVICES + 1, 6 * MINUTE)
    wait = wait_for_line(db.session, campaign_id, "waiting_interview", 2, FROZEN_NOW)
    assert wait.minutes == 15  # 2.5 donors × 6 minutes, one desk calling
    collection = wait_for_line(db.session, campaign_id, "waiting_collection", 2, FROZEN_NOW)
    assert collection == NoEstimate("no_desk")


def test_a_desk_that_stopped_calling_and_has_nobody_logged_in_is_closed(desks):
    campaign_id, doctor, _ = desks
    _calls(campaign_id, doctor, "waiting_interview", MIN_SERVICES + 1, 6 * MINUTE)
    later = FROZEN_NOW + PAUSE + MINUTE
    assert wait_for_line(db.session, campaign_id, "waiting_interview", 2, later) == NoEstimate(
        "no_desk"
    )


def test_the_display_tells_the_wait_of_the_last_in_line(desks):
    campaign_id, doctor, _ = desks
    _calls(campaign_id, doctor, "waiting_interview", MIN_SERVICES + 1, 6 * MINUTE)
    register_waiting(campaign_id, 3)
    interview, _ = stage_waits(db.session, campaign_id, FROZEN_NOW)
    assert (interview.waiting, interview.minutes) == (3, 15)  # 2 ahead of the last: 2.5 × 6 min
