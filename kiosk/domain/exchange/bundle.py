"""The end-of-day bundle for the regional centre, and the check of such a bundle.

One ZIP holds the visits as a clerk opens them (`visits.csv`) and as a machine reads them
(`visits.json`), the audit log without health values (`events.csv`), and `manifest.json`: the
campaign, the counts and the SHA-256 and size of every other file. `visits.xlsx` (see
xlsx.py) holds the visits, the day's figures (figures.py, also in the manifest) and the log;
`fhir.json` (fhir.py) the same visits as FHIR resources.

The columns are named in columns.py, the rows read in rows.py, the bytes made in files.py, and
a bundle is checked in verify.py.

The same data gives the same bytes, except the manifest's `generated_at`: rows come in queue
order, members in a fixed order with a fixed date. Times are ISO 8601 with the venue's UTC offset.

With a passphrase every member is encrypted with AES-256 the WinZip way (AE-2), which 7-Zip,
WinZip and pyzipper open; the encrypted bytes then differ from run to run (a random salt per file).
Read bundles with `verify.bundle_members`, which opens plain and encrypted ones alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from importlib import metadata
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.db import write_transaction
from kiosk.domain.audit_events import audit_event
from kiosk.domain.campaigns import current_campaign
from kiosk.domain.exchange.columns import (
    EVENT_COLUMNS,
    EVENTS_CSV,
    FHIR_JSON,
    MANIFEST,
    SCHEMA_VERSION,
    SIGNATURE,
    VISIT_COLUMNS,
    VISITS_CSV,
    VISITS_JSON,
    VISITS_XLSX,
)
from kiosk.domain.exchange.fhir import fhir_json
from kiosk.domain.exchange.figures import session_figures
from kiosk.domain.exchange.files import csv_bytes, file_entry, json_bytes, zip_bytes
from kiosk.domain.exchange.rows import (
    campaign_summary,
    count_visits,
    event_rows,
    iso_time,
    visit_rows,
)
from kiosk.domain.exchange.signing import signature_member
from kiosk.domain.exchange.verify import read_manifest, verify_bundle
from kiosk.domain.exchange.xlsx import xlsx_bytes
from kiosk.domain.validation import Invalid, read_date
from kiosk.models import Campaign, Event

PACKAGE = "nabd-kiosk"


# --- which campaign, which day --------------------------------------------------------------------


def campaign_to_export(
    session: Session, code: str | None = None, day: date | None = None
) -> Campaign | None:
    """The campaign with this code; else the one running on `day`; else the open one; else the
    one opened last. Among several running on `day`, the one opened last."""
    if code is not None:
        return session.scalar(select(Campaign).where(Campaign.code == code.strip().upper()))
    last_opened = select(Campaign).order_by(Campaign.opened_at.desc(), Campaign.id.desc()).limit(1)
    if day is not None:
        return session.scalar(last_opened.where(Campaign.starts_on <= day, Campaign.ends_on >= day))
    return current_campaign(session) or session.scalar(last_opened)


def default_day(campaign: Campaign, today: date) -> date:
    """Today while the campaign runs, its last day once it is over, its first day before."""
    return min(max(today, campaign.starts_on), campaign.ends_on)


def clean_export_day(raw: str, campaign: Campaign) -> date:
    """The day to export as the coordinator typed it (see `read_date`): one of the campaign's.
    Invalid: date_required, date_invalid, date_incomplete, year_digits, day_outside_campaign."""
    day = read_date(raw)
    if day is None:
        raise Invalid("date_required")
    if not campaign.starts_on <= day <= campaign.ends_on:
        raise Invalid("day_outside_campaign", start=campaign.starts_on, end=campaign.ends_on)
    return day


# --- building -----------------------------------------------------------------------------------


def build_bundle(
    session: Session,
    campaign_id: int,
    day: date | None,
    now: datetime,
    zone: ZoneInfo,
    passphrase: str | None = None,
    signing_key: Ed25519PrivateKey | None = None,
) -> bytes:
    """The ZIP of one campaign's visits: of one day, or of every day when `day` is None;
    encrypted with AES-256 when a passphrase is given; signed (`signature.json`) with the
    venue's key when one is given."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise ValueError(f"no campaign with id {campaign_id}")
    summary = campaign_summary(campaign, day)
    visits = visit_rows(session, campaign, day, zone)
    events = event_rows(session, campaign.id, day, zone)
    figures = session_figures(visits)
    files = {
        VISITS_CSV: csv_bytes(VISIT_COLUMNS, visits),
        EVENTS_CSV: csv_bytes(EVENT_COLUMNS, events),
        VISITS_JSON: json_bytes(
            {"schema_version": SCHEMA_VERSION, "campaign": summary, "visits": visits}
        ),
        VISITS_XLSX: xlsx_bytes(summary, VISIT_COLUMNS, visits, EVENT_COLUMNS, events, figures),
    }
    del events  # tens of thousands of rows fhir.json, the largest file, has no need of
    files[FHIR_JSON], fhir_resources = fhir_json(session, campaign.id, day, visits, zone)
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "generator": generator(),
        "generated_at": iso_time(now, zone),
        "campaign": summary,
        "counts": {**count_visits(visits), "fhir_resources": fhir_resources},
        "figures": figures,
        "files": {name: file_entry(content) for name, content in files.items()},
    }
    manifest_bytes = json_bytes(manifest)
    signed = {SIGNATURE: signature_member(signing_key, manifest_bytes)} if signing_key else {}
    return zip_bytes({MANIFEST: manifest_bytes, **signed, **files}, passphrase)


def generator() -> str:
    try:
        version = metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        version = "dev"
    return f"nabd {version}"


# --- exporting, and its line in the audit log ---------------------------------------------------

EXPORT_ACTION = "export"


@dataclass(frozen=True)
class Export:
    data: bytes
    manifest: dict[str, Any]
    encrypted: bool


def bundle_file_name(campaign: Campaign, day: date | None) -> str:
    """KHE-2026-11-24_2026-11-24.zip: the campaign's code, then the day (or "all")."""
    return f"{campaign.code}_{day.isoformat() if day else 'all'}.zip"


def prepare_export(
    session: Session,
    campaign: Campaign,
    day: date | None,
    now: datetime,
    zone: ZoneInfo,
    passphrase: str | None = None,
    signing_key: Ed25519PrivateKey | None = None,
) -> Export:
    """The bundle, signed with the venue's key and checked against its own manifest (a bundle
    that fails is never handed out)."""
    data = build_bundle(session, campaign.id, day, now, zone, passphrase, signing_key)
    report = verify_bundle(data, passphrase)
    if not report.ok:  # never expected
        raise RuntimeError(f"the bundle does not verify: {report.problems[0]}")
    return Export(data, read_manifest(data, passphrase), report.encrypted)


def record_export(
    session: Session,
    campaign: Campaign,
    day: date | None,
    export: Export,
    actor_name: str,
    device: str,
    now: datetime,
) -> Event:
    """Who exported which day, from where, and the counts: nothing about any one donor."""
    counts = export.manifest["counts"]
    detail = {
        "day": day and day.isoformat(),
        "visits": counts["visits"],
        "donations": sum(counts["donations"].values()),
        "deferrals": counts["deferrals"],
        "encrypted": export.encrypted,
    }
    with write_transaction(session):
        event = audit_event(
            now,
            actor_name,
            device,
            EXPORT_ACTION,
            campaign_id=campaign.id,
            detail=json.dumps(detail, sort_keys=True),
        )
        session.add(event)
    return event
