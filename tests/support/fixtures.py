"""Fixtures every test folder may use (registered by tests/conftest.py as a plugin):

- `kiosk_command(instance, database_url=None, before=None, **env)`: the `kiosk` command run in
  this process (click's runner) on that instance folder; returns `invoke(*args, input=None,
  **env)`. One runner for every test of the command line.
- `staffed`: `app` with an account per role and the desks of tests/support/staff.py; a module
  that needs other staff defines its own `staffed`, and `login_as` follows it;
- `login_as(username, desk=None)`: a test client logged in as that account, at that desk;
- `campaign_id`: the open campaign of `app` after the simulated day of simulated_day.py;
  `answered_day`: the same day with Fatima's answers to the questionnaire, as (campaign id,
  visit ids by first name).
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kiosk.cli import cli
from kiosk.db import db, write_transaction
from kiosk.domain.campaigns import current_campaign
from kiosk.domain.questionnaire import answers_to_json
from kiosk.models import Visit
from tests.support.simulated_day import FATIMAS_ANSWERS, simulate_day
from tests.support.staff import create_staff_and_desks, log_in, pick_desk


@pytest.fixture
def kiosk_command(monkeypatch):
    def make(instance, database_url: str | None = None, before=None, **env: str):
        monkeypatch.setenv("KIOSK_INSTANCE", str(instance))
        monkeypatch.delenv("KIOSK_ACTOR", raising=False)  # who typed: USER, as a test sets it
        if database_url is None:
            monkeypatch.delenv("DATABASE_URL", raising=False)
        else:
            monkeypatch.setenv("DATABASE_URL", database_url)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        runner = CliRunner()

        def invoke(*args, input=None, **more_env: str):
            if before is not None:
                before()
            arguments = [str(arg) for arg in args]
            return runner.invoke(
                cli, arguments, prog_name="kiosk", input=input, env=more_env or None
            )

        return invoke

    return make


@pytest.fixture
def campaign_id(app) -> int:
    with app.app_context():
        campaign_id = current_campaign(db.session).id
        simulate_day(campaign_id)
        yield campaign_id


@pytest.fixture
def answered_day(app):
    with app.app_context():
        campaign_id = current_campaign(db.session).id
        ids = simulate_day(campaign_id)
        with write_transaction(db.session):
            db.session.get(Visit, ids["fatima"]).answers = answers_to_json(FATIMAS_ANSWERS)
        yield campaign_id, ids


@pytest.fixture
def staffed(app):
    create_staff_and_desks(app)
    return app


@pytest.fixture
def login_as(staffed):
    def client_for(username: str, desk: str | None = None):
        client = staffed.test_client()
        assert log_in(client, username).status_code == 303
        if desk:
            assert pick_desk(client, desk).status_code == 303
        return client

    return client_for
