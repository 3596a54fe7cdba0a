"""A venue's campaign day built through the domain functions, as the kiosk and the desks would
make it, and its end-of-day bundle: the material of the centre's tests.

    bundle = venue_bundle(tmp_path / "venue", donors=300)

Every outcome occurs: donations complete, partial and failed, with and without an adverse
reaction, donors resting or done, deferrals temporary and permanent, no-shows, donors who left,
and donors still waiting when the bundle is written. Every 25th donor has no CIN.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk import create_app
from kiosk.db import db, write_transaction
from kiosk.domain.campaigns import CampaignDetails, open_campaign
from kiosk.domain.exchange.bundle import build_bundle
from kiosk.domain.exchange.signing import public_text
from kiosk.domain.exchange.trust import add_trusted
from kiosk.domain.journey import transition
from kiosk.domain.medical import (
    clean_donation,
    clean_screening,
    finish_rest,
    record_donation,
    record_screening,
)
from kiosk.domain.queue import Actor, add_desk, call_next, mark_no_show, recall
from kiosk.domain.registration import Context, register
from kiosk.domain.validation import Registration
from kiosk.models import Visit
from kiosk.timezones import venue_zone

ZONE = venue_zone("Africa/Casablanca")
# The test venues' signing key (fixed, so bundles stay byte-identical run to run) and its
# public half, which the centre enrols before importing them.
VENUE_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
VENUE_PUBLIC = public_text(VENUE_KEY)
VENUE_NAME = "test-venue"
DAY = date(2026, 11, 24)
OPENING = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
DOCTOR = Actor("dr.amrani", "10.0.0.7")
NURSE = Actor("inf.said", "10.0.0.9")
KIOSK = "kiosk-1"
# What happens to donor n (n = 1 … donors - still_waiting): KINDS[n % len(KINDS)].
KINDS = (
    "complete",
    "complete_vasovagal_resting",
    "partial",
    "failed_haematoma",
    "deferred_temporary",
    "deferred_permanent",
    "no_show",
    "left",
    "complete_resting",
)
GIVES_BLOOD = {"complete", "complete_vasovagal_resting", "partial", "complete_resting"}


class Clock:
    """Each reading is one second after the one before: every action has its own time."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@dataclass(frozen=True)
class VenueDay:
    bundle: bytes
    kinds: dict[int, str]  # queue number -> what happened ("waiting" for those still waiting)
    bags: list[str]


def person(serial: int, cin_prefix: str = "CV", birth_date: date | None = None) -> Registration:
    cin = None if serial % 25 == 0 else f"{cin_prefix}{serial:06d}"
    born = birth_date or date(1966 + serial % 35, 1 + serial % 12, 1 + serial % 28)
    return Registration(
        "Fatima" if serial % 2 else "فاطمة",
        "Zahra" if serial % 2 else "الزهراء",
        "F" if serial % 3 else "M",
        born,
        cin,
        f"+2126{serial:08d}",
        ("civil_servant", "police", "auxiliary_forces", "citizen", "other")[serial % 5],
    )


def venue_bundle(
    folder: Path,
    donors: int = 300,
    still_waiting: int = 30,
    site: str = "Khénifra",
    day: date = DAY,
    people=person,
    passphrase: str | None = None,
) -> VenueDay:
    """Runs the day on a SQLite venue in `folder`; returns its bundle and what happened."""
    clock = Clock(datetime.combine(day, OPENING.time(), tzinfo=UTC))
    app = create_app(
        {
            "INSTANCE": folder,
            "CLOCK": clock,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'venue.sqlite3'}",
        }
    )
    with app.app_context():
        try:
            return _run_day(clock, donors, still_waiting, site, day, people, passphrase)
        finally:
            db.session.remove()
            db.engine.dispose()


def _run_day(clock, donors, still_waiting, site, day, people, passphrase) -> VenueDay:
    campaign = open_campaign(db.session, CampaignDetails("Don de sang", site, day, "CRTS"), clock())
    kinds: dict[int, str] = {}
    for serial in range(1, donors + 1):
        context = Context(campaign.id, day, clock(), "fr", KIOSK)
        visit = register(db.session, people(serial), f"{site}-{day}-{serial:06d}", context).visit
        kinds[visit.queue_number] = (
            KINDS[visit.queue_number % len(KINDS)]
            if visit.queue_number <= donors - still_waiting
            else "waiting"
        )
    for number, kind in kinds.items():
        if kind == "left":
            _leave(campaign.id, number, clock())
    interview = add_desk(db.session, f"Médecin {site}", "interview")
    to_call = sum(kind not in ("left", "waiting") for kind in kinds.values())
    for _ in range(to_call):
        visit = call_next(db.session, campaign.id, interview, DOCTOR, clock())
        _interview(visit.id, kinds[visit.queue_number], interview, day, clock)
    chair = add_desk(db.session, f"Fauteuil {site}", "collection")
    bags = []
    while (visit := call_next(db.session, campaign.id, chair, NURSE, clock())) is not None:
        bag = f"{site.upper().encode('ascii', 'ignore').decode()[:3]}{visit.queue_number:06d}"
        _collect(visit.id, kinds[visit.queue_number], bag, day, clock)
        bags.append(bag)
    bundle = build_bundle(db.session, campaign.id, day, clock(), ZONE, passphrase, VENUE_KEY)
    return VenueDay(bundle, kinds, bags)


def _leave(campaign_id: int, number: int, now: datetime) -> None:
    with write_transaction(db.session):
        visit = db.session.query(Visit).filter_by(campaign_id=campaign_id, queue_number=number)
        transition(db.session, visit.one(), "leave", actor="reception", device=KIOSK, now=now)


def _interview(visit_id: int, kind: str, desk, day: date, clock) -> None:
    if kind == "no_show":
        recall(db.session, desk, DOCTOR, clock())
        recall(db.session, desk, DOCTOR, clock())
        mark_no_show(db.session, desk, DOCTOR, clock(), recalls_first=2)
        return
    form = {
        "weight_kg": "71.5",
        "systolic": "124",
        "diastolic": "79",
        "pulse": "70",
        "hemoglobin_g_dl": "13.6",
        "decision": "eligible",
        "note": "seen",
    }
    if kind == "deferred_temporary":
        until = (day + timedelta(days=90)).isoformat()
        form |= {"decision": kind, "deferral_reason": "low_hemoglobin", "deferral_until": until}
    elif kind == "deferred_permanent":
        form |= {"decision": kind, "deferral_reason": "infection_risk"}
    screening, errors = clean_screening(form, lambda measurements: "ok", day)
    assert errors == {}, errors
    record_screening(db.session, visit_id, screening, day, DOCTOR, clock())


def _collect(visit_id: int, kind: str, bag: str, day: date, clock) -> None:
    outcome = {"partial": "partial", "failed_haematoma": "failed_venipuncture"}.get(
        kind, "complete"
    )
    adverse = {"complete_vasovagal_resting": "vasovagal", "failed_haematoma": "haematoma"}
    # The donation took the eight minutes before the chair records it (the venue refuses a time
    # after the moment it is recorded, and so does the centre).
    now = clock()
    form = {
        "bag_number": bag,
        "bag_type": "triple",
        "volume_ml": "250" if kind == "partial" else "450",
        "started_at": (now - timedelta(minutes=8)).astimezone(ZONE).strftime("%H:%M"),
        "ended_at": now.astimezone(ZONE).strftime("%H:%M"),
        "outcome": outcome,
        "adverse_event": adverse.get(kind, "none"),
        "adverse_severity": "mild",
    }
    donation, errors = clean_donation(form, "any", day, ZONE, now)
    assert errors == {}, errors
    record_donation(db.session, visit_id, donation, NURSE, now)
    if not kind.endswith("resting"):
        finish_rest(db.session, visit_id, NURSE, clock())


def trust_test_venue(now: datetime | None = None) -> None:
    """Enrols the test venues' key in the centre's database of the current app."""
    now = now or datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    add_trusted(db.session, VENUE_NAME, VENUE_PUBLIC, now, "centre", "test")
