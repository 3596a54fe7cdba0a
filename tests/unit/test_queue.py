"""Desks calling from the waiting lines; what the display is given."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from kiosk.db import db, write_transaction
from kiosk.domain.campaigns import current_campaign
from kiosk.domain.medical import clean_donation, clean_screening, record_donation, record_screening
from kiosk.domain.queue import (
    Actor,
    QueueError,
    add_desk,
    board_version,
    call_next,
    latest_calls,
    mark_no_show,
    people_ahead,
    put_back,
    recall,
    stage_waits,
    waiting_line,
)
from kiosk.domain.registration import Context, register
from kiosk.domain.validation import Registration
from kiosk.models import Event, Visit
from kiosk.timezones import venue_zone
from tests.support.factories import CAMPAIGN_DAY, FROZEN_NOW
from tests.support.medical_forms import GOOD_SCREENING

DOCTOR = Actor("doctor", "10.0.0.7")
MINUTE = timedelta(minutes=1)


@pytest.fixture
def line(app):
    """Five visits waiting for the interview, two interview desks and one chair."""
    with app.app_context():
        campaign = current_campaign(db.session)
        for n in range(1, 6):
            context = Context(campaign.id, CAMPAIGN_DAY, FROZEN_NOW + n * MINUTE, "fr", "kiosk")
            person = Registration("Donor", "Waiting", "M", date(1980, 1, n), None, None, "citizen")
            register(db.session, person, f"request-line-{n:010d}", context)
        desks = {
            "m1": add_desk(db.session, "Médecin 1", "interview"),
            "m2": add_desk(db.session, "Médecin 2", "interview"),
            "f1": add_desk(db.session, "Fauteuil 1", "collection"),
        }
        yield campaign.id, desks


def numbers(visits) -> list[int]:
    return [visit.queue_number for visit in visits]


def test_desks_call_in_order_and_never_the_same_donor(line):
    campaign_id, desks = line
    first = call_next(db.session, campaign_id, desks["m1"], DOCTOR, FROZEN_NOW)
    second = call_next(db.session, campaign_id, desks["m2"], DOCTOR, FROZEN_NOW)
    assert (first.queue_number, second.queue_number) == (1, 2)
    assert first.stage == second.stage == "interview"
    assert first.desk.name == "Médecin 1"
    assert numbers(waiting_line(db.session, campaign_id, "waiting_interview")) == [3, 4, 5]


def test_calling_again_while_serving_gives_back_the_same_visit(line):
    campaign_id, desks = line
    first = call_next(db.session, campaign_id, desks["m1"], DOCTOR, FROZEN_NOW)
    again = call_next(db.session, campaign_id, desks["m1"], DOCTOR, FROZEN_NOW)
    assert again.id == first.id
    calls = db.session.scalars(select(Event).where(Event.action == "call")).all()
    assert len(calls) == 1


def test_an_empty_line_calls_nobody(line):
    campaign_id, desks = line
    assert call_next(db.session, campaign_id, desks["f1"], DOCTOR, FROZEN_NOW) is None


DONATION = {
    "bag_number": "G123498654321",
    "bag_type": "single",
    "volume_ml": "450",
    "started_at": "09:31",
    "ended_at": "09:40",
    "outcome": "complete",
    "adverse_event": "none",
}


def screen(visit_id: int, now, **fields) -> None:
    form, errors = clean_screening({**GOOD_SCREENING, **fields}, lambda _: "ok", CAMPAIGN_DAY)
    assert errors == {}
    record_screening(db.session, visit_id, form, CAMPAIGN_DAY, DOCTOR, now)


def donate(visit_id: int, now) -> None:
    zone = venue_zone("Africa/Casablanca")
    form, errors = clean_donation(DONATION, "any", CAMPAIGN_DAY, zone, now)
    assert errors == {}
    record_donation(db.session, visit_id, form, DOCTOR, now)


def test_the_screening_sends_the_visit_to_the_collection_line_and_the_donation_to_rest(line):
    campaign_id, desks = line
    called = call_next(db.session, campaign_id, desks["m1"], DOCTOR, FROZEN_NOW)
    screen(called.id, FROZEN_NOW + MINUTE)
    visit = db.session.get(Visit, called.id)
    assert visit.stage == "waiting_collection" and visit.desk is None
    chair = call_next(db.session, campaign_id, desks["f1"], DOCTOR, FROZEN_NOW + 2 * MINUTE)
    assert chair.id == visit.id and chair.stage == "collection"
    donate(chair.id, FROZEN_NOW + 20 * MINUTE)
    assert db.session.get(Visit, chair.id).stage == "rest"


def test_there_is_no_way_to_the_chair_but_the_screening(line):
    """The console's old "send on" is gone from the queue, and the state machine itself refuses
    a visit that reaches the collection line without an eligible screening."""
    import kiosk.domain.queue as queue

    assert not hasattr(queue, "send_on")
    campaign_id, desks = line
    with write_transaction(db.session):  # a line written by hand, as an old database might hold
        db.session.get(Visit, 1).stage = "waiting_collection"
    with pytest.raises(QueueError) as refused:
        call_next(db.session, campaign_id, desks["f1"], DOCTOR, FROZEN_NOW)
    assert refused.value.code == "eligible_screening"
    assert refused.value.params == {"number": "001"}
    assert db.session.get(Visit, 1).stage == "waiting_collection"


def test_no_show_only_after_the_recalls_then_put_back_at_the_end(line):
    campaign_id, desks = line
    call_next(db.session, campaign_id, desks["m1"], DOCTOR, FROZEN_NOW)
    with pytest.raises(QueueError) as too_soon:
        mark_no_show(db.session, desks["m1"], DOCTOR, FROZEN_NOW, recalls_first=2)
    assert too_soon.value.code == "recall_first"
    recall(db.session, desks["m1"], DOCTOR, FROZEN_NOW)
    recall(db.session, desks["m1"], DOCTOR, FROZEN_NOW)
    absent = mark_no_show(db.session, desks["m1"], DOCTOR, FROZEN_NOW, recalls_first=2)
    assert absent.stage == "no_show"
    assert call_next(db.session, campaign_id, desks["m1"], DOCTOR, FROZEN_NOW).queue_number == 2

    back = put_back(db.session, absent.id, DOCTOR, FROZEN_NOW + 10 * MINUTE)
    assert back.stage == "waiting_interview" and back.recalls == 0
    assert numbers(waiting_line(db.session, campaign_id, "waiting_interview")) == [3, 4, 5, 1]
    assert people_ahead(db.session, back) == 3
    with pytest.raises(QueueError):
        put_back(db.session, back.id, DOCTOR, FROZEN_NOW)


def test_actions_need_someone_at_the_desk(line):
    _, desks = line
    with pytest.raises(QueueError, match="nobody_at_desk"):
        recall(db.session, desks["m1"], DOCTOR, FROZEN_NOW)


def test_every_desk_action_is_an_audit_event_with_its_desk(line):
    campaign_id, desks = line
    call_next(db.session, campaign_id, desks["m1"], DOCTOR, FROZEN_NOW)
    recall(db.session, desks["m1"], DOCTOR, FROZEN_NOW)
    screen(1, FROZEN_NOW)
    rows = db.session.execute(
        select(Event.action, Event.from_stage, Event.to_stage, Event.actor, Event.device)
        .where(Event.desk_id == desks["m1"].id)
        .order_by(Event.id)
    ).all()
    assert rows == [
        ("call", "waiting_interview", "interview", "doctor", "10.0.0.7"),
        ("recall", "interview", "interview", "doctor", "10.0.0.7"),
        ("accept", "interview", "waiting_collection", "doctor", "10.0.0.7"),
    ]


def test_the_display_gets_the_latest_calls_newest_first_one_line_a_visit(line):
    campaign_id, desks = line
    before = board_version(db.session, campaign_id)
    call_next(db.session, campaign_id, desks["m1"], DOCTOR, FROZEN_NOW)
    call_next(db.session, campaign_id, desks["m2"], DOCTOR, FROZEN_NOW)
    recall(db.session, desks["m1"], DOCTOR, FROZEN_NOW)
    calls = latest_calls(db.session, campaign_id)
    assert [(c.queue_number, c.desk_name, c.action) for c in calls] == [
        (1, "Médecin 1", "recall"),
        (2, "Médecin 2", "call"),
    ]
    assert board_version(db.session, campaign_id) > before


def test_the_wait_is_not_guessed_from_the_first_calls(line):
    # The estimate itself is tested in test_wait_estimate.py; two calls are not a pace yet.
    campaign_id, desks = line
    assert stage_waits(db.session, campaign_id, FROZEN_NOW)[0].minutes is None
    for n, desk in enumerate(("m1", "m2")):
        call_next(db.session, campaign_id, desks[desk], DOCTOR, FROZEN_NOW + n * 6 * MINUTE)
    interview, collection = stage_waits(db.session, campaign_id, FROZEN_NOW + 6 * MINUTE)
    assert (interview.waiting, interview.minutes) == (3, None)
    assert (collection.waiting, collection.minutes) == (0, None)


@pytest.mark.parametrize(
    ("name", "stage", "code"),
    [
        ("", "interview", "desk_name"),
        ("x" * 41, "interview", "desk_name"),
        ("Lab", "rest", "desk_stage"),
        ("médecin 1", "interview", "desk_exists"),
    ],
)
def test_bad_desks_are_refused(line, name, stage, code):
    with pytest.raises(QueueError) as refused:
        add_desk(db.session, name, stage)
    assert refused.value.code == code


def test_visits_of_the_line_are_untouched_by_a_refused_action(line):
    campaign_id, desks = line
    with pytest.raises(QueueError):
        mark_no_show(db.session, desks["m1"], DOCTOR, FROZEN_NOW, recalls_first=0)
    stages = set(db.session.scalars(select(Visit.stage)))
    assert stages == {"waiting_interview"}
