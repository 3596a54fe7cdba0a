"""Retention: confirming the centre received a campaign's export, then purging its personal data
after RETENTION_DAYS — what goes, what stays, all or nothing, and the command line."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kiosk.backups import list_backups, take_backup
from kiosk.db import db, write_transaction
from kiosk.domain import retention
from kiosk.domain.campaigns import CampaignDetails, close_campaign, open_campaign
from kiosk.domain.queue import Actor
from kiosk.domain.registration import Context, register
from kiosk.domain.retention import (
    RetentionError,
    confirm_export_received,
    plan_purge,
    purge,
)
from kiosk.domain.validation import Registration
from kiosk.models import Campaign, Donation, Donor, Event, PrintJob, Screening, Ticket, Visit
from tests.support.factories import CAMPAIGN_DAY

NEXT_DAY = CAMPAIGN_DAY + timedelta(days=30)
COORDINATOR = Actor("nadia", "server")


def person(serial: int) -> Registration:
    return Registration(
        first_name="Fatima",
        last_name="Zahra",
        sex="F",
        birth_date=date(1985, 1 + serial % 12, 1 + serial % 28),
        cin=f"RT{serial:06d}",
        phone="+212612345678",
        category="citizen",
    )


def register_at(campaign: Campaign, serials, now, day) -> list[Visit]:
    context = Context(campaign.id, day, now, "fr", "kiosk-1")
    return [
        register(db.session, person(serial), f"retention-{day}-{serial:06d}", context).visit
        for serial in serials
    ]


def screen_and_collect(visit: Visit, now) -> None:
    with write_transaction(db.session):
        db.session.add(
            Screening(
                visit_id=visit.id,
                weight_kg=70.0,
                systolic=120,
                diastolic=80,
                pulse=70,
                hemoglobin_g_dl=14.0,
                decision="eligible",
                doctor="amina",
                at=now,
            )
        )
        db.session.add(
            Donation(
                visit_id=visit.id,
                bag_number=f"BAG{visit.id:05d}",
                bag_type="single",
                volume_ml=450,
                started_at=now,
                ended_at=now,
                outcome="complete",
                phlebotomist="youssef",
                at=now,
            )
        )


@pytest.fixture
def two_campaigns(app, clock):
    """The first campaign (donors 1–3, one screened and collected) closed; a second one, a
    month later, where donor 3 comes back and donor 4 is new; donor 9 known only from the
    centre's list."""
    with app.app_context():
        first = db.session.scalar(select(Campaign))
        visits = register_at(first, [1, 2, 3], clock(), CAMPAIGN_DAY)
        screen_and_collect(visits[0], clock())
        close_campaign(db.session, COORDINATOR, clock())
        with write_transaction(db.session):
            db.session.add(
                Donor(
                    cin="RT000009",
                    first_name="Imported",
                    last_name="Donor",
                    sex="M",
                    birth_date=date(1970, 1, 1),
                    category="citizen",
                    created_at=clock(),
                    updated_at=clock(),
                )
            )
        later = clock() + timedelta(days=30)
        second = open_campaign(
            db.session, CampaignDetails("Don de sang", "Midelt", NEXT_DAY, "CRTS Meknès"), later
        )
        register_at(second, [3, 4], later, NEXT_DAY)
        db.session.rollback()
    return app


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def first_campaign() -> Campaign:
    return db.session.scalar(select(Campaign).order_by(Campaign.id))


def test_only_a_closed_campaign_can_be_confirmed(app, clock):
    with app.app_context():
        code = first_campaign().code
        with pytest.raises(RetentionError, match="still open"):
            confirm_export_received(db.session, code, "nadia", "server", clock())
        with pytest.raises(RetentionError, match="no campaign"):
            confirm_export_received(db.session, "NOPE", "nadia", "server", clock())
        assert first_campaign().export_received_at is None


def test_confirming_records_the_time_once_and_an_audit_event(two_campaigns, clock):
    with two_campaigns.app_context():
        code = first_campaign().code
        confirmed = confirm_export_received(db.session, code, "nadia", "server", clock())
        assert confirmed.export_received_at == clock()
        again = confirm_export_received(
            db.session, code, "nadia", "server", clock() + timedelta(days=1)
        )
        assert again.export_received_at == clock()
        events = db.session.scalars(select(Event).where(Event.action == "export_received"))
        assert [(e.actor, e.campaign_id, e.visit_id) for e in events] == [
            ("nadia", confirmed.id, None)
        ]


def test_the_plan_says_why_each_campaign_is_kept(two_campaigns, clock):
    with two_campaigns.app_context():
        first = first_campaign()
        after_both = NEXT_DAY + timedelta(days=1)
        plan = plan_purge(db.session, after_both, clock(), 30)
        assert plan.purgeable == []
        reasons = {kept.campaign.code: kept.reason for kept in plan.kept}
        assert "confirm-received" in reasons[first.code]
        assert reasons[next(code for code in reasons if code != first.code)] == "still open"

        confirm_export_received(db.session, first.code, "nadia", "server", clock())
        within = plan_purge(db.session, after_both, clock() + timedelta(days=29), 30)
        assert [kept.reason for kept in within.kept][0].startswith("kept until 2026-12-24")
        due = plan_purge(db.session, after_both, clock() + timedelta(days=30), 30)
        assert [campaign.code for campaign in due.purgeable] == [first.code]
        # --before excludes campaigns that end on or after it.
        assert plan_purge(db.session, CAMPAIGN_DAY, clock() + timedelta(days=30), 30).kept == []


def test_a_purge_removes_the_visits_and_the_donors_seen_only_there(two_campaigns, clock):
    with two_campaigns.app_context():
        first = first_campaign()
        confirm_export_received(db.session, first.code, "nadia", "server", clock())
        events_before = count(Event)
        # A ticket never printed still holds the donor's first name: it goes with the visit.
        with write_transaction(db.session):
            visit_id = db.session.scalar(select(Visit.id).where(Visit.campaign_id == first.id))
            db.session.add(PrintJob(kind="ticket", visit_id=visit_id, created_at=clock()))
        now = clock() + timedelta(days=31)
        purged = purge(db.session, [first.id], NEXT_DAY, "nadia", "server", now, 30)

        assert purged.campaigns == [first.code]
        assert purged.counts == {
            "visits": 3,
            "donors": 2,
            "tickets": 3,
            "screenings": 1,
            "donations": 1,
            "event_unlinked": 3 + 3,  # three registrations, three marked left at closing
            "print_jobs": 1,
        }
        assert count(PrintJob) == 0
        assert db.session.scalars(select(Visit.campaign_id)).all() == [first.id + 1] * 2
        assert sorted(db.session.scalars(select(Donor.cin))) == ["RT000003", "RT000004", "RT000009"]
        assert count(Screening) == count(Donation) == 0
        assert count(Ticket) == 2
        # The audit log keeps every event, unlinked from the purged visits, plus the purge.
        assert count(Event) == events_before + 1
        first_events = db.session.scalars(select(Event).where(Event.campaign_id == first.id))
        assert {event.visit_id for event in first_events} == {None}
        (event,) = db.session.scalars(select(Event).where(Event.action == "purge"))
        assert json.loads(event.detail) == {
            "campaigns": [first.code],
            "before": NEXT_DAY.isoformat(),
            **purged.counts,
        }
        assert (event.actor, event.visit_id) == ("nadia", None)
        assert db.session.get(Campaign, first.id).purged_at == now
        assert db.session.execute(db.text("PRAGMA foreign_key_check")).all() == []


def test_a_purge_is_refused_for_an_unconfirmed_campaign(two_campaigns, clock):
    with two_campaigns.app_context():
        first = first_campaign()
        with pytest.raises(RetentionError, match="has not confirmed"):
            purge(db.session, [first.id], NEXT_DAY, "nadia", "server", clock(), 30)
        assert count(Visit) == 5


def test_a_purge_that_fails_half_way_changes_nothing(two_campaigns, clock, monkeypatch):
    with two_campaigns.app_context():
        first = first_campaign()
        confirm_export_received(db.session, first.code, "nadia", "server", clock())
        deleted = []

        def delete_then_fail(session, table, ids):
            deleted.append(table.name)
            if table.name == "donor":
                raise OSError("disk full")
            original(session, table, ids)

        original = retention._delete_ids
        monkeypatch.setattr(retention, "_delete_ids", delete_then_fail)
        with pytest.raises(OSError):
            purge(db.session, [first.id], NEXT_DAY, "nadia", "server", clock(), 0)
        assert deleted == ["visit", "donor"]
        assert count(Visit) == 5 and count(Donor) == 5 and count(Screening) == 1
        assert db.session.scalar(select(func.count()).where(Event.visit_id.is_(None))) == 1
        assert first_campaign().purged_at is None


# --- the command line ----------------------------------------------------------------------------


@pytest.fixture
def kiosk(two_campaigns, kiosk_command):
    return kiosk_command(two_campaigns.instance_path, KIOSK_RETENTION_DAYS="0", USER="nadia")


def visit_count(app) -> int:
    connection = sqlite3.connect(Path(app.instance_path) / "kiosk.sqlite3")
    try:
        return connection.execute("SELECT count(*) FROM visit").fetchone()[0]
    finally:
        connection.close()


def test_purge_on_the_command_line(kiosk, two_campaigns, clock):
    with two_campaigns.app_context():
        code = first_campaign().code
    instance = Path(two_campaigns.instance_path)
    database = instance / "kiosk.sqlite3"
    before = (NEXT_DAY + timedelta(days=1)).isoformat()

    refused = kiosk("purge", "--before", before, "--yes")
    assert refused.exit_code == 1
    assert f"kept: {code}: the centre has not confirmed" in refused.output
    assert "kiosk: nothing to purge" in refused.output
    assert visit_count(two_campaigns) == 5

    confirmed = kiosk("campaign", "confirm-received", code)
    assert confirmed.exit_code == 0, confirmed.output
    assert "may be purged 0 days later" in confirmed.output

    old_backup = take_backup(database, instance / "backups", clock(), 5)
    declined = kiosk("purge", "--before", before, input="n\n")
    assert declined.exit_code == 1
    assert visit_count(two_campaigns) == 5

    done = kiosk("purge", "--before", before, "--yes")
    assert done.exit_code == 0, done.output
    assert f"Purged {code}: 3 visits, 2 donors" in done.output
    assert "1 older copies holding purged data deleted" in done.output
    assert visit_count(two_campaigns) == 2
    (fresh,) = list_backups(instance / "backups")
    assert fresh.path != old_backup and not old_backup.exists()

    nothing = kiosk("purge", "--before", before, "--yes")
    assert nothing.exit_code == 1
    assert "kept:" in nothing.output and "still open" in nothing.output


def test_purge_needs_a_date(kiosk):
    result = kiosk("purge", "--before", "2026-13-01")
    assert result.exit_code == 2
    assert "--before" in result.output


def test_a_negative_retention_is_refused(kiosk, monkeypatch, two_campaigns):
    monkeypatch.setenv("KIOSK_RETENTION_DAYS", "-1")
    result = kiosk("purge", "--before", "2027-01-01", "--yes")
    assert result.exit_code == 1
    assert "KIOSK_RETENTION_DAYS must be 0 or more" in result.output
    assert visit_count(two_campaigns) == 5
