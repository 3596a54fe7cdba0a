"""Shared fixtures: an app on a temporary instance folder, a frozen clock, an open campaign."""

from __future__ import annotations

import re

import pytest

from kiosk import create_app
from kiosk.db import db
from kiosk.domain.campaigns import CampaignDetails, open_campaign
from tests.support.factories import (  # noqa: F401 (re-exported for fixtures)
    CAMPAIGN_DAY,
    FROZEN_NOW,
    VALID_DONOR,
    Clock,
    expected_answers,
    fresh_form,
    hidden_value,
)

pytest_plugins = ["tests.support.fixtures"]


@pytest.fixture
def clock() -> Clock:
    return Clock(FROZEN_NOW)


@pytest.fixture
def sleeps() -> list[float]:
    """The pauses the login throttle asked for, instead of sleeping through them."""
    return []


@pytest.fixture
def make_app(tmp_path, clock, sleeps, monkeypatch):
    for name in ("DATABASE_URL", "KIOSK_BASE_URL", "KIOSK_SECRET_KEY", "HOST", "PORT"):
        monkeypatch.delenv(name, raising=False)

    def make(**settings):
        config = {
            "INSTANCE": tmp_path / "instance",
            "CLOCK": clock,
            "SLEEP": sleeps.append,
            # Tests register many donors in one frozen minute: the limits have their own tests.
            "REGISTRATIONS_PER_DEVICE_PER_MINUTE": 0,
            "REGISTRATIONS_PER_ADDRESS_PER_MINUTE": 0,
            **settings,
        }
        return create_app(config)

    return make


@pytest.fixture
def app_without_campaign(make_app):
    app = make_app()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(app_without_campaign, clock):
    with app_without_campaign.app_context():
        details = CampaignDetails("Don de sang", "Khénifra", CAMPAIGN_DAY, "CRTS Meknès")
        open_campaign(db.session, details, clock())
    return app_without_campaign


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def register(client):
    """Posts a whole registration as one plain form; returns the response."""

    def post(headers=None, form=None, **fields):
        data = {**(form or fresh_form(client)), **VALID_DONOR, **fields}
        data = {name: value for name, value in data.items() if value is not None}
        return client.post("/kiosk/register", data=data, headers=headers or {})

    return post


# --- PostgreSQL ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server():
    """One private PostgreSQL server for the whole run (tests/postgres.py); the tests that need
    it skip, saying why, where PostgreSQL is not installed and cannot be started."""
    from tests.postgres import PostgresUnavailable, private_server

    try:
        server = private_server()
        running = server.__enter__()
    except PostgresUnavailable as reason:
        pytest.skip(f"no PostgreSQL server for this test: {reason}")
    try:
        yield running
    finally:
        server.__exit__(None, None, None)


@pytest.fixture
def postgres_url(postgres_server, request) -> str:
    """A fresh, empty database on the private server, named after the test."""
    name = re.sub(r"[^a-z0-9_]", "_", request.node.name.lower())[:50]
    return postgres_server.new_database(f"t_{name}")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """The same test on a SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'database.sqlite3'}"
    return request.getfixturevalue("postgres_url")
