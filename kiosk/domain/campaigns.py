"""Campaigns: the one open collection session the kiosk registers donors into."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk.db import write_transaction
from kiosk.domain.din import parse_policy
from kiosk.domain.eligibility import TABLES, THRESHOLD_BOUNDS, check_threshold, load_table
from kiosk.domain.journey import FINAL_STAGES, Stage, transition
from kiosk.domain.names import NameProblem, with_names
from kiosk.models import Campaign, Visit


class CampaignError(ValueError):
    """A campaign request that cannot be carried out. The message says why in English (the
    command line); `code` and `params` let a page say it in its own language."""

    def __init__(self, message: str, code: str = "campaign", **params) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class CampaignDetails:
    name: str
    site: str
    day: date
    regional_centre: str = ""
    rules: str = "morocco"
    bag_numbers: str = "any"
    # The site and the centre in each language ({"ar": "خنيفرة"}); the one name where not given.
    site_names: Mapping[str, str] = field(default_factory=dict)
    centre_names: Mapping[str, str] = field(default_factory=dict)


def current_campaign(session: Session) -> Campaign | None:
    return session.scalar(
        select(Campaign)
        .where(Campaign.status == "open")
        .order_by(Campaign.opened_at.desc(), Campaign.id.desc())
        .limit(1)
    )


def campaign_code(site: str, day: date) -> str:
    ascii_site = unicodedata.normalize("NFKD", site).encode("ascii", "ignore").decode()
    letters = re.sub(r"[^A-Za-z]", "", ascii_site).upper()[:3] or "CMP"
    return f"{letters}-{day.isoformat()}"


def open_campaign(session: Session, details: CampaignDetails, now: datetime) -> Campaign:
    """Opens a campaign. One is open at a time; an open one with nobody registered yet is
    re-used with the new details (the default campaign `kiosk run` opened, renamed)."""
    name, site = details.name.strip(), details.site.strip()
    if not name or not site:
        raise CampaignError("a campaign needs a name and a site")
    try:
        site_names = with_names(None, details.site_names, 200)
        centre_names = with_names(None, details.centre_names, 200)
    except NameProblem as problem:
        raise CampaignError(
            f"a site or centre name in another language: {problem.code.replace('_', ' ')}"
        ) from None
    with write_transaction(session):
        campaign = current_campaign(session)
        if campaign is not None:
            registered = session.scalar(
                select(func.count(Visit.id)).where(Visit.campaign_id == campaign.id)
            )
            if registered:
                raise CampaignError(
                    f"campaign {campaign.code} ({campaign.name}) is open with "
                    f"{registered} registrations; only one campaign is open at a time"
                )
        code = _unused_code(session, campaign_code(site, details.day), campaign)
        if campaign is None:
            campaign = Campaign(status="open")
            session.add(campaign)
        campaign.code = code
        campaign.name = name
        campaign.site = site
        campaign.regional_centre = details.regional_centre.strip()
        campaign.site_names = site_names
        campaign.centre_names = centre_names
        campaign.starts_on = campaign.ends_on = details.day
        campaign.rules = details.rules
        campaign.bag_numbers = details.bag_numbers
        campaign.opened_at = now
        return campaign


def ensure_open_campaign(session: Session, details: CampaignDetails, now: datetime) -> Campaign:
    return current_campaign(session) or open_campaign(session, details, now)


def _unused_code(session: Session, code: str, campaign: Campaign | None) -> str:
    candidate, suffix = code, 2
    while True:
        holder = session.scalar(select(Campaign).where(Campaign.code == candidate))
        if holder is None or holder is campaign:
            return candidate
        candidate, suffix = f"{code}-{suffix}", suffix + 1


def update_medical_settings(
    session: Session,
    campaign_id: int,
    rules: str,
    bag_numbers: str,
    thresholds: dict[str, float],
) -> Campaign:
    """The coordinator's choices: rule table, adjusted thresholds, bag-number check. Checked
    whole before anything is stored (CampaignError names what is wrong)."""
    if rules not in TABLES:
        raise CampaignError(f"rules must be one of: {', '.join(TABLES)}", "rules_unknown")
    try:
        policy = parse_policy(bag_numbers)
    except ValueError as error:
        raise CampaignError(str(error), "bag_policy") from None
    for name, value in thresholds.items():
        try:
            check_threshold(name, value)
        except ValueError as error:
            low, high = THRESHOLD_BOUNDS[name]
            raise CampaignError(
                str(error), "threshold", name=name, low=f"{low:g}", high=f"{high:g}"
            ) from None
    defaults = load_table(rules).thresholds
    changed = {k: v for k, v in thresholds.items() if float(defaults.get(k, -1)) != v}
    with write_transaction(session):
        campaign = session.get(Campaign, campaign_id)
        campaign.rules = rules
        campaign.bag_numbers = policy
        campaign.thresholds = json.dumps(changed, sort_keys=True)
        return campaign


@dataclass(frozen=True)
class Closed:
    campaign: Campaign
    left: int  # visits still waiting or at a desk, now marked left
    finished: int  # donors still in the rest area, now done


def close_campaign(session: Session, actor, now: datetime) -> Closed:
    """Ends the campaign day: nobody can register any more, the visits still waiting (or called
    and not seen) are marked left with the time, those resting are done. One audit event each."""
    with write_transaction(session):
        campaign = current_campaign(session)
        if campaign is None:
            raise CampaignError("no campaign is open")
        left = finished = 0
        still_here = select(Visit).where(
            Visit.campaign_id == campaign.id, Visit.stage.not_in(FINAL_STAGES)
        )
        for visit in session.scalars(still_here.order_by(Visit.id)):
            action = "finish" if visit.stage == Stage.REST and visit.donation else "leave"
            transition(session, visit, action, actor=actor.name, device=actor.device, now=now)
            visit.desk = None
            left, finished = (left + 1, finished) if action == "leave" else (left, finished + 1)
        campaign.status = "closed"
        campaign.closed_at = now
        return Closed(campaign, left, finished)
