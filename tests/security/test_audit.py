"""Item 10: who did what, when, from which device; no health value in the log; an audit trail
that the app cannot rewrite."""

from __future__ import annotations

import logging
import sqlite3

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError

from kiosk.audit import AuditLogIsAppendOnly, purging_audit_log
from kiosk.db import db, write_transaction
from kiosk.domain.registration import find_visit_by_token
from kiosk.models import Event
from tests.security.conftest import (
    GOOD_DONATION,
    GOOD_SCREENING,
    register_donor,
    staff_client,
)
from tests.support.factories import FROZEN_NOW
from tests.support.staff import PASSWORD, csrf_of, post

DOCTOR_PHONE = "192.168.1.31"
CHAIR_LAPTOP = "192.168.1.32"


def _events(app, *conditions) -> list[Event]:
    with app.app_context():
        found = db.session.scalars(select(Event).where(*conditions).order_by(Event.id)).all()
        db.session.expunge_all()
        return found


def _try_login(app, username, password, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    data = {"username": username, "password": password, "csrf_token": csrf_of(client)}
    return client.post("/login", data=data)


def test_logins_are_audited_and_a_mistyped_name_is_not_kept(staffed, capsys):
    assert _try_login(staffed, "doctor", PASSWORD, DOCTOR_PHONE).status_code == 303
    assert _try_login(staffed, "doctor", "not it", DOCTOR_PHONE).status_code == 401
    # A password typed in the name box must not end up in the audit log.
    assert _try_login(staffed, "Secret-Pa55word", "x", "192.168.1.99").status_code == 401
    events = _events(staffed, Event.action.in_(("login", "login_failed")))
    lines = [(e.actor, e.device, e.action, e.at) for e in events]
    assert lines == [
        ("doctor", DOCTOR_PHONE, "login", FROZEN_NOW),
        ("doctor", DOCTOR_PHONE, "login_failed", FROZEN_NOW),
        ("unknown", "192.168.1.99", "login_failed", FROZEN_NOW),
    ]
    everything = repr([vars(e) for e in _events(staffed)]).lower()
    assert "secret-pa55word" not in everything
    with capsys.disabled():
        print(f"\naudit: logins -> {[e.action for e in events]}")


def test_record_views_screening_and_donation_are_audited(staffed):
    token = register_donor(staffed, "AA600001")
    doctor = staff_client(staffed, "doctor", "Médecin 1", address=DOCTOR_PHONE)
    post(doctor, "/staff/queue/interview/call-next")
    assert doctor.get(f"/staff/visits/{token}").status_code == 200
    assert post(doctor, f"/staff/visits/{token}/screening", GOOD_SCREENING).status_code == 303
    chair = staff_client(staffed, "phlebotomist", "Fauteuil 1", address=CHAIR_LAPTOP)
    post(chair, "/staff/queue/collection/call-next")
    assert post(chair, f"/staff/visits/{token}/donation", GOOD_DONATION).status_code == 303
    with staffed.app_context():
        visit_id = find_visit_by_token(db.session, token).id
    events = _events(staffed, Event.visit_id == visit_id)
    lines = [(e.action, e.actor, e.device) for e in events]
    assert ("view_record", "doctor", DOCTOR_PHONE) in lines
    assert ("accept", "doctor", DOCTOR_PHONE) in lines
    assert ("donate", "phlebotomist", CHAIR_LAPTOP) in lines
    assert all(e.at == FROZEN_NOW for e in events)
    # Reading is audited, but it is not part of the visit's journey on the record page.
    page = doctor.get(f"/staff/visits/{token}").get_data(as_text=True)
    assert "view_record" not in page


def test_account_changes_are_audited(staffed, tmp_path, kiosk_command):
    kiosk = kiosk_command(
        tmp_path / "instance", KIOSK_PASSWORD="a long enough password", USER="amina"
    )
    added = kiosk("staff", "add", "nurse1", "--role", "phlebotomist")
    assert added.exit_code == 0, added.output
    disabled = kiosk("staff", "disable", "nurse1")
    assert disabled.exit_code == 0, disabled.output
    events = _events(staffed, Event.action.in_(("staff_add", "staff_disable")))
    assert len(events) == 7  # the five accounts of the fixture, then nurse1 twice
    assert [(e.actor, e.device) for e in events[:5]] == [("system", "server")] * 5
    events = events[5:]
    assert [(e.action, e.actor, e.device, e.detail) for e in events] == [
        ("staff_add", "amina", "server", "nurse1 (phlebotomist)"),
        ("staff_disable", "amina", "server", "nurse1"),
    ]


def test_health_values_never_reach_the_application_log(staffed, caplog, monkeypatch):
    """The whole medical flow, with wrong values and one unexpected failure on the way, with
    every logger at DEBUG: none of the answers or measurements appear in what was logged."""
    caplog.set_level(logging.DEBUG)
    token = register_donor(staffed, "AA700001", q_vaccine="yes", q_vaccine_date="2026-11-10")
    doctor = staff_client(staffed, "doctor", "Médecin 1")
    post(doctor, "/staff/queue/interview/call-next")
    doctor.get(f"/staff/visits/{token}")
    post(doctor, f"/staff/visits/{token}/findings", {**GOOD_SCREENING, "weight_kg": "41.9"})
    post(doctor, f"/staff/visits/{token}/screening", {**GOOD_SCREENING, "systolic": "293"})

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr("kiosk.web.records.record_screening", broken)
    # The vaccine two weeks ago goes against the rules: the doctor says why they accept.
    screening = {**GOOD_SCREENING, "note": "Vaccin antigrippal, pas de contre-indication"}
    failed = post(doctor, f"/staff/visits/{token}/screening", screening)
    assert failed.status_code == 500
    monkeypatch.undo()
    assert post(doctor, f"/staff/visits/{token}/screening", screening).status_code == 303
    chair = staff_client(staffed, "phlebotomist", "Fauteuil 1")
    post(chair, "/staff/queue/collection/call-next")
    assert post(chair, f"/staff/visits/{token}/donation", GOOD_DONATION).status_code == 303
    logged = "\n".join(
        record.getMessage() + (logging.Formatter().formatException(record.exc_info) or "")
        if record.exc_info
        else record.getMessage()
        for record in caplog.records
    )
    assert "the disk is full" in logged  # the log was captured, failure and all
    health = [*GOOD_SCREENING.values(), "41.9", "293", "2026-11-10", "G123498654321", "455"]
    assert [value for value in health if value in logged and value != "eligible"] == []


class TestTheAuditLogIsAppendOnly:
    @pytest.fixture
    def event_id(self, staffed):
        register_donor(staffed, "AA800001")
        with staffed.app_context():
            return db.session.scalar(select(Event.id).where(Event.action == "register"))

    def test_changing_an_event_through_the_session_is_refused(self, staffed, event_id):
        with staffed.app_context():
            with pytest.raises(AuditLogIsAppendOnly):
                with write_transaction(db.session):
                    db.session.get(Event, event_id).actor = "someone else"
            assert db.session.get(Event, event_id).actor == "kiosk"

    def test_deleting_an_event_through_the_session_is_refused(self, staffed, event_id):
        with staffed.app_context():
            with pytest.raises(AuditLogIsAppendOnly):
                with write_transaction(db.session):
                    db.session.delete(db.session.get(Event, event_id))
            assert db.session.get(Event, event_id) is not None

    @pytest.mark.parametrize(
        "statement",
        [update(Event).values(actor="someone else"), delete(Event)],
        ids=["update", "delete"],
    )
    def test_bulk_statements_are_refused(self, staffed, event_id, statement):
        with staffed.app_context():
            with pytest.raises(AuditLogIsAppendOnly):
                with write_transaction(db.session):
                    db.session.execute(statement)
            assert db.session.get(Event, event_id).actor == "kiosk"

    @pytest.mark.parametrize(
        "sql", ["UPDATE event SET actor = 'someone else'", "DELETE FROM event"]
    )
    def test_raw_sql_is_refused_by_the_database(self, staffed, event_id, sql):
        with staffed.app_context():
            with pytest.raises(IntegrityError, match="append-only"):
                with write_transaction(db.session):
                    db.session.execute(text(sql))
            assert db.session.get(Event, event_id).actor == "kiosk"

    def test_the_retention_purge_alone_may_delete_and_the_locks_come_back(self, staffed, event_id):
        with staffed.app_context():
            with write_transaction(db.session):
                with purging_audit_log(db.session):
                    db.session.execute(delete(Event).where(Event.id == event_id))
            assert db.session.get(Event, event_id) is None
            with pytest.raises(IntegrityError):
                with write_transaction(db.session):
                    db.session.execute(text("DELETE FROM event"))
            with pytest.raises(AuditLogIsAppendOnly):
                with write_transaction(db.session):
                    db.session.execute(delete(Event))
            assert db.session.scalar(select(func.count(Event.id))) > 0


def test_another_connection_to_the_file_is_refused_too(staffed):
    """The triggers live in the database file: a plain sqlite3 connection cannot rewrite it."""
    register_donor(staffed, "AA900001")
    with staffed.app_context():
        path = db.engine.url.database
    connection = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("UPDATE event SET actor = 'someone else'")
    finally:
        connection.close()
