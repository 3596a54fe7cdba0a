"""The centre's recall list: the donors who may give blood again in a window, to phone before a
drive. After a deferral few donors come back by themselves; the centre knows who may give again
and when.

A donor is listed when the day they may give again (after their last donation's interval, for
their sex, by the rules of their last campaign; after a temporary deferral's end; the later of the
two) falls on or before the window's last day. Never a permanently deferred donor, whatever the
record that holds the deferral (donor_history.py's one rule, conflicting CINs included), and never
one who would be past the rules' maximum age on the window's first day. The phone is given only
when the donor gave one and agreed, at their latest visit, to be phoned (asked apart from the
consent to register, default no); the others are listed without it, for a letter or their next
visit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk.domain.donor_history import NO_DEFERRAL, deferral_of, stronger
from kiosk.domain.eligibility import RuleTable, load_table, next_donation_date
from kiosk.domain.exchange.central import conflict_deferrals
from kiosk.domain.exchange.files import csv_bytes
from kiosk.domain.medical import table_for
from kiosk.domain.validation import age_on
from kiosk.models import Campaign, Donor, Visit

RECALL_COLUMNS = (
    "cin",
    "last_name",
    "first_name",
    "sex",
    "phone",
    "may_give_from",
    "last_donation_date",
    "deferred_until",
    "last_site",
)
DEFAULT_RULES = "morocco"


class RecallRefused(ValueError):
    """A window or a site the list cannot be made for; the message says why."""


@dataclass(frozen=True)
class Recall:
    csv: bytes
    donors: int
    with_phone: int
    left_out_permanent: int


def recall_list(session: Session, start: date, end: date, site: str | None = None) -> Recall:
    if end < start:
        raise RecallRefused(f"the window ends ({end}) before it starts ({start})")
    latest = _latest_campaigns(session)
    if site is not None and not any(_same_site(c.site, site) for c in latest.values()):
        raise RecallRefused(f"no visit at a site named {site!r} is known here")
    pending = conflict_deferrals(session)
    rows, permanent = [], 0
    donors = session.scalars(select(Donor).where(Donor.cin.is_not(None)).order_by(Donor.cin))
    for donor in donors:
        campaign = latest.get(donor.id)
        if site is not None and (campaign is None or not _same_site(campaign.site, site)):
            continue
        deferral = stronger(deferral_of(donor), pending.get(donor.cin, NO_DEFERRAL))
        if deferral.permanent:
            permanent += 1
            continue
        table = table_for(campaign) if campaign else load_table(DEFAULT_RULES)
        oldest = table.thresholds["age_max_repeat" if donor.last_donation_on else "age_max"]
        if age_on(donor.birth_date, start) > oldest:
            continue
        may_give = _may_give_from(donor, deferral.until, table)
        if may_give is not None and may_give > end:
            continue
        rows.append(_row(donor, max(may_give or start, start), deferral.until, campaign))
    with_phone = sum(1 for row in rows if row["phone"])
    return Recall(csv_bytes(RECALL_COLUMNS, rows), len(rows), with_phone, permanent)


def _may_give_from(donor: Donor, deferred_until: date | None, table: RuleTable) -> date | None:
    """The first day the donor may give again; None when nothing holds them back."""
    days = [deferred_until] if deferred_until else []
    if donor.last_donation_on:
        days.append(next_donation_date(donor.last_donation_on, donor.sex, table))
    return max(days, default=None)


def _row(donor: Donor, may_give: date, deferred_until: date | None, campaign) -> dict:
    return {
        "cin": donor.cin,
        "last_name": donor.last_name,
        "first_name": donor.first_name,
        "sex": donor.sex,
        "phone": donor.phone if donor.contact_consent else None,
        "may_give_from": may_give.isoformat(),
        "last_donation_date": donor.last_donation_on and donor.last_donation_on.isoformat(),
        "deferred_until": deferred_until and deferred_until.isoformat(),
        "last_site": campaign.site if campaign else None,
    }


def _latest_campaigns(session: Session) -> dict[int, Campaign]:
    """Each donor's latest visit's campaign (its site and its rules)."""
    latest_day = (
        select(Visit.donor_id, func.max(Visit.queue_day).label("day"))
        .group_by(Visit.donor_id)
        .subquery()
    )
    rows = session.execute(
        select(Visit.donor_id, Campaign)
        .join(Campaign, Visit.campaign_id == Campaign.id)
        .join(
            latest_day,
            (latest_day.c.donor_id == Visit.donor_id) & (latest_day.c.day == Visit.queue_day),
        )
    ).all()
    return {donor_id: campaign for donor_id, campaign in rows}


def _same_site(ours: str, asked: str) -> bool:
    return ours.strip().casefold() == asked.strip().casefold()
