"""The bundle's rows: one per visit (visits.csv, visits.json, and what fhir.json and the figures
are built from) and one per audit event (events.csv), read from the database in plain columns.

Rows come in queue order; times are ISO 8601 with the venue's UTC offset.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Row as ResultRow
from sqlalchemy.orm import Session

from kiosk.domain.exchange.columns import DONATION_COLUMNS, SCREENING_COLUMNS, Row, Value
from kiosk.domain.journey import Stage
from kiosk.domain.medical import DONATION_OUTCOMES, NOT_A_DONATION
from kiosk.domain.validation import age_on
from kiosk.models import Campaign, Desk, Donation, Donor, Event, Screening, Visit


def campaign_summary(campaign: Campaign, day: date | None) -> dict[str, str]:
    """`date` is the day exported, or the campaign's first day when all its days are;
    `bag_numbers` how the campaign checks its bag numbers (din.py), for the centre's reader."""
    return {
        "code": campaign.code,
        "name": campaign.name,
        "site": campaign.site,
        "date": (day or campaign.starts_on).isoformat(),
        "regional_centre": campaign.regional_centre,
        "bag_numbers": campaign.bag_numbers,
    }


def count_visits(visits: Sequence[Mapping[str, Value]]) -> dict[str, Any]:
    stages = Counter(str(row["stage_final"]) for row in visits)
    outcomes = Counter(str(row["donation_outcome"]) for row in visits if row["donation_outcome"])
    return {
        "visits": len(visits),
        "by_stage": dict(sorted(stages.items())),
        "donations": {**dict.fromkeys(DONATION_OUTCOMES, 0), **dict(sorted(outcomes.items()))},
        "deferrals": sum(1 for row in visits if str(row["decision"]).startswith("deferred")),
    }


def iso_time(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return None if moment is None else moment.astimezone(zone).isoformat(timespec="seconds")


# --- the visits ---------------------------------------------------------------------------------


def visit_rows(session: Session, campaign: Campaign, day: date | None, zone: ZoneInfo) -> list[Row]:
    """Plain columns in one query, not Visit objects with their records: a day has ten thousand
    visits, and the objects cost more than the rows."""
    query = (
        select(
            Visit.id,
            Visit.donor_id,
            Visit.queue_day,
            Visit.queue_number,
            Visit.registered_at,
            Visit.stage,
            Visit.contact_consent,
            Visit.answers,
            *_DONOR_FIELDS,
            Screening.id.label("screening_id"),
            *_SCREENING_FIELDS,
            Donation.id.label("donation_id"),
            *_DONATION_FIELDS,
        )
        .join(Donor, Visit.donor_id == Donor.id)
        .outerjoin(Screening, Screening.visit_id == Visit.id)
        .outerjoin(Donation, Donation.visit_id == Visit.id)
        .where(*visits_in_scope(campaign.id, day))
        .order_by(Visit.queue_day, Visit.queue_number)
    )
    called = _first_interview_calls(session, campaign.id, day)
    first_donations = _first_donation_days(session, campaign.id, day)
    return [
        _visit_row(visit, campaign, zone, called.get(visit.id), first_donations.get(visit.donor_id))
        for visit in session.execute(query)
    ]


_DONOR_FIELDS = (
    Donor.cin,
    Donor.last_name,
    Donor.first_name,
    Donor.sex,
    Donor.birth_date,
    Donor.phone,
    Donor.category,
    Donor.blood_group,
    Donor.last_donation_on,
)
_SCREENING_FIELDS = (
    Screening.weight_kg,
    Screening.systolic,
    Screening.diastolic,
    Screening.pulse,
    Screening.hemoglobin_g_dl,
    Screening.decision,
    Screening.deferral_reason,
    Screening.deferral_until,
    Screening.note.label("screening_note"),
    Screening.doctor,
)
_DONATION_FIELDS = (
    Donation.bag_number,
    Donation.bag_type,
    Donation.volume_ml,
    Donation.started_at,
    Donation.ended_at,
    Donation.outcome,
    Donation.adverse_event,
    Donation.adverse_severity,
    Donation.note.label("donation_note"),
    Donation.phlebotomist,
)


def visits_in_scope(campaign_id: int, day: date | None) -> list:
    conditions = [Visit.campaign_id == campaign_id]
    if day is not None:
        conditions.append(Visit.queue_day == day)
    return conditions


def _first_interview_calls(
    session: Session, campaign_id: int, day: date | None
) -> dict[int, datetime]:
    """When each visit was first called from the interview line."""
    rows = session.execute(
        select(Event.visit_id, func.min(Event.at))
        .join(Visit, Event.visit_id == Visit.id)
        .where(
            *visits_in_scope(campaign_id, day),
            Event.action == "call",
            Event.from_stage == Stage.WAITING_INTERVIEW,
        )
        .group_by(Event.visit_id)
    ).all()
    return dict(rows)


def _first_donation_days(session: Session, campaign_id: int, day: date | None) -> dict[int, date]:
    """The day of each donor's first donation known here, in any campaign."""
    donors = select(Visit.donor_id).where(*visits_in_scope(campaign_id, day))
    rows = session.execute(
        select(Visit.donor_id, func.min(Visit.queue_day))
        .join(Donation, Donation.visit_id == Visit.id)
        .where(Visit.donor_id.in_(donors), Donation.outcome != NOT_A_DONATION)
        .group_by(Visit.donor_id)
    ).all()
    return dict(rows)


def _visit_row(
    visit: ResultRow,
    campaign: Campaign,
    zone: ZoneInfo,
    called_at: datetime | None,
    first_donation: date | None,
) -> Row:
    return {
        "campaign_code": campaign.code,
        "campaign_date": visit.queue_day.isoformat(),
        "site": campaign.site,
        "queue_number": visit.queue_number,
        "registered_at": iso_time(visit.registered_at, zone),
        **_donor_cells(visit, visit.queue_day, first_donation),
        "stage_final": visit.stage,
        "called_interview_at": iso_time(called_at, zone),
        "questionnaire_answers": visit.answers,
        **_screening_cells(visit),
        **_donation_cells(visit, zone),
        "wait_minutes": _whole_minutes(visit.registered_at, called_at),
    }


def _donor_cells(donor: ResultRow, day: date, first_donation: date | None) -> Row:
    return {
        "donor_cin": donor.cin,
        "last_name": donor.last_name,
        "first_name": donor.first_name,
        "sex": donor.sex,
        "birth_date": donor.birth_date.isoformat(),
        "age": age_on(donor.birth_date, day),
        "phone": donor.phone,
        "category": donor.category,
        "first_time": _first_time(donor, day, first_donation),
        "declared_blood_group": donor.blood_group,
        "contact_consent": donor.contact_consent,
    }


def _first_time(donor: ResultRow, day: date, first_donation: date | None) -> bool:
    """No donation known before this day: neither in the centre's list nor at an earlier visit.
    (Today's own donation moves `last_donation_on` to today, so only an earlier date counts.)"""
    known_before = donor.last_donation_on is not None and donor.last_donation_on < day
    donated_here_before = first_donation is not None and first_donation < day
    return not (known_before or donated_here_before)


def _screening_cells(screening: ResultRow) -> Row:
    if screening.screening_id is None:
        return dict.fromkeys(SCREENING_COLUMNS)
    return {
        "weight_kg": screening.weight_kg,
        "systolic": screening.systolic,
        "diastolic": screening.diastolic,
        "pulse": screening.pulse,
        "hemoglobin_g_dl": screening.hemoglobin_g_dl,
        "decision": screening.decision,
        "deferral_reason": screening.deferral_reason,
        "deferral_until": screening.deferral_until and screening.deferral_until.isoformat(),
        "screening_note": screening.screening_note or None,
        "interviewer": screening.doctor,
    }


def _donation_cells(donation: ResultRow, zone: ZoneInfo) -> Row:
    if donation.donation_id is None:
        return dict.fromkeys(DONATION_COLUMNS)
    return {
        "bag_number": donation.bag_number,
        "bag_type": donation.bag_type,
        "volume_ml": donation.volume_ml,
        "donation_started_at": iso_time(donation.started_at, zone),
        "donation_ended_at": iso_time(donation.ended_at, zone),
        "donation_outcome": donation.outcome,
        "adverse_event": donation.adverse_event,
        "adverse_severity": donation.adverse_severity,
        "donation_note": donation.donation_note or None,
        "phlebotomist": donation.phlebotomist,
    }


def _whole_minutes(start: datetime, end: datetime | None) -> int | None:
    return None if end is None else int((end - start).total_seconds() // 60)


# --- the audit log ------------------------------------------------------------------------------


def event_rows(session: Session, campaign_id: int, day: date | None, zone: ZoneInfo) -> list[Row]:
    """The campaign's events (of the visits of `day`, and those of no visit made that day), in
    the order they happened. Events hold no health values, and neither do these rows.
    Plain columns, not Event objects: a day has tens of thousands of events."""
    query = (
        select(
            Event.at,
            Event.actor,
            Event.device,
            Event.action,
            Event.from_stage,
            Event.to_stage,
            Event.detail,
            Visit.queue_day,
            Visit.queue_number,
            Desk.name,
        )
        .outerjoin(Visit, Event.visit_id == Visit.id)
        .outerjoin(Desk, Event.desk_id == Desk.id)
        .where(Event.campaign_id == campaign_id)
        .order_by(Event.at, Event.id)
    )
    if day is not None:
        start = datetime.combine(day, time(), tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
        query = query.where(
            or_(
                Visit.queue_day == day,
                and_(Event.visit_id.is_(None), Event.at >= start, Event.at < end),
            )
        )
    return [
        {
            "at": iso_time(event.at, zone),
            "actor": event.actor,
            "device": event.device,
            "campaign_date": event.queue_day and event.queue_day.isoformat(),
            "queue_number": event.queue_number,
            "action": event.action,
            "from_stage": event.from_stage,
            "to_stage": event.to_stage,
            "desk": event.name,
            "detail": event.detail,
        }
        for event in session.execute(query)
    ]
