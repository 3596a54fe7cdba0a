"""A venue mid-morning for the security tests: staff, desks, and donors at every stage."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from kiosk.db import db
from tests.support.factories import VALID_DONOR, fresh_form
from tests.support.staff import log_in, pick_desk, post

ROLES = ("reception", "doctor", "phlebotomist", "coordinator")
# Audit lines that reading writes (who opened which record, who logged in): not a change of state.
ACCESS_ACTIONS = ("view_record", "login", "login_failed", "voice_clips_exported")
GOOD_SCREENING = {
    "weight_kg": "77.7",
    "systolic": "131",
    "diastolic": "83",
    "pulse": "67",
    "hemoglobin_g_dl": "14.3",
    "decision": "eligible",
}
GOOD_DONATION = {
    "bag_number": "G123498654321",
    "bag_type": "triple",
    "volume_ml": "455",
    "started_at": "09:10",
    "ended_at": "09:20",
    "outcome": "complete",
    "adverse_event": "none",
}


def staff_client(app, username: str, desk: str | None = None, address: str = "127.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    assert log_in(client, username).status_code == 303
    if desk:
        assert pick_desk(client, desk).status_code == 303
    return client


def register_donor(app, cin: str, **fields) -> str:
    """A donor registered at the kiosk (its own browser); returns the ticket's token."""
    kiosk = app.test_client()
    data = {**fresh_form(kiosk), **VALID_DONOR, "cin": cin, **fields}
    response = kiosk.post("/kiosk/register", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return response.headers["Location"].rsplit("/", 1)[1]


def snapshot(app, ignore: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """Every row of every table (audit lines of mere reading left out), to compare before and
    after a request that must change nothing."""
    with app.app_context():
        rows = {}
        for table in db.metadata.sorted_tables:
            if table.name in ignore:
                continue
            query = select(table)
            if table.name == "event":
                query = query.where(table.c.action.not_in(ACCESS_ACTIONS))
            rows[table.name] = sorted(map(tuple, db.session.execute(query)), key=repr)
        db.session.rollback()
        return rows


@dataclass
class Venue:
    app: object
    waiting: str  # token of a donor waiting for the interview
    interview: str  # called by the doctor at Médecin 1
    collection: str  # screened, called by the phlebotomist at Fauteuil 1
    rest: str  # donated, resting


@pytest.fixture
def venue(staffed) -> Venue:
    return build_venue(staffed)


def build_venue(app) -> Venue:
    """Four donors: resting after a donation, at collection, at interview, and waiting."""
    tokens = [register_donor(app, f"AA20000{n}") for n in range(1, 5)]
    doctor = staff_client(app, "doctor", "Médecin 1")
    phlebotomist = staff_client(app, "phlebotomist", "Fauteuil 1")
    for token in tokens[:3]:  # rest, collection, interview in that order
        post(doctor, "/staff/queue/interview/call-next")
        if token != tokens[2]:
            response = post(doctor, f"/staff/visits/{token}/screening", GOOD_SCREENING)
            assert response.status_code == 303
    post(phlebotomist, "/staff/queue/collection/call-next")
    bag = {**GOOD_DONATION}
    response = post(phlebotomist, f"/staff/visits/{tokens[0]}/donation", bag)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    post(phlebotomist, "/staff/queue/collection/call-next")
    return Venue(app, tokens[3], tokens[2], tokens[1], tokens[0])
