"""The end of the day at scale: a day of many visits, then the time and peak memory of each
export format and of the whole bundle, each measured in a fresh process so that one format's
memory does not hide in another's.

    python -m bench.endofday fill INSTANCE VISITS     # a closed day of VISITS visits
    python -m bench.endofday measure INSTANCE FORMAT  # one JSON line: seconds, peak RSS
    python -m bench.endofday bundles INSTANCE FOLDER COUNT VISITS  # bundles for the centre

The day is written straight into the tables in one transaction (going through the kiosk and the
desks for 10,000 visits would take longer than the benchmark itself); its shape is a real day's:
most donors give, some are deferred, a few leave, and every step has its audit event.
"""

from __future__ import annotations

import importlib
import json
import resource
import sys
import time
from datetime import UTC, datetime, timedelta

import psutil

# "checked": the bundle signed with a venue key and checked against its own manifest, what
# `kiosk export` and the coordinator's download do.
FORMATS = (
    "visits.csv",
    "visits.json",
    "events.csv",
    "visits.xlsx",
    "fhir.json",
    "bundle",
    "checked",
)
EVENTS_OF = {
    "done": ("register", "call", "accept", "call", "donate", "finish"),
    "deferred": ("register", "call", "defer"),
    "left": ("register", "leave"),
}
STAGES_OF_EVENT = {
    "register": (None, "waiting_interview"),
    "call": None,  # depends on which call
    "accept": ("interview", "waiting_collection"),
    "defer": ("interview", "deferred"),
    "donate": ("collection", "rest"),
    "finish": ("rest", "done"),
    "leave": ("waiting_interview", "left"),
}


def _final_stage(serial: int) -> str:
    if serial % 33 == 0:
        return "left"
    if serial % 8 == 0:
        return "deferred"
    return "done"


def fill(visits: int) -> None:
    """One open campaign today with `visits` visits."""
    from kiosk import create_app
    from kiosk.db import db
    from kiosk.domain.campaigns import CampaignDetails, open_campaign
    from kiosk.timezones import local_day

    app = create_app()
    start = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
    with app.app_context():
        day = local_day(start, app.config["TIMEZONE"])
        details = CampaignDetails("Bench", "Khénifra", day, "CRTS Meknès")
        campaign = open_campaign(db.session, details, start)
        _write_days(db.session, [(campaign.id, day, start, visits)], donors=visits)
        db.engine.dispose()


def bundles(folder: str, count: int, visits: int) -> None:
    """`count` closed campaign days of `visits` visits each, one bundle each in `folder`. Donors
    come back: the days draw on a pool of two thirds as many donors as visits."""
    from pathlib import Path

    from kiosk import create_app
    from kiosk.db import db, write_transaction
    from kiosk.domain.exchange.bundle import build_bundle
    from kiosk.models import Campaign
    from kiosk.timezones import venue_zone

    app = create_app()
    now = datetime.now(UTC)
    with app.app_context():
        zone = venue_zone(app.config["TIMEZONE"])
        with write_transaction(db.session):
            campaigns = [_closed_campaign(n, now) for n in range(1, count + 1)]
            db.session.add_all(campaigns)
        days = [(c.id, c.starts_on, c.opened_at, visits) for c in campaigns]
        _write_days(db.session, days, donors=max(visits, count * visits * 2 // 3))
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        for campaign in db.session.scalars(select_campaigns(Campaign)):
            data = build_bundle(db.session, campaign.id, campaign.starts_on, now, zone)
            (out / f"{campaign.code}.zip").write_bytes(data)
        db.engine.dispose()


def select_campaigns(model):
    from sqlalchemy import select

    return select(model).order_by(model.id)


def _closed_campaign(n: int, now: datetime):
    from kiosk.models import Campaign

    day = (now - timedelta(days=n)).date()
    opened = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=8)
    return Campaign(
        code=f"B{n:03d}-{day.isoformat()}",
        name=f"Bench {n}",
        site=f"Site {n}",
        regional_centre="CRTS Meknès",
        organisers="",
        starts_on=day,
        ends_on=day,
        status="closed",
        opened_at=opened,
        closed_at=opened + timedelta(hours=9),
        rules="morocco",
        thresholds="{}",
        bag_numbers="any",
    )


def _write_days(session, days, donors: int) -> None:
    """Desks, the donor pool, then each (campaign id, day, start, visits) day's rows."""
    from sqlalchemy import insert

    from kiosk.db import write_transaction
    from kiosk.models import Desk, Donation, Donor, Event, Screening, Visit

    with write_transaction(session):
        interview = Desk(name="Médecin 1", stage="interview", active=True)
        collection = Desk(name="Fauteuil 1", stage="collection", active=True)
        session.add_all([interview, collection])
        session.flush()
        session.execute(insert(Donor), [_donor(n, days[0][2]) for n in range(1, donors + 1)])
        first = 1
        for campaign_id, day, start, visits in days:
            rows = _day_rows(visits, campaign_id, day, start, interview.id, collection.id, first)
            rows["visits"] = [
                {**visit, "donor_id": (visit["id"] - 1) % donors + 1} for visit in rows["visits"]
            ]
            for model, key in (
                (Visit, "visits"),
                (Event, "events"),
                (Screening, "screenings"),
                (Donation, "donations"),
            ):
                if rows[key]:
                    session.execute(insert(model), rows[key])
            first += visits


def _donor(serial: int, at: datetime) -> dict:
    return {
        "id": serial,
        "cin": f"EX{serial:06d}",
        "first_name": "Fatima" if serial % 2 else "يوسف",
        "last_name": "Zahra" if serial % 2 else "العلوي",
        "sex": "F" if serial % 3 else "M",
        "birth_date": datetime(1965 + serial % 35, 1 + serial % 12, 1 + serial % 28).date(),
        "phone": f"+2126{serial:08d}",
        "category": ("civil_servant", "police", "auxiliary_forces", "citizen")[serial % 4],
        "created_at": at,
        "updated_at": at,
        "deferred_permanently": False,
    }


def _day_rows(count, campaign_id, day, start, interview_desk, collection_desk, first=1) -> dict:
    """A day's visits with their events, screenings and donations; `serial` numbers visits
    across days (ids, request ids, bag numbers), `number` within the day."""
    rows = {"visits": [], "events": [], "screenings": [], "donations": []}
    for number, serial in enumerate(range(first, first + count), start=1):
        registered = start + timedelta(seconds=3 * number)
        final = _final_stage(serial)
        rows["visits"].append(
            {
                "id": serial,
                "campaign_id": campaign_id,
                "donor_id": serial,
                "queue_day": day,
                "queue_number": number,
                "stage": final,
                "stage_changed_at": registered + timedelta(minutes=50),
                "registered_at": registered,
                "request_id": f"bench-request-{serial:08d}",
                "language": "ar" if serial % 2 else "fr",
                "recalls": 0,
                "answers": "{}",
            }
        )
        calls = 0
        for step, action in enumerate(EVENTS_OF[final]):
            if action == "call":
                calls += 1
                stages = [("waiting_interview", "interview"), ("waiting_collection", "collection")]
                from_stage, to_stage = stages[calls - 1]
            else:
                from_stage, to_stage = STAGES_OF_EVENT[action]
            desk = None if action in ("register", "leave", "finish") else interview_desk
            if to_stage in ("collection", "rest"):
                desk = collection_desk
            rows["events"].append(
                {
                    "at": registered + timedelta(minutes=10 * step),
                    "campaign_id": campaign_id,
                    "visit_id": serial,
                    "actor": "kiosk" if action == "register" else "doctor1",
                    "device": "192.168.1.30",
                    "action": action,
                    "from_stage": from_stage,
                    "to_stage": to_stage,
                    "desk_id": desk,
                }
            )
        if final == "left":
            continue
        deferred = final == "deferred"
        rows["screenings"].append(
            {
                "visit_id": serial,
                "weight_kg": 55.0 + serial % 40,
                "systolic": 110 + serial % 40,
                "diastolic": 70 + serial % 20,
                "pulse": 60 + serial % 30,
                "hemoglobin_g_dl": 11.5 + (serial % 40) / 10,
                "decision": "deferred_temporary" if deferred else "eligible",
                "deferral_reason": "low_hemoglobin" if deferred else None,
                "deferral_until": day + timedelta(days=90) if deferred else None,
                "tell_reason": deferred,
                "note": "",
                "findings": "[]",
                "doctor": "doctor1",
                "at": registered + timedelta(minutes=20),
            }
        )
        if deferred:
            continue
        outcome = (
            "failed_venipuncture"
            if serial % 97 == 0
            else "partial"
            if serial % 41 == 0
            else "complete"
        )
        rows["donations"].append(
            {
                "visit_id": serial,
                "bag_number": f"G1234{day:%y}{serial:07d}",
                "bag_type": "triple",
                "volume_ml": 450 if outcome == "complete" else 200,
                "started_at": registered + timedelta(minutes=35),
                "ended_at": registered + timedelta(minutes=43),
                "outcome": outcome,
                "adverse_event": "vasovagal" if serial % 50 == 0 else "none",
                "adverse_severity": "mild" if serial % 50 == 0 else None,
                "note": "",
                "phlebotomist": "phlebo1",
                "at": registered + timedelta(minutes=43),
            }
        )
    return rows


# --- measuring one format -------------------------------------------------------------------


def _maker(name: str, session, campaign, day, zone):
    """A function that makes the format's bytes from the database, or None where this Nabd has
    no such format (a feature of another branch, not merged yet)."""
    from kiosk.domain.exchange import bundle, columns, files
    from kiosk.domain.exchange import rows as exchange_rows

    rows = lambda: exchange_rows.visit_rows(session, campaign, day, zone)  # noqa: E731
    if name == "visits.csv":
        return lambda: files.csv_bytes(columns.VISIT_COLUMNS, rows())
    if name == "visits.json":
        return lambda: files.json_bytes({"visits": rows()})
    if name == "events.csv":
        events = lambda: exchange_rows.event_rows(session, campaign.id, day, zone)  # noqa: E731
        return lambda: files.csv_bytes(columns.EVENT_COLUMNS, events())
    if name == "bundle":
        now = datetime.now(UTC)
        return lambda: bundle.build_bundle(session, campaign.id, day, now, zone)
    if name == "checked":
        # As `kiosk export` makes it: signed with a venue key, then checked.
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        now = datetime.now(UTC)
        key = Ed25519PrivateKey.generate()
        return lambda: (
            bundle.prepare_export(session, campaign, day, now, zone, signing_key=key).data
        )
    if name == "visits.xlsx":
        xlsx = _optional("kiosk.domain.exchange.xlsx")
        figures = _optional("kiosk.domain.exchange.figures")
        if xlsx is None or figures is None:
            return None

        def workbook() -> bytes:
            visits = rows()
            events = exchange_rows.event_rows(session, campaign.id, day, zone)
            return xlsx.xlsx_bytes(
                exchange_rows.campaign_summary(campaign, day),
                columns.VISIT_COLUMNS,
                visits,
                columns.EVENT_COLUMNS,
                events,
                figures.session_figures(visits),
            )

        return workbook
    if name == "fhir.json":
        fhir = _optional("kiosk.domain.exchange.fhir")
        if fhir is None:
            return None
        return lambda: fhir.fhir_json(session, campaign.id, day, rows(), zone)[0]
    raise ValueError(name)


def _optional(module: str):
    """A module another part of Nabd brings; None while it is not merged."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError:
        return None


def measure(name: str) -> dict:
    from kiosk import create_app
    from kiosk.db import db
    from kiosk.domain.campaigns import current_campaign
    from kiosk.timezones import venue_zone

    app = create_app()
    with app.app_context():
        campaign = current_campaign(db.session)
        zone = venue_zone(app.config["TIMEZONE"])
        maker = _maker(name, db.session, campaign, campaign.starts_on, zone)
        if maker is None:
            return {"format": name, "available": False}
        db.session.expire_all()
        before = psutil.Process().memory_info().rss
        began = time.perf_counter()
        data = maker()
        seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    return {
        "format": name,
        "available": True,
        "seconds": seconds,
        "bytes": len(data),
        "peak_rss_mb": peak / 2**20,
        "rss_before_mb": before / 2**20,
    }


def main(argv: list[str]) -> None:
    import os

    command, instance, argument, *more = argv
    os.environ["KIOSK_INSTANCE"] = instance
    if command == "fill":
        fill(int(argument))
    elif command == "bundles":  # FOLDER COUNT VISITS
        bundles(argument, int(more[0]), int(more[1]))
    elif command == "measure":
        print(json.dumps(measure(argument)))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
