from __future__ import annotations

from datetime import date

import pytest

from kiosk.db import db
from kiosk.domain.campaigns import (
    CampaignDetails,
    CampaignError,
    campaign_code,
    current_campaign,
    ensure_open_campaign,
    open_campaign,
)
from kiosk.domain.registration import Context, register
from kiosk.domain.validation import Registration
from tests.support.factories import FROZEN_NOW

DAY = date(2026, 11, 24)


def test_codes_are_readable_and_ascii():
    assert campaign_code("Khénifra", DAY) == "KHE-2026-11-24"
    assert campaign_code("خنيفرة", DAY) == "CMP-2026-11-24"


def test_no_campaign_until_one_is_opened(app_without_campaign):
    with app_without_campaign.app_context():
        assert current_campaign(db.session) is None
        details = CampaignDetails("Don de sang", "Khénifra", DAY)
        campaign = ensure_open_campaign(db.session, details, FROZEN_NOW)
        assert current_campaign(db.session).id == campaign.id
        assert ensure_open_campaign(db.session, details, FROZEN_NOW).id == campaign.id


def test_an_empty_open_campaign_is_renamed_rather_than_doubled(app):
    with app.app_context():
        first = current_campaign(db.session)
        renamed = open_campaign(
            db.session, CampaignDetails("Journée mondiale", "Meknès", DAY), FROZEN_NOW
        )
        assert renamed.id == first.id
        assert (renamed.name, renamed.site, renamed.code) == (
            "Journée mondiale",
            "Meknès",
            "MEK-2026-11-24",
        )


def test_a_campaign_with_registrations_is_not_replaced(app):
    with app.app_context():
        campaign = current_campaign(db.session)
        context = Context(campaign.id, DAY, FROZEN_NOW, "fr", "test")
        donor = Registration("Ali", "Amrani", "M", date(1980, 1, 1), None, None, "citizen")
        register(db.session, donor, "request-campaign-000001", context)
        with pytest.raises(CampaignError, match="1 registrations"):
            open_campaign(db.session, CampaignDetails("Other", "Azrou", DAY), FROZEN_NOW)
        assert current_campaign(db.session).name == "Don de sang"


def test_a_campaign_needs_a_name_and_a_site(app):
    with app.app_context(), pytest.raises(CampaignError):
        open_campaign(db.session, CampaignDetails(" ", "Khénifra", DAY), FROZEN_NOW)


def screened_and_bled(visit_id: int) -> None:
    from kiosk.models import Donation, Screening

    db.session.add(
        Screening(
            visit_id=visit_id, weight_kg=70.0, systolic=120, diastolic=80, pulse=70,
            hemoglobin_g_dl=14.0, decision="eligible", doctor="amina", at=FROZEN_NOW,
        )
    )  # fmt: skip
    db.session.add(
        Donation(
            visit_id=visit_id, bag_number="CLOSE001", bag_type="single", volume_ml=450,
            started_at=FROZEN_NOW, ended_at=FROZEN_NOW, outcome="complete",
            adverse_event="none", phlebotomist="youssef", at=FROZEN_NOW,
        )
    )  # fmt: skip


def test_closing_marks_the_waiting_left_and_the_resting_done(app):
    from sqlalchemy import select

    from kiosk.domain.campaigns import close_campaign
    from kiosk.domain.queue import Actor
    from kiosk.models import Event, Visit

    with app.app_context():
        campaign = current_campaign(db.session)
        context = Context(campaign.id, DAY, FROZEN_NOW, "fr", "test")
        # The fifth rests without a donation on record (a database from before the journey
        # guarded its steps): it cannot be "done", so it is marked left like the waiting ones.
        stages = ("waiting_interview", "no_show", "rest", "done", "rest")
        for n, stage in enumerate(stages, start=1):
            donor = Registration("Ali", "Amrani", "M", date(1980, 1, n), None, None, "citizen")
            visit = register(db.session, donor, f"request-close-{n:08d}", context).visit
            visit_id = visit.id
            db.session.get(Visit, visit_id).stage = stage
            if n == 3:
                screened_and_bled(visit_id)
            db.session.commit()
        closed = close_campaign(db.session, Actor("amina", "10.0.0.2"), FROZEN_NOW)
        assert (closed.left, closed.finished) == (3, 1)
        stages = db.session.scalars(select(Visit.stage).order_by(Visit.id)).all()
        assert stages == ["left", "left", "done", "done", "left"]
        leaves = db.session.scalars(select(Event).where(Event.action == "leave")).all()
        assert {(e.actor, e.at) for e in leaves} == {("amina", FROZEN_NOW)}
        assert current_campaign(db.session) is None
        with pytest.raises(CampaignError):
            close_campaign(db.session, Actor("amina", "x"), FROZEN_NOW)
