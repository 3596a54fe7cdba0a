"""Every staff action checks its stage and its campaign (issue 14): the put-back of a no-show
through another line's route, or of another campaign's visit, is refused and changes nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from kiosk.db import db
from kiosk.domain.registration import find_visit_by_token
from kiosk.models import Campaign, Visit
from tests.security.conftest import snapshot, staff_client
from tests.support.staff import post

ROLES_AT_INTERVIEW = (("doctor", "Médecin 1"), ("coordinator", None))
ROLES_AT_COLLECTION = (("phlebotomist", "Fauteuil 1"), ("coordinator", None))


def collection_no_show(venue) -> int:
    phlebotomist = staff_client(venue.app, "phlebotomist", "Fauteuil 1")
    for _ in range(2):
        post(phlebotomist, "/staff/queue/collection/recall")
    assert post(phlebotomist, "/staff/queue/collection/no-show").status_code == 200
    with venue.app.app_context():
        visit = find_visit_by_token(db.session, venue.collection)
        assert visit.stage == "no_show"
        return visit.id


def test_a_doctor_cannot_put_back_a_collection_no_show_through_the_interview_line(venue):
    visit_id = collection_no_show(venue)
    clients = {role: staff_client(venue.app, role, desk) for role, desk in ROLES_AT_INTERVIEW}
    before = snapshot(venue.app)
    for role, client in clients.items():
        answer = post(client, "/staff/queue/interview/put-back", {"visit": str(visit_id)})
        assert answer.status_code == 409, role
        assert snapshot(venue.app) == before, role
    phlebotomist = staff_client(venue.app, "phlebotomist", "Fauteuil 1")
    answer = post(phlebotomist, "/staff/queue/collection/put-back", {"visit": str(visit_id)})
    assert answer.status_code == 200
    with venue.app.app_context():
        assert db.session.get(Visit, visit_id).stage == "waiting_collection"


def test_a_no_show_of_another_campaign_is_not_put_back(venue):
    visit_id = collection_no_show(venue)
    with venue.app.app_context():
        visit = db.session.get(Visit, visit_id)
        other = Campaign(
            code="OLD-1",
            name="Ancienne collecte",
            site="Khénifra",
            starts_on=visit.queue_day - timedelta(days=90),
            ends_on=visit.queue_day - timedelta(days=90),
            status="closed",
            opened_at=visit.registered_at - timedelta(days=90),
        )
        db.session.add(other)
        db.session.flush()
        visit.campaign_id = other.id
        db.session.commit()
    clients = {role: staff_client(venue.app, role, desk) for role, desk in ROLES_AT_COLLECTION}
    before = snapshot(venue.app)
    for role, client in clients.items():
        answer = post(client, "/staff/queue/collection/put-back", {"visit": str(visit_id)})
        assert answer.status_code == 409, role
        assert snapshot(venue.app) == before, role
    with venue.app.app_context():
        assert db.session.scalar(select(Visit.stage).where(Visit.id == visit_id)) == "no_show"


# Every staff POST that acts on one visit, with a form that would be accepted at the right stage.
VISIT_ACTIONS = {
    "screening": ("/staff/visits/{token}/screening", "GOOD_SCREENING"),
    "donation": ("/staff/visits/{token}/donation", "GOOD_DONATION"),
    "donation correction": ("/staff/visits/{token}/donation/correct", "GOOD_DONATION"),
    "finish": ("/staff/visits/{token}/finish", None),
}
ROLES = (
    ("reception", None),
    ("doctor", "Médecin 1"),
    ("phlebotomist", "Fauteuil 1"),
    ("coordinator", None),
)


def test_the_visit_actions_refuse_a_visit_of_another_stage_for_every_role(venue):
    """The walk of issue 14 over the visit's own actions: a donor still waiting for the interview
    is screened by no one, given no donation, finished by no one; nothing changes."""
    assert walk_visit_actions(venue, venue.waiting) == []


def test_the_visit_actions_refuse_a_visit_of_another_campaign_for_every_role(venue):
    """The donor at collection, moved to a closed campaign of long ago: no action reaches it."""
    with venue.app.app_context():
        visit = find_visit_by_token(db.session, venue.collection)
        other = Campaign(
            code="OLD-2",
            name="Ancienne collecte",
            site="Khénifra",
            starts_on=visit.queue_day - timedelta(days=90),
            ends_on=visit.queue_day - timedelta(days=90),
            status="closed",
            opened_at=visit.registered_at - timedelta(days=90),
        )
        db.session.add(other)
        db.session.flush()
        visit.campaign_id = other.id
        db.session.commit()
    assert walk_visit_actions(venue, venue.collection) == []


def walk_visit_actions(venue, token: str) -> list[str]:
    """Every visit action × every role on this visit; the ones that changed the database."""
    from tests.security import conftest as forms

    clients = {role: staff_client(venue.app, role, desk) for role, desk in ROLES}
    before = snapshot(venue.app)
    problems = []
    for role, client in clients.items():
        for name, (url, form) in VISIT_ACTIONS.items():
            data = dict(getattr(forms, form)) if form else {}
            answer = post(client, url.format(token=token), data)
            if snapshot(venue.app) != before:
                problems.append(f"{role} {name}: {answer.status_code} changed the database")
                before = snapshot(venue.app)
    return problems
