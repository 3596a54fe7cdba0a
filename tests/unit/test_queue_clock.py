"""The queue follows its numbers, not the wall clock (issue 14): after the clock jumps back an
hour, "call next" still calls #1 first and every page's "people before you" stays true."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from kiosk.db import db
from kiosk.domain.campaigns import current_campaign
from kiosk.domain.queue import Actor, add_desk, call_next, people_ahead, waiting_line
from kiosk.domain.registration import Context, register
from kiosk.domain.validation import Registration
from tests.support.factories import CAMPAIGN_DAY, FROZEN_NOW

DOCTOR = Actor("doctor", "10.0.0.7")
HOUR = timedelta(hours=1)
# Registration moments: the third comes after the clock jumped back an hour.
MOMENTS = (FROZEN_NOW, FROZEN_NOW + timedelta(minutes=1), FROZEN_NOW - HOUR)


@pytest.fixture
def jumped(app):
    with app.app_context():
        campaign = current_campaign(db.session)
        visits = []
        for n, moment in enumerate(MOMENTS, start=1):
            context = Context(campaign.id, CAMPAIGN_DAY, moment, "fr", "kiosk")
            person = Registration("Donor", "Line", "M", date(1980, 1, n), None, None, "citizen")
            visits.append(register(db.session, person, f"request-clock-{n:09d}", context).visit)
        desk = add_desk(db.session, "Médecin 1", "interview")
        yield campaign.id, [visit.id for visit in visits], desk


def test_the_line_keeps_its_order_when_the_clock_jumps_back(jumped):
    campaign_id, _, _ = jumped
    line = waiting_line(db.session, campaign_id, "waiting_interview")
    assert [visit.queue_number for visit in line] == [1, 2, 3]
    assert [people_ahead(db.session, visit) for visit in line] == [0, 1, 2]


def test_call_next_calls_number_one_first_after_the_jump(jumped):
    campaign_id, _, desk = jumped
    called = []
    for moment in (FROZEN_NOW - HOUR, FROZEN_NOW - 2 * HOUR, FROZEN_NOW - 3 * HOUR):
        visit = call_next(db.session, campaign_id, desk, DOCTOR, moment)
        called.append(visit.queue_number)
        # the desk is done with this donor: make room for the next call
        visit.stage = "waiting_collection"
        visit.desk = None
        db.session.commit()
    assert called == [1, 2, 3]
