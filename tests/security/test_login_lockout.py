"""Staff cannot be locked out by a stranger (issue 14): throttles per (account, device) and per
address, a limit that holds under concurrency, and the coordinator lifting a lockout."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from kiosk.db import db
from kiosk.domain.staff import MAX_FAILURES_PER_WINDOW, LoginRefused, log_in
from kiosk.domain.throttle import current_lockouts
from kiosk.models import Event, LoginAttempt
from tests.security.conftest import staff_client
from tests.support.staff import PASSWORD, create_staff_and_desks, post
from tests.support.staff import log_in as web_log_in

STRANGER = "10.0.0.66"


def client_at(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_ten_wrong_passwords_from_a_stranger_leave_her_own_phone_working(app):
    """The attack of issue 14, through the login page."""
    create_staff_and_desks(app)
    stranger = client_at(app, STRANGER)
    for _ in range(MAX_FAILURES_PER_WINDOW):
        assert web_log_in(stranger, "phlebotomist", "wrong password").status_code == 401
    assert web_log_in(stranger, "phlebotomist").status_code == 429
    her_phone = client_at(app, "10.0.0.21")
    assert web_log_in(her_phone, "phlebotomist").status_code == 303


def test_forty_simultaneous_wrong_passwords_get_at_most_the_limit_evaluated(app, monkeypatch):
    create_staff_and_desks(app)
    evaluated = []
    import kiosk.domain.staff as staff

    real_check = staff.check_password_hash

    def counting_check(hash_, password):
        evaluated.append(password)
        return real_check(hash_, password)

    monkeypatch.setattr(staff, "check_password_hash", counting_check)
    start = threading.Barrier(40)
    outcomes = []

    def try_once(n):
        with app.app_context():
            start.wait()
            try:
                log_in(db.session, "doctor", f"wrong {n}", STRANGER, app.config["CLOCK"]())
            except LoginRefused as refused:
                outcomes.append(refused.reason)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=try_once, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(evaluated) <= MAX_FAILURES_PER_WINDOW
    assert outcomes.count("invalid") == len(evaluated)
    assert outcomes.count("throttled") == 40 - len(evaluated)


def test_the_coordinator_sees_a_lockout_and_lifts_it_audited(app):
    create_staff_and_desks(app)
    stranger = client_at(app, STRANGER)
    for _ in range(MAX_FAILURES_PER_WINDOW):
        web_log_in(stranger, "doctor", "wrong password")
    coordinator = staff_client(app, "coordinator")
    page = coordinator.get("/staff/admin").text
    assert 'data-lockout="account"' in page and 'data-lockout="address"' in page
    with app.app_context():
        assert len(current_lockouts(db.session, app.config["CLOCK"]())) == 2
    answer = post(coordinator, "/staff/guard/lockouts/clear", {"address": STRANGER})
    assert answer.status_code == 303
    with app.app_context():
        lifted = db.session.scalar(select(Event).where(Event.action == "lockout_cleared"))
        assert lifted.actor == "coordinator" and STRANGER in lifted.detail
        assert current_lockouts(db.session, app.config["CLOCK"]()) == []
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(LoginAttempt)
                .where(LoginAttempt.cleared_at.isnot(None))
            )
            == MAX_FAILURES_PER_WINDOW
        )
    assert web_log_in(client_at(app, STRANGER), "doctor", PASSWORD).status_code == 303


def test_only_the_coordinator_lifts_lockouts(app):
    create_staff_and_desks(app)
    reception = staff_client(app, "reception")
    assert post(reception, "/staff/guard/lockouts/clear", {"address": STRANGER}).status_code == 403
