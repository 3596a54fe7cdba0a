"""A day driven at random through every door the domain has: whatever the order of the staff's
actions, no visit reaches the chair unscreened, none leaves it without a donation, and the day's
figures never count more bags than accepted donors.

Each step picks a visit and an action (the desks' calls, recalls and absences, a put-back, the
doctor's screening either way, the phlebotomist's donation, the end of rest, and every raw
`transition` of the state machine); a refused step changes nothing and the walk goes on.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from kiosk.db import db, write_transaction
from kiosk.domain.campaigns import current_campaign
from kiosk.domain.exchange.figures import session_figures
from kiosk.domain.exchange.rows import visit_rows
from kiosk.domain.journey import TRANSITIONS, Stage, TransitionRefused, transition
from kiosk.domain.medical import (
    MedicalError,
    clean_donation,
    clean_screening,
    finish_rest,
    record_donation,
    record_screening,
)
from kiosk.domain.queue import (
    Actor,
    QueueError,
    add_desk,
    call_next,
    mark_no_show,
    put_back,
    recall,
)
from kiosk.domain.registration import Context, register
from kiosk.domain.validation import Registration
from kiosk.models import Visit
from kiosk.timezones import venue_zone
from tests.support.factories import CAMPAIGN_DAY, FROZEN_NOW

STAFF = Actor("walker", "10.0.0.9")
ZONE = venue_zone("Africa/Casablanca")
VISITS = 24
STEPS = 600
MEASURED = {
    "weight_kg": "70",
    "systolic": "120",
    "diastolic": "80",
    "pulse": "70",
    "hemoglobin_g_dl": "14",
    "note": "walk",
}
DECISIONS = [
    {"decision": "eligible"},
    {"decision": "deferred_temporary", "deferral_reason": "low_hemoglobin",
     "deferral_until": "2027-03-01"},
    {"decision": "deferred_permanent", "deferral_reason": "chronic_illness"},
]  # fmt: skip
OUTCOMES = ("complete", "partial", "failed_venipuncture")


@pytest.fixture
def day(app):
    with app.app_context():
        campaign = current_campaign(db.session)
        for n in range(1, VISITS + 1):
            moment = FROZEN_NOW + timedelta(seconds=n)
            context = Context(campaign.id, CAMPAIGN_DAY, moment, "fr", "kiosk")
            person = Registration(
                "Walk", "Er", "M", date(1980, 1, 1 + n % 28), None, None, "citizen"
            )
            register(db.session, person, f"walk-{n:010d}", context)
        desks = [
            add_desk(db.session, "Médecin 1", "interview"),
            add_desk(db.session, "Médecin 2", "interview"),
            add_desk(db.session, "Fauteuil 1", "collection"),
        ]
        yield campaign, desks


def screen(visit_id: int, choice: dict, now) -> None:
    form, errors = clean_screening({**MEASURED, **choice}, lambda _: "ok", CAMPAIGN_DAY)
    assert errors == {}
    record_screening(db.session, visit_id, form, CAMPAIGN_DAY, STAFF, now)


def donate(visit_id: int, outcome: str, now) -> None:
    form = {
        "bag_number": f"WALK{visit_id:06d}",
        "bag_type": "single",
        "volume_ml": "450",
        "started_at": "09:00",
        "ended_at": "09:10",
        "outcome": outcome,
        "adverse_event": "none",
    }
    cleaned, errors = clean_donation(form, "any", CAMPAIGN_DAY, ZONE, now)
    assert errors == {}
    record_donation(db.session, visit_id, cleaned, STAFF, now)


def raw_transition(visit_id: int, action: str, now) -> None:
    """A forged move, as a careless new route would make it: the machine alone must refuse."""
    with write_transaction(db.session):
        visit = db.session.get(Visit, visit_id)
        transition(db.session, visit, action, actor=STAFF.name, device=STAFF.device, now=now)


# Half the time a record is made for a visit at the stage it belongs to (the diligent nurse), half
# the time for any visit (the careless one); so the walk both reaches the end and tries every door.
STAGE_OF_RECORD = {4: Stage.INTERVIEW, 5: Stage.COLLECTION, 6: Stage.REST}


def pick_visit(rng: random.Random, kind: int) -> int:
    stage = STAGE_OF_RECORD.get(kind)
    if stage is not None and rng.random() < 0.5:
        at_stage = db.session.scalars(select(Visit.id).where(Visit.stage == stage)).all()
        if at_stage:
            return rng.choice(at_stage)
    return rng.randint(1, VISITS)


def step(rng: random.Random, campaign, desks, now) -> None:
    desk = rng.choice(desks)
    kind = rng.choice([0, 0, 0, 1, 2, 3, 4, 4, 5, 5, 6, 7])
    visit_id = pick_visit(rng, kind)
    if kind == 0:
        call_next(db.session, campaign.id, desk, STAFF, now)
    elif kind == 1:
        recall(db.session, desk, STAFF, now)
    elif kind == 2:
        mark_no_show(db.session, desk, STAFF, now, recalls_first=0)
    elif kind == 3:
        put_back(db.session, visit_id, STAFF, now)
    elif kind == 4:
        screen(visit_id, rng.choice(DECISIONS[:1] * 3 + DECISIONS), now)
    elif kind == 5:
        donate(visit_id, rng.choice(OUTCOMES), now)
    elif kind == 6:
        finish_rest(db.session, visit_id, STAFF, now)
    else:
        raw_transition(visit_id, rng.choice(sorted(set(TRANSITIONS) - {"leave"})), now)


@pytest.mark.parametrize("seed", range(4))
def test_a_random_day_never_bleeds_an_unscreened_donor(day, seed):
    campaign, desks = day
    rng = random.Random(seed)
    refused = 0
    for n in range(STEPS):
        now = FROZEN_NOW + timedelta(minutes=1, seconds=n)
        try:
            step(rng, campaign, desks, now)
        except (QueueError, MedicalError, TransitionRefused):
            refused += 1
            db.session.rollback()

    visits = db.session.scalars(select(Visit)).all()
    stages = {visit.stage for visit in visits}
    assert {"rest", "done"} & stages, "the walk never reached the rest area: make it longer"
    assert refused > 0
    for visit in visits:
        screening, donation = visit.screening, visit.donation
        if visit.stage in (Stage.WAITING_COLLECTION, Stage.COLLECTION, Stage.REST, Stage.DONE):
            assert screening is not None and screening.decision == "eligible", visit.queue_number
        if visit.stage in (Stage.REST, Stage.DONE):
            assert donation is not None, visit.queue_number
        if visit.stage == Stage.DEFERRED:
            assert screening is not None and screening.decision != "eligible"
        if donation is not None:
            assert screening is not None and screening.decision == "eligible"

    figures = session_figures(visit_rows(db.session, campaign, CAMPAIGN_DAY, ZONE))
    bags = sum(figures["bags"].values())
    accepted = figures["visits"]["accepted"]
    assert 0 < bags <= accepted <= figures["visits"]["interviewed"]
