"""Registering: numbering, idempotency, returning donors, all or nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from kiosk.db import db
from kiosk.domain.campaigns import current_campaign
from kiosk.domain.queue import people_ahead
from kiosk.domain.registration import (
    CampaignClosed,
    Context,
    find_visit_by_token,
    register,
)
from kiosk.domain.validation import Registration
from kiosk.models import Donor, Event, Ticket, Visit
from tests.support.factories import CAMPAIGN_DAY, FROZEN_NOW

FATIMA = Registration("Fatima", "Zahra", "F", date(1990, 5, 17), "AB123456", None, "citizen")


def person(number: int, cin: str | None = None) -> Registration:
    return Registration("Donor", "Number", "M", date(1980, 1, 1), cin, None, "police")


@pytest.fixture
def context(app):
    with app.app_context():
        campaign = current_campaign(db.session)
        yield Context(campaign.id, CAMPAIGN_DAY, FROZEN_NOW, "fr", "127.0.0.1")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_numbers_follow_each_other_from_one(context):
    numbers = [
        register(db.session, person(n), f"request-{n:08d}xxxxxxxx", context).visit.queue_number
        for n in range(1, 6)
    ]
    assert numbers == [1, 2, 3, 4, 5]


def test_each_campaign_day_starts_again_at_one(context):
    register(db.session, person(1), "request-day-one-000001", context)
    next_day = Context(
        context.campaign_id, CAMPAIGN_DAY + timedelta(days=1), context.now, "fr", "x"
    )
    assert (
        register(db.session, person(2), "request-day-two-000001", next_day).visit.queue_number == 1
    )


def test_a_registration_stores_donor_visit_ticket_and_event_together(context):
    registered = register(db.session, FATIMA, "request-fatima-0000001", context)
    visit = registered.visit
    assert registered.outcome == "new"
    assert visit.stage == "waiting_interview"
    assert visit.donor.cin == "AB123456"
    assert visit.registered_at == FROZEN_NOW
    event = db.session.scalar(select(Event).where(Event.visit_id == visit.id))
    assert (event.action, event.from_stage, event.to_stage) == (
        "register",
        None,
        "waiting_interview",
    )
    assert event.actor == "kiosk"
    assert find_visit_by_token(db.session, registered.token).id == visit.id


def test_the_token_itself_is_never_stored(context):
    registered = register(db.session, FATIMA, "request-fatima-0000001", context)
    stored = db.session.scalars(select(Ticket.token_hash)).all()
    assert registered.token not in stored
    assert len(stored) == 1


def test_the_same_request_id_gives_back_the_same_visit(context):
    first = register(db.session, FATIMA, "request-double-tap-001", context)
    again = register(db.session, FATIMA, "request-double-tap-001", context)
    assert again.outcome == "replayed"
    assert again.visit.id == first.visit.id
    assert again.visit.queue_number == first.visit.queue_number
    assert count(Visit) == 1
    # Both answers' tickets open the same visit.
    assert find_visit_by_token(db.session, first.token).id == first.visit.id
    assert find_visit_by_token(db.session, again.token).id == first.visit.id


def test_a_cin_already_registered_in_the_campaign_gets_no_ticket(context):
    first = register(db.session, FATIMA, "request-first-time-0001", context)
    again = register(db.session, FATIMA, "request-second-time-001", context)
    assert again.outcome == "already_registered"
    assert again.token is None
    assert count(Visit) == 1
    assert count(Ticket) == 1  # the first registration's only
    actions = db.session.scalars(select(Event.action).order_by(Event.id)).all()
    assert actions == ["register", "registered_again"]
    assert again.visit.id == first.visit.id  # for reception, never shown at the kiosk


def test_a_registered_cin_with_another_birth_date_gets_the_same_answer(context):
    register(db.session, FATIMA, "request-first-time-0001", context)
    other = Registration("Fatima", "Zahra", "F", date(1991, 5, 17), "AB123456", None, "citizen")
    registered = register(db.session, other, "request-impostor-00001", context)
    assert registered.outcome == "already_registered"
    assert registered.token is None
    assert count(Visit) == 1


def known_fatima() -> None:
    """Fatima, known from an earlier campaign, not registered in this one."""
    db.session.add(
        Donor(
            cin="AB123456",
            first_name="Fatima",
            last_name="Zahra",
            sex="F",
            birth_date=date(1990, 5, 17),
            category="citizen",
            created_at=FROZEN_NOW,
            updated_at=FROZEN_NOW,
        )
    )
    db.session.commit()


def test_a_cin_waiting_for_its_card_check_is_registered_too(context):
    """A CIN typed with a wrong birth date is kept on a visit: typed again, it is that visit's."""
    known_fatima()
    other = Registration("Fatima", "Zahra", "F", date(1991, 5, 17), "AB123456", None, "citizen")
    first = register(db.session, other, "request-impostor-00001", context)
    assert first.outcome == "new" and first.cin_conflict
    for n, typed in enumerate((other, FATIMA)):
        again = register(db.session, typed, f"request-impostor-0001{n}", context)
        assert again.outcome == "already_registered"
    assert count(Visit) == 1


def test_a_replay_from_another_device_gets_no_ticket(context):
    register(db.session, FATIMA, "request-double-tap-001", context)
    elsewhere = Context(context.campaign_id, context.day, context.now, "fr", "10.0.0.66")
    replay = register(db.session, FATIMA, "request-double-tap-001", elsewhere)
    assert replay.outcome == "already_registered"
    assert replay.token is None
    assert count(Ticket) == 1


def test_a_known_cin_with_another_birth_date_reveals_nothing_and_waits_for_the_doctor(context):
    known_fatima()
    other = Registration("Fatima", "Zahra", "F", date(1991, 5, 17), "AB123456", None, "citizen")
    registered = register(db.session, other, "request-impostor-00001", context)
    assert registered.outcome == "new"
    assert registered.cin_conflict
    assert registered.visit.donor.cin is None  # the card's owner is not touched
    assert registered.visit.cin_conflict == "AB123456"
    owner = db.session.scalar(select(Donor).where(Donor.cin == "AB123456"))
    assert owner.birth_date == date(1990, 5, 17)


def test_donors_without_cin_are_separate_people(context):
    register(db.session, person(1), "request-no-cin-0000001", context)
    register(db.session, person(2), "request-no-cin-0000002", context)
    assert count(Donor) == 2


def test_no_registration_into_a_closed_campaign(context):
    campaign = current_campaign(db.session)
    campaign.status = "closed"
    db.session.commit()
    with pytest.raises(CampaignClosed):
        register(db.session, FATIMA, "request-closed-000001", context)
    assert count(Visit) == 0


def test_people_ahead_counts_those_waiting_before(context):
    visits = [
        register(db.session, person(n), f"request-ahead-{n:08d}", context).visit
        for n in range(1, 4)
    ]
    assert [people_ahead(db.session, visit) for visit in visits] == [0, 1, 2]
    visits[0].stage = "interview"
    db.session.commit()
    assert [people_ahead(db.session, visit) for visit in visits] == [0, 0, 1]


def test_unknown_and_malformed_tokens_find_nothing(context):
    register(db.session, FATIMA, "request-fatima-0000001", context)
    assert find_visit_by_token(db.session, "A" * 32) is None
    assert find_visit_by_token(db.session, "not a token") is None
