"""Retention: a campaign's personal data is kept until the regional centre has the export, then
for RETENTION_DAYS more, then purged (law 09-08: health data is kept no longer than needed).

What a purge removes, for each campaign purged:
- its visits, with everything hanging on them: tickets, screenings, donations (and, in any
  other table that points at a visit, the rows that cannot live without it);
- the donors who came to no other campaign in this database: name, CIN, birth date, phone,
  category and what was learnt about them here. Donors also seen at a campaign that is kept stay
  whole; donors known only from the centre's list (`kiosk import donors`, never seen at a visit
  here) are the centre's data and are left alone.
What it keeps:
- the campaign itself (code, name, site, dates, when it was confirmed and purged);
- the audit log: every event stays, but its link to the visit is cleared, so it says who did
  what and when, never to whom;
- one new event, `purge`, whose detail holds only counts and campaign codes.

Deletes are plain SQL statements (SQLAlchemy Core, no ORM objects) in one write transaction:
either the whole purge happens or nothing does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Column, Table, delete, select, update
from sqlalchemy.orm import Session

from kiosk.audit import purging_audit_log
from kiosk.db import write_transaction
from kiosk.domain.audit_events import audit_event
from kiosk.domain.campaigns import CampaignError
from kiosk.models import Campaign, Donor, Visit

PURGE_ACTION = "purge"
RECEIVED_ACTION = "export_received"
_CHUNK = 500  # ids per statement, well below SQLite's limit on bound parameters
# The tables whose rows outlive a purge, their link to the purged row cleared.
KEPT_UNLINKED = frozenset({"event"})


class RetentionError(CampaignError):
    """A confirmation or purge refused; the message says why."""


@dataclass(frozen=True)
class Kept:
    campaign: Campaign
    reason: str


@dataclass(frozen=True)
class PurgePlan:
    before: date
    purgeable: list[Campaign] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)


@dataclass(frozen=True)
class Purged:
    campaigns: list[str]
    counts: dict[str, int]


def confirm_export_received(
    session: Session, code: str, actor: str, device: str, now: datetime
) -> Campaign:
    """The coordinator's word that the centre has the campaign's export: from then on, the
    retention period runs. Only a closed campaign can be confirmed (its log is final)."""
    with write_transaction(session):
        campaign = session.scalar(select(Campaign).where(Campaign.code == code))
        if campaign is None:
            raise RetentionError(f"no campaign with the code {code!r}")
        if campaign.status != "closed":
            raise RetentionError(
                f"{campaign.code} is still open: close it (kiosk campaign close) "
                "and export it first"
            )
        if campaign.export_received_at is not None:
            return campaign
        campaign.export_received_at = now
        session.add(audit_event(now, actor, device, RECEIVED_ACTION, campaign_id=campaign.id))
        return campaign


def plan_purge(session: Session, before: date, now: datetime, retention_days: int) -> PurgePlan:
    """The campaigns that ended before `before` and not yet purged: those that may be purged
    now, and the others with the reason they are kept."""
    plan = PurgePlan(before)
    candidates = session.scalars(
        select(Campaign)
        .where(Campaign.ends_on < before, Campaign.purged_at.is_(None))
        .order_by(Campaign.starts_on, Campaign.id)
    )
    for campaign in candidates:
        reason = _reason_to_keep(campaign, now, retention_days)
        if reason is None:
            plan.purgeable.append(campaign)
        else:
            plan.kept.append(Kept(campaign, reason))
    return plan


def purge(
    session: Session,
    campaign_ids: Sequence[int],
    before: date,
    actor: str,
    device: str,
    now: datetime,
    retention_days: int,
) -> Purged:
    """Purges the given campaigns (checked again under the write lock) in one transaction."""
    if not campaign_ids:
        raise RetentionError("nothing to purge")
    # The one lawful change to the audit log: unlinking the purged visits' events.
    with write_transaction(session), purging_audit_log(session):
        campaigns = list(session.scalars(select(Campaign).where(Campaign.id.in_(campaign_ids))))
        for campaign in campaigns:
            reason = _reason_to_keep(campaign, now, retention_days)
            if reason is not None or campaign.purged_at is not None:
                raise RetentionError(f"{campaign.code} cannot be purged: {reason or 'purged'}")
        ids = [campaign.id for campaign in campaigns]
        visit_ids = list(session.scalars(select(Visit.id).where(Visit.campaign_id.in_(ids))))
        donor_ids = _donors_seen_only_at(session, ids)
        counts = {"visits": len(visit_ids), "donors": len(donor_ids)}
        _add_counts(counts, _cut_links(session, Visit.__table__, visit_ids))
        _delete_ids(session, Visit.__table__, visit_ids)
        _add_counts(counts, _cut_links(session, Donor.__table__, donor_ids))
        _delete_ids(session, Donor.__table__, donor_ids)
        for campaign in campaigns:
            campaign.purged_at = now
        codes = [campaign.code for campaign in campaigns]
        detail = {"campaigns": codes, "before": before.isoformat(), **counts}
        session.add(
            audit_event(now, actor, device, PURGE_ACTION, detail=json.dumps(detail, sort_keys=True))
        )
        return Purged(codes, counts)


def _reason_to_keep(campaign: Campaign, now: datetime, retention_days: int) -> str | None:
    if campaign.status != "closed":
        return "still open"
    if campaign.export_received_at is None:
        return (
            "the centre has not confirmed receiving its export "
            f"(kiosk campaign confirm-received {campaign.code})"
        )
    until = campaign.export_received_at + timedelta(days=retention_days)
    if now < until:
        return f"kept until {until.date().isoformat()} ({retention_days} days after the export)"
    return None


def _donors_seen_only_at(session: Session, campaign_ids: list[int]) -> list[int]:
    here = select(Visit.donor_id).where(Visit.campaign_id.in_(campaign_ids))
    elsewhere = select(Visit.donor_id).where(Visit.campaign_id.not_in(campaign_ids))
    return sorted(session.scalars(here.except_(elsewhere)))


def _referring_columns(target: Table) -> Iterator[tuple[Table, Column]]:
    """Every column of another table that points at `target` (found in the tables' metadata,
    so tables added later are covered too)."""
    for table in target.metadata.sorted_tables:
        if table is target:
            continue
        for foreign_key in table.foreign_keys:
            if foreign_key.column.table is target:
                yield table, foreign_key.parent


def _cut_links(session: Session, target: Table, ids: list[int]) -> dict[str, int]:
    """Rows pointing at the doomed rows: the audit log keeps its events with the link cleared;
    any other row (a ticket, a print job holding a first name) goes too. Counts by table."""
    counts: dict[str, int] = {}
    for table, column in _referring_columns(target):
        unlink = table.name in KEPT_UNLINKED and column.nullable
        changed = 0
        for chunk in _chunks(ids):
            if unlink:
                statement = update(table).where(column.in_(chunk)).values({column.name: None})
            else:
                statement = delete(table).where(column.in_(chunk))
            changed += session.execute(statement).rowcount
        key = f"{table.name}_unlinked" if unlink else f"{table.name}s"
        counts[key] = counts.get(key, 0) + changed
    return counts


def _delete_ids(session: Session, table: Table, ids: list[int]) -> None:
    for chunk in _chunks(ids):
        session.execute(delete(table).where(table.c.id.in_(chunk)))


def _add_counts(counts: dict[str, int], more: dict[str, int]) -> None:
    for key, value in more.items():
        counts[key] = counts.get(key, 0) + value


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]
