"""A small simulated day at the venue, made through the domain functions: Fatima (Arabic names)
gives blood, Youssef is deferred, Hassan still waits; and helpers to read its bundle back.
The `campaign_id` fixture (tests/support/fixtures.py) runs it."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime

from kiosk.db import db, write_transaction
from kiosk.domain.exchange.bundle import build_bundle
from kiosk.domain.exchange.files import zip_bytes
from kiosk.domain.medical import (
    clean_donation,
    clean_screening,
    finish_rest,
    record_donation,
    record_screening,
)
from kiosk.domain.questionnaire import Answer
from kiosk.domain.queue import Actor, add_desk, call_next
from kiosk.domain.registration import Context, register
from kiosk.domain.validation import Registration
from kiosk.models import Campaign, Donation, Donor, Visit
from kiosk.timezones import venue_zone
from tests.support.factories import CAMPAIGN_DAY

ZONE = venue_zone("Africa/Casablanca")  # UTC+0 in November 2026 (tzdata 2026)
DOCTOR = Actor("dr.amrani", "10.0.0.7")
NURSE = Actor("inf.said", "10.0.0.9")
GENERATED = datetime(2026, 11, 24, 18, 0, tzinfo=ZONE)
HEADER = [
    "campaign_code",
    "campaign_date",
    "site",
    "queue_number",
    "registered_at",
    "donor_cin",
    "last_name",
    "first_name",
    "sex",
    "birth_date",
    "age",
    "phone",
    "category",
    "first_time",
    "declared_blood_group",
    "contact_consent",
    "stage_final",
    "called_interview_at",
    "questionnaire_answers",
    "weight_kg",
    "systolic",
    "diastolic",
    "pulse",
    "hemoglobin_g_dl",
    "decision",
    "deferral_reason",
    "deferral_until",
    "screening_note",
    "interviewer",
    "bag_number",
    "bag_type",
    "volume_ml",
    "donation_started_at",
    "donation_ended_at",
    "donation_outcome",
    "adverse_event",
    "adverse_severity",
    "donation_note",
    "phlebotomist",
    "wait_minutes",
]
FATIMA = Registration(
    "فاطمة", "الزهراء", "F", date(1990, 5, 17), "AB123456", "+212612345678", "civil_servant"
)
YOUSSEF = Registration("Youssef", 'Amrani, dit "Jo"', "M", date(1975, 2, 1), None, None, "police")
HASSAN = Registration("Hassan", "Idrissi", "M", date(1985, 3, 3), "CD654321", None, "citizen")


def at(clock: str, day: date = CAMPAIGN_DAY) -> datetime:
    return datetime.combine(day, datetime.strptime(clock, "%H:%M:%S").time(), tzinfo=ZONE)


def arrive(campaign_id: int, person: Registration, clock: str, day: date = CAMPAIGN_DAY) -> int:
    context = Context(campaign_id, day, at(clock, day), "ar", "kiosk-1")
    return register(db.session, person, f"request-{person.first_name}-{day}", context).visit.id


def screen(visit_id: int, clock: str, **fields) -> None:
    form = {
        "weight_kg": "68",
        "systolic": "125",
        "diastolic": "80",
        "pulse": "72",
        "hemoglobin_g_dl": "13.1",
        "decision": "eligible",
        "note": "seen",
        **fields,
    }
    screening, errors = clean_screening(form, lambda measurements: "ok", CAMPAIGN_DAY)
    assert errors == {}
    record_screening(db.session, visit_id, screening, CAMPAIGN_DAY, DOCTOR, at(clock))


def donate(visit_id: int, clock: str) -> None:
    form = {
        "bag_number": "G123498654321",
        "bag_type": "triple",
        "volume_ml": "450",
        "started_at": "09:53",
        "ended_at": "10:01",
        "outcome": "complete",
        "adverse_event": "none",
    }
    donation, errors = clean_donation(form, "any", CAMPAIGN_DAY, ZONE, at(clock))
    assert errors == {}
    record_donation(db.session, visit_id, donation, NURSE, at(clock))


def add_earlier_donation(cin: str) -> None:
    """Hassan gave blood at Azrou in June: a closed campaign of this database."""
    june = date(2026, 6, 14)
    with write_transaction(db.session):
        azrou = Campaign(
            code="AZR-2026-06-14",
            name="Don de sang",
            site="Azrou",
            starts_on=june,
            ends_on=june,
            status="closed",
            opened_at=at("08:00:00", june),
        )
        donor = Donor(
            cin=cin,
            first_name=HASSAN.first_name,
            last_name=HASSAN.last_name,
            sex=HASSAN.sex,
            birth_date=HASSAN.birth_date,
            category="citizen",
            created_at=at("09:00:00", june),
            updated_at=at("09:00:00", june),
        )
        visit = Visit(
            campaign=azrou,
            donor=donor,
            queue_day=june,
            queue_number=1,
            stage="done",
            stage_changed_at=at("10:00:00", june),
            registered_at=at("09:00:00", june),
            request_id="request-azrou-1",
            language="fr",
        )
        db.session.add(
            Donation(
                visit=visit,
                bag_number="AZROU-0001",
                bag_type="single",
                volume_ml=450,
                started_at=at("09:30:00", june),
                ended_at=at("09:40:00", june),
                outcome="complete",
                phlebotomist="inf.nadia",
                at=at("09:41:00", june),
            )
        )


def simulate_day(campaign_id: int) -> dict[str, int]:
    """Fatima (Arabic names) gives blood, Youssef is deferred, Hassan still waits."""
    add_earlier_donation(HASSAN.cin)
    ids = {
        "fatima": arrive(campaign_id, FATIMA, "09:31:00"),
        "youssef": arrive(campaign_id, YOUSSEF, "09:32:30"),
        "hassan": arrive(campaign_id, HASSAN, "09:33:00"),
    }
    with write_transaction(db.session):
        fatima = db.session.get(Visit, ids["fatima"]).donor
        fatima.blood_group = "O+"
        db.session.get(Visit, ids["youssef"]).donor.last_donation_on = date(2025, 6, 1)
    doctor_desk = add_desk(db.session, "Médecin 1", "interview")
    chair = add_desk(db.session, "Fauteuil 1", "collection")
    call_next(db.session, campaign_id, doctor_desk, DOCTOR, at("09:40:00"))
    screen(ids["fatima"], "09:50:00")
    call_next(db.session, campaign_id, doctor_desk, DOCTOR, at("09:51:00"))
    call_next(db.session, campaign_id, chair, NURSE, at("09:52:00"))
    screen(
        ids["youssef"],
        "09:58:00",
        weight_kg="80.5",
        systolic="175",
        diastolic="105",
        hemoglobin_g_dl="15",
        decision="deferred_temporary",
        deferral_reason="blood_pressure",
        deferral_until="2026-12-24",
    )
    donate(ids["fatima"], "10:02:00")
    finish_rest(db.session, ids["fatima"], NURSE, at("10:20:00"))
    return ids


def bundle_of(
    campaign_id: int, day: date | None = CAMPAIGN_DAY, now=GENERATED, zone=ZONE, passphrase=None
):
    return build_bundle(db.session, campaign_id, day, now, zone, passphrase)


def members(bundle: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as opened:
        return {name: opened.read(name) for name in opened.namelist()}


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def csv_dicts(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def as_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def by_number(rows, number: int):
    return next(row for row in rows if int(row["queue_number"]) == number)


def rezip(bundle: bytes, **changes: bytes | None) -> bytes:
    """The same members with some replaced (None removes one), in a well-formed ZIP."""
    files = {**members(bundle), **changes}
    return zip_bytes({name: content for name, content in files.items() if content is not None})


FATIMAS_ANSWERS = {
    "feeling_well": Answer("yes"),
    "fever_or_infection": Answer("no"),
    "vaccine": Answer("yes", date(2026, 10, 1)),
    "given_blood": Answer("no"),
}
