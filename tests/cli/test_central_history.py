"""A donor's history at the centre (issue 13): a bundle cannot take over a known CIN, a
deferral is never lost (a conflicting CIN's visit, a refused row of the donor list) nor lowered
(a corrected re-export with --replace), and every deferral of a day reaches the next venue.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy
from sqlalchemy import select

from kiosk.domain.donor_history import Deferral, stronger
from kiosk.domain.exchange.columns import EVENT_COLUMNS
from kiosk.domain.exchange.files import csv_bytes
from kiosk.domain.validation import Registration
from kiosk.models import Donor, Event
from tests.support.centre_bundles import (
    enrol,
    events_of,
    kiosk_process,
    refused,
    resigned,
    visits_of,
)
from tests.support.centre_state import centre_state
from tests.support.venue_day import DAY, VENUE_NAME, VENUE_PUBLIC, person, venue_bundle

SECOND_DAY = date(2026, 11, 30)
MISTYPED = date(1999, 9, 9)


def second_venue_people(serial: int) -> Registration:
    """At Azrou: number 1 gives CV000005's CIN and birth date with other names, phone and
    category (and the bundle says another blood group); number 5 gives CV000002's CIN with a
    mistyped birth date and is deferred permanently; the others are new donors."""
    if serial == 1:
        known = person(5)
        return Registration(
            "Mallory", "Eve", known.sex, known.birth_date, known.cin, "+212699999999", "other"
        )
    if serial == 5:
        return person(2, birth_date=MISTYPED)
    return person(serial, cin_prefix="CA")


@pytest.fixture(scope="module")
def first_day(tmp_path_factory):
    return venue_bundle(tmp_path_factory.mktemp("khenifra"), donors=12, still_waiting=1)


@pytest.fixture(scope="module")
def second_day(tmp_path_factory):
    made = venue_bundle(
        tmp_path_factory.mktemp("azrou"),
        donors=6,
        still_waiting=0,
        site="Azrou",
        day=SECOND_DAY,
        people=second_venue_people,
    )
    visits = visits_of(made.bundle)
    visits[0]["declared_blood_group"] = "AB-"
    return resigned(made.bundle, visits)


def centre_for(kiosk_command, tmp_path, url: str):
    run = kiosk_command(tmp_path / "centre", url)
    added = run("central", "trust", "add", VENUE_NAME, VENUE_PUBLIC)
    assert added.exit_code == 0, added.output
    run.url = url  # type: ignore[attr-defined]
    return run


@pytest.fixture
def centre(tmp_path, kiosk_command):
    return centre_for(kiosk_command, tmp_path, f"sqlite:///{tmp_path / 'centre.sqlite3'}")


def imported(centre, path, data: bytes, *options: str) -> str:
    path.write_bytes(data)
    result = centre("central", "import", str(path), *options)
    assert result.exit_code == 0, result.output
    return result.output


def donor(url: str, cin: str) -> dict:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            row = connection.execute(select(Donor.__table__).where(Donor.cin == cin)).one()
            return dict(row._mapping)
    finally:
        engine.dispose()


def set_blood_group(url: str, cin: str, group: str) -> None:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                Donor.__table__.update().where(Donor.cin == cin).values(blood_group=group)
            )
    finally:
        engine.dispose()


# --- a known CIN in another campaign's bundle ---------------------------------------------------


def test_a_known_cin_is_not_taken_over_and_a_conflicting_deferral_is_carried(
    first_day, second_day, centre, tmp_path
):
    imported(centre, tmp_path / "khenifra.zip", first_day.bundle)
    set_blood_group(centre.url, "CV000005", "O+")  # as the centre's own list knows it
    before = donor(centre.url, "CV000005")
    assert before["deferred_permanently"] and before["first_name"] == "Fatima"

    output = imported(centre, tmp_path / "azrou.zip", second_day)
    lines = output.strip().splitlines()
    assert (
        "  details: CIN CV000005 (AZR-2026-11-30, 2026-11-30, number 1): the bundle's "
        "last_name, first_name, blood group differ from the centre's record, which is kept, "
        "for checking; phone, category updated from this visit"
    ) in lines
    conflict = next(line for line in lines if "conflict: CIN CV000002" in line)
    assert conflict.endswith(
        "deferral pending review: deferred permanently (infection_risk) at this visit, carried "
        "onto CIN CV000002's record (the stronger deferral kept)"
    )

    taken = donor(centre.url, "CV000005")
    assert (taken["first_name"], taken["last_name"], taken["sex"]) == (
        before["first_name"],
        before["last_name"],
        before["sex"],
    )
    assert taken["blood_group"] == "O+"
    assert taken["deferred_permanently"] and taken["deferral_reason"] == "infection_risk"
    assert (taken["phone"], taken["category"]) == ("+212699999999", "other")
    mistyped = donor(centre.url, "CV000002")
    assert mistyped["birth_date"] == person(2).birth_date  # the record's own, not overwritten
    assert mistyped["deferred_permanently"] and mistyped["deferral_reason"] == "infection_risk"

    listed = centre("central", "donors", "--out", str(tmp_path / "donors.csv"))
    assert listed.exit_code == 0, listed.output
    rows = (tmp_path / "donors.csv").read_text("utf-8-sig").splitlines()
    cv2 = next(row for row in rows if row.startswith("CV000002,"))
    assert ",yes,infection_risk," in cv2


# --- --replace ----------------------------------------------------------------------------------


def corrected(bundle: bytes) -> bytes:
    """The coordinator's re-export: number 5's permanent deferral now temporary (a mistake, or
    a forgery: it must not lift anything), a visit added (number 13), the last one (12, still
    waiting) gone with its log lines."""
    visits = visits_of(bundle)
    five = next(visit for visit in visits if visit["queue_number"] == 5)
    assert five["decision"] == "deferred_permanent"
    five.update(decision="deferred_temporary", deferral_until="2026-12-24")
    added = dict(visits[0], queue_number=13, donor_cin="CV000099", bag_number="KHE000099")
    visits = [visit for visit in visits if visit["queue_number"] != 12] + [added]
    events = [event for event in events_of(bundle) if event["queue_number"] != "12"]
    return resigned(bundle, visits, events=csv_bytes(EVENT_COLUMNS, events))


def test_a_corrected_re_export_replaces_the_day_with_replace_never_lowering_a_deferral(
    first_day, centre, tmp_path
):
    imported(centre, tmp_path / "first.zip", first_day.bundle)
    fixed = corrected(first_day.bundle)
    refused(centre, tmp_path, fixed, "was imported already", "with --replace")

    output = imported(centre, tmp_path / "fixed.zip", fixed, "--replace")
    lines = output.strip().splitlines()
    assert lines[0].startswith(f"{tmp_path / 'fixed.zip'}: KHE-2026-11-24 2026-11-24: 12 visits")
    assert lines[1].startswith("  replaces the import of 20")
    assert lines[1].endswith(
        "visits 1 added, 1 removed, 1 changed; donations 7 -> 8; deferrals 2 -> 2"
    )
    assert lines[2] == (
        "  deferral kept: number 5 (CIN CV000005) was deferred permanently (infection_risk) in "
        "the earlier import, the new bundle says until 2026-12-24 (infection_risk); the "
        "deferral stays on the donor's record"
    )
    kept = donor(centre.url, "CV000005")
    assert kept["deferred_permanently"] and kept["deferred_until"] is None

    engine = sqlalchemy.create_engine(centre.url)
    with engine.connect() as connection:
        visits = connection.execute(sqlalchemy.text("SELECT count(*) FROM visit")).scalar()
        audit = connection.execute(
            select(Event.actor, Event.detail).where(Event.action == "central_replace")
        ).all()
    engine.dispose()
    assert visits == 12
    ((actor, detail),) = audit
    detail = json.loads(detail)
    assert actor and detail["day"] == "2026-11-24" and len(detail["sha256"]) == 64
    assert (detail["visits_added"], detail["visits_removed"], detail["deferrals_kept"]) == (1, 1, 1)

    # The same corrected bundle again: recognised, nothing changes.
    before = centre_state(centre.url)
    again = imported(centre, tmp_path / "fixed.zip", fixed, "--replace")
    assert "imported already" in again and centre_state(centre.url) == before


# --- the round trip -----------------------------------------------------------------------------


def deferrals_of_the_days(*bundles: bytes) -> dict[str, Deferral]:
    """Each CIN's strongest deferral in the bundles' visits (a conflicting CIN's too)."""
    found: dict[str, Deferral] = {}
    for bundle in bundles:
        for visit in visits_of(bundle):
            if visit["decision"] not in ("deferred_temporary", "deferred_permanent"):
                continue
            permanent = visit["decision"] == "deferred_permanent"
            until = None if permanent else date.fromisoformat(visit["deferral_until"])
            deferral = Deferral(permanent, until, visit["deferral_reason"])
            cin = visit["donor_cin"]
            found[cin] = stronger(found.get(cin, Deferral()), deferral)
    return found


@pytest.mark.slow
def test_every_deferral_of_the_days_reaches_the_next_venue(
    first_day, second_day, database_url, tmp_path, kiosk_command
):
    # The centre's commands in their own processes, as the centre types them (and as the
    # other round trips do on PostgreSQL).
    instance = tmp_path / "centre"
    enrol(database_url, instance)
    paths = [tmp_path / "khenifra.zip", tmp_path / "azrou.zip"]
    paths[0].write_bytes(first_day.bundle)
    paths[1].write_bytes(second_day)
    result = kiosk_process(database_url, instance, "central", "import", *map(str, paths))
    assert result.returncode == 0, result.stderr
    assert "deferral pending review" in result.stdout
    # An older record whose name the donor list's reader refuses (a digit in a first name).
    engine = sqlalchemy.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            Donor.__table__.update().where(Donor.cin == "CV000004").values(first_name="Fat1ma")
        )
    engine.dispose()
    listing = tmp_path / "donors.csv"
    listed = kiosk_process(database_url, instance, "central", "donors", "--out", str(listing))
    assert listed.returncode == 0, listed.stderr

    next_venue = kiosk_command(tmp_path / "next", f"sqlite:///{tmp_path / 'next.sqlite3'}")
    loaded = next_venue("import", "donors", str(listing))
    assert loaded.exit_code == 0, loaded.output
    refused_line = next(line for line in loaded.output.splitlines() if "has digits" in line)
    assert refused_line.endswith(
        "first_name: has digits in it; its deferral (until 2027-02-22, low_hemoglobin) is kept "
        "for CIN CV000004"
    )

    wanted = deferrals_of_the_days(first_day.bundle, second_day)
    assert {"CV000002", "CV000004", "CV000005"} <= wanted.keys()
    url = f"sqlite:///{tmp_path / 'next.sqlite3'}"
    for cin, deferral in wanted.items():
        there = donor(url, cin)
        known = Deferral(
            bool(there["deferred_permanently"]), there["deferred_until"], there["deferral_reason"]
        )
        assert stronger(known, deferral) == known, (cin, known, deferral)
    assert date.fromisoformat(str(donor(url, "CV000004")["deferred_until"])) == DAY.replace(
        year=2027, month=2, day=22
    )
