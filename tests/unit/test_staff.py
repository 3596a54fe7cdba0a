"""Accounts, login throttling and server-side sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kiosk.db import db
from kiosk.domain.staff import (
    MAX_FAILURES_PER_WINDOW,
    AccountError,
    LoginRefused,
    add_staff,
    disable_staff,
    log_in,
    log_out,
    may,
    record_rights,
    resume,
    throttle,
)
from kiosk.models import StaffUser
from tests.support.factories import FROZEN_NOW

IDLE = timedelta(hours=8)


@pytest.fixture
def amina(app):
    with app.app_context():
        add_staff(db.session, "Amina", "long enough", "doctor", FROZEN_NOW)
        yield


def test_accounts_are_lower_case_with_a_hashed_password(amina):
    user = db.session.scalar(db.select(StaffUser))
    assert user.username == "amina"
    assert "long enough" not in user.password_hash


@pytest.mark.parametrize(
    ("username", "password", "role", "message"),
    [
        ("a", "long enough", "doctor", "username"),
        ("bad name", "long enough", "doctor", "username"),
        ("karim", "short", "doctor", "at least 8"),
        ("karim", "long enough", "surgeon", "role"),
        ("amina", "long enough", "doctor", "already exists"),
    ],
)
def test_bad_accounts_are_refused(amina, username, password, role, message):
    with pytest.raises(AccountError, match=message):
        add_staff(db.session, username, password, role, FROZEN_NOW)


def test_a_good_password_opens_a_session_that_resumes(amina):
    user, token = log_in(db.session, "AMINA", "long enough", "10.0.0.5", FROZEN_NOW)
    assert user.username == "amina"
    assert resume(db.session, token, FROZEN_NOW + timedelta(hours=7), IDLE).user.id == user.id


def test_a_session_expires_after_inactivity_and_at_logout(amina):
    _, token = log_in(db.session, "amina", "long enough", "10.0.0.5", FROZEN_NOW)
    assert resume(db.session, token, FROZEN_NOW + IDLE + timedelta(seconds=1), IDLE) is None
    _, token = log_in(db.session, "amina", "long enough", "10.0.0.5", FROZEN_NOW)
    log_out(db.session, token, FROZEN_NOW)
    assert resume(db.session, token, FROZEN_NOW, IDLE) is None


def test_activity_keeps_a_session_alive(amina):
    _, token = log_in(db.session, "amina", "long enough", "10.0.0.5", FROZEN_NOW)
    for hours in (6, 12, 18):
        assert resume(db.session, token, FROZEN_NOW + timedelta(hours=hours), IDLE) is not None


def test_disabling_an_account_ends_its_sessions(amina):
    _, token = log_in(db.session, "amina", "long enough", "10.0.0.5", FROZEN_NOW)
    disable_staff(db.session, "amina", FROZEN_NOW)
    assert resume(db.session, token, FROZEN_NOW, IDLE) is None
    with pytest.raises(LoginRefused):
        log_in(db.session, "amina", "long enough", "10.0.0.5", FROZEN_NOW)


@pytest.mark.parametrize(("username", "password"), [("amina", "wrong one"), ("nobody", "x" * 9)])
def test_wrong_passwords_and_unknown_names_are_refused_alike(amina, username, password):
    with pytest.raises(LoginRefused) as refused:
        log_in(db.session, username, password, "10.0.0.5", FROZEN_NOW)
    assert refused.value.reason == "invalid"


def fail(count: int, address: str = "10.0.0.5", username: str = "amina") -> None:
    for _ in range(count):
        with pytest.raises(LoginRefused):
            log_in(db.session, username, "wrong one", address, FROZEN_NOW)


def test_failures_slow_down_then_refuse_for_the_rest_of_the_minute(amina):
    assert throttle(db.session, "amina", "10.0.0.5", FROZEN_NOW).delay_seconds == 0
    fail(3)
    assert throttle(db.session, "amina", "10.0.0.5", FROZEN_NOW).delay_seconds > 0
    fail(MAX_FAILURES_PER_WINDOW - 3)
    with pytest.raises(LoginRefused) as refused:
        log_in(db.session, "amina", "long enough", "10.0.0.5", FROZEN_NOW)
    assert refused.value.reason == "throttled"
    assert 1 <= refused.value.retry_after <= 61
    later = FROZEN_NOW + timedelta(seconds=61)
    assert log_in(db.session, "amina", "long enough", "10.0.0.5", later)[0].username == "amina"


def test_a_strangers_failures_never_lock_the_account_holders_own_phone(amina):
    """The attack of issue 14: ten wrong passwords for her account from one address."""
    fail(MAX_FAILURES_PER_WINDOW, address="10.0.0.66")
    with pytest.raises(LoginRefused, match="throttled"):
        log_in(db.session, "amina", "long enough", "10.0.0.66", FROZEN_NOW)
    user, _ = log_in(db.session, "amina", "long enough", "10.0.0.5", FROZEN_NOW, device="hers")
    assert user.username == "amina"


def test_the_limit_holds_per_account_on_one_device_whatever_its_address(amina):
    for n in range(MAX_FAILURES_PER_WINDOW):
        with pytest.raises(LoginRefused):
            log_in(db.session, "amina", "wrong one", f"10.0.0.{n}", FROZEN_NOW, device="phone")
    with pytest.raises(LoginRefused, match="throttled"):
        log_in(db.session, "amina", "long enough", "10.0.0.99", FROZEN_NOW, device="phone")


def test_the_limit_holds_per_address_across_accounts(amina):
    for n in range(MAX_FAILURES_PER_WINDOW):
        fail(1, username=f"guess{n}")
    with pytest.raises(LoginRefused, match="throttled"):
        log_in(db.session, "amina", "long enough", "10.0.0.5", FROZEN_NOW)
    # Another device is not punished for that address's guessing.
    assert log_in(db.session, "amina", "long enough", "10.0.0.6", FROZEN_NOW)[0]


@pytest.mark.parametrize(
    ("role", "right", "allowed"),
    [
        ("doctor", "queue.interview", True),
        ("doctor", "queue.collection", False),
        ("phlebotomist", "queue.collection", True),
        ("phlebotomist", "queue.interview", False),
        ("reception", "queue.view", True),
        ("reception", "queue.interview", False),
        ("reception", "register.walk_in", True),
        ("doctor", "admin", False),
        ("coordinator", "admin", True),
        ("coordinator", "queue.collection", True),
        ("coordinator", "anything at all", True),
        ("doctor", "unknown right", False),
    ],
)
def test_rights_by_role(role, right, allowed):
    assert may(role, right) is allowed


@pytest.mark.parametrize(
    ("role", "stage", "donated", "offered"),
    [
        ("doctor", "interview", False, {"can_screen"}),
        ("doctor", "collection", False, set()),
        ("phlebotomist", "interview", False, set()),
        ("phlebotomist", "collection", False, {"can_record_donation"}),
        ("phlebotomist", "rest", True, {"can_finish"}),
        ("reception", "interview", False, set()),
        ("reception", "rest", True, {"can_finish"}),
        ("coordinator", "interview", False, {"can_screen"}),
        ("coordinator", "done", True, {"can_correct"}),
        ("coordinator", "rest", True, {"can_finish", "can_correct"}),
        ("coordinator", "left", False, set()),
    ],
)
def test_the_record_offers_each_role_the_form_of_the_visits_stage(role, stage, donated, offered):
    rights = record_rights(role, stage, donated)
    assert {name for name, allowed in rights.items() if allowed} == offered
