"""The end-of-day bundle: its files read back, its manifest checked, and `kiosk export`."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from kiosk.db import db, write_transaction
from kiosk.domain.campaigns import current_campaign
from kiosk.domain.exchange.columns import (
    DONATION_COLUMNS,
    EVENTS_CSV,
    FHIR_JSON,
    MANIFEST,
    SCREENING_COLUMNS,
    VISITS_CSV,
    VISITS_JSON,
    VISITS_XLSX,
)
from kiosk.domain.exchange.files import csv_cell, csv_value, zip_bytes
from kiosk.domain.exchange.signing import KEY_FILE
from kiosk.domain.exchange.verify import verify_bundle
from kiosk.domain.validation import Registration
from kiosk.models import Campaign, Event
from kiosk.timezones import venue_zone
from tests.support.factories import CAMPAIGN_DAY
from tests.support.simulated_day import (
    GENERATED,
    HEADER,
    arrive,
    as_cell,
    bundle_of,
    by_number,
    csv_dicts,
    csv_rows,
    members,
    rezip,
    simulate_day,
)

# --- visits.csv and visits.json -----------------------------------------------------------------


def test_the_bundle_holds_the_five_files(campaign_id):
    assert list(members(bundle_of(campaign_id))) == [
        MANIFEST,
        VISITS_CSV,
        EVENTS_CSV,
        VISITS_JSON,
        VISITS_XLSX,
        FHIR_JSON,
    ]


def test_the_visits_header_is_exactly_the_documented_columns(campaign_id):
    files = members(bundle_of(campaign_id))
    assert csv_rows(files[VISITS_CSV])[0] == HEADER
    visits = json.loads(files[VISITS_JSON])["visits"]
    assert all(list(visit) == HEADER for visit in visits)


def test_the_csv_read_back_equals_the_json(campaign_id):
    files = members(bundle_of(campaign_id))
    rows = csv_rows(files[VISITS_CSV])[1:]
    visits = json.loads(files[VISITS_JSON])["visits"]
    assert len(rows) == len(visits) == 3
    assert [[csv_value(cell) for cell in row] for row in rows] == [
        [as_cell(value) for value in visit.values()] for visit in visits
    ]
    phones = {row[HEADER.index("phone")] for row in rows}
    assert "'+212612345678" in phones  # never read as a formula (OWASP), read back exactly


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+212612345678", "'+212612345678"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'=x", "''=x"),
        ("''", "'" * 3),
        ("'abc", "'abc"),
        ("'", "'"),
        ("Fauteuil 1", "Fauteuil 1"),
        ("", ""),
    ],
)
def test_a_cell_a_spreadsheet_would_evaluate_is_escaped_and_read_back_exactly(value, cell):
    assert csv_cell(value) == cell
    assert csv_value(cell) == value


def test_the_csv_has_a_bom_crlf_lines_quotes_and_arabic_names(campaign_id):
    content = members(bundle_of(campaign_id))[VISITS_CSV]
    assert content.startswith(b"\xef\xbb\xbf")
    assert content.count(b"\r\n") == 4 and b"\n" not in content.replace(b"\r\n", b"")
    assert '"Amrani, dit ""Jo"""' in content.decode("utf-8-sig")
    fatima = by_number(csv_dicts(content), 1)
    assert (fatima["first_name"], fatima["last_name"]) == ("فاطمة", "الزهراء")


def test_a_visit_that_gave_blood(campaign_id):
    fatima = by_number(csv_dicts(members(bundle_of(campaign_id))[VISITS_CSV]), 1)
    assert fatima == {
        "campaign_code": "KHE-2026-11-24",
        "campaign_date": "2026-11-24",
        "site": "Khénifra",
        "queue_number": "1",
        "registered_at": "2026-11-24T09:31:00+00:00",
        "donor_cin": "AB123456",
        "last_name": "الزهراء",
        "first_name": "فاطمة",
        "sex": "F",
        "birth_date": "1990-05-17",
        "age": "36",
        "phone": "'+212612345678",  # escaped (OWASP): never a formula
        "category": "civil_servant",
        "first_time": "yes",  # although today's donation is now her last one
        "declared_blood_group": "O+",
        "contact_consent": "no",  # not asked to be phoned: the box is unticked by default
        "stage_final": "done",
        "called_interview_at": "2026-11-24T09:40:00+00:00",
        "questionnaire_answers": "{}",  # the simulated day registers without a questionnaire
        "weight_kg": "68.0",
        "systolic": "125",
        "diastolic": "80",
        "pulse": "72",
        "hemoglobin_g_dl": "13.1",
        "decision": "eligible",
        "deferral_reason": "",
        "deferral_until": "",
        "screening_note": "seen",
        "interviewer": "dr.amrani",
        "bag_number": "G123498654321",
        "bag_type": "triple",
        "volume_ml": "450",
        "donation_started_at": "2026-11-24T09:53:00+00:00",
        "donation_ended_at": "2026-11-24T10:01:00+00:00",
        "donation_outcome": "complete",
        "adverse_event": "none",
        "adverse_severity": "",
        "donation_note": "",
        "phlebotomist": "inf.said",
        "wait_minutes": "9",
    }


def test_a_deferred_visit(campaign_id):
    youssef = by_number(csv_dicts(members(bundle_of(campaign_id))[VISITS_CSV]), 2)
    assert youssef["donor_cin"] == youssef["phone"] == youssef["declared_blood_group"] == ""
    assert youssef["age"] == "51"
    assert youssef["first_time"] == "no"  # the centre's list knows a donation in 2025
    assert youssef["stage_final"] == "deferred"
    assert (youssef["systolic"], youssef["diastolic"], youssef["weight_kg"]) == (
        "175",
        "105",
        "80.5",
    )
    assert youssef["decision"] == "deferred_temporary"
    assert youssef["deferral_reason"] == "blood_pressure"
    assert youssef["deferral_until"] == "2026-12-24"
    assert youssef["wait_minutes"] == "18"  # 18 min 30 s, in whole minutes
    assert all(youssef[column] == "" for column in DONATION_COLUMNS)  # no donation


def test_a_visit_still_waiting_has_empty_cells_and_knows_an_earlier_donation(campaign_id):
    hassan = by_number(csv_dicts(members(bundle_of(campaign_id))[VISITS_CSV]), 3)
    assert hassan["stage_final"] == "waiting_interview"
    assert hassan["first_time"] == "no"  # gave blood at Azrou in June
    assert hassan["called_interview_at"] == hassan["wait_minutes"] == ""
    assert all(hassan[column] == "" for column in SCREENING_COLUMNS + DONATION_COLUMNS)


def test_the_json_has_json_types(campaign_id):
    document = json.loads(members(bundle_of(campaign_id))[VISITS_JSON])
    assert document["schema_version"] == 2
    assert document["campaign"] == {
        "code": "KHE-2026-11-24",
        "name": "Don de sang",
        "site": "Khénifra",
        "date": "2026-11-24",
        "regional_centre": "CRTS Meknès",
        "bag_numbers": "any",
    }
    fatima, youssef, _ = document["visits"]
    assert fatima["queue_number"] == 1 and fatima["age"] == 36 and fatima["first_time"] is True
    assert fatima["weight_kg"] == 68.0 and fatima["hemoglobin_g_dl"] == 13.1
    assert fatima["volume_ml"] == 450 and fatima["wait_minutes"] == 9
    assert youssef["donor_cin"] is None and youssef["bag_number"] is None


def test_times_carry_the_venue_utc_offset(campaign_id):
    paris = venue_zone("Europe/Paris")
    rows = csv_dicts(members(bundle_of(campaign_id, zone=paris))[VISITS_CSV])
    assert by_number(rows, 1)["registered_at"] == "2026-11-24T10:31:00+01:00"
    assert by_number(rows, 1)["donation_ended_at"] == "2026-11-24T11:01:00+01:00"


def test_only_the_day_asked_for_or_every_day(campaign_id):
    next_day = CAMPAIGN_DAY + timedelta(days=1)
    with write_transaction(db.session):
        db.session.get(Campaign, campaign_id).ends_on = next_day
    late = Registration("Said", "Alaoui", "M", date(1980, 1, 1), None, None, "citizen")
    arrive(campaign_id, late, "09:00:00", next_day)

    def numbers(day):
        files = members(bundle_of(campaign_id, day))
        visits = [(v["campaign_date"], v["queue_number"]) for v in csv_dicts(files[VISITS_CSV])]
        events = {(e["campaign_date"], e["queue_number"]) for e in csv_dicts(files[EVENTS_CSV])}
        return visits, events

    assert numbers(next_day) == ([("2026-11-25", "1")], {("2026-11-25", "1")})
    visits, events = numbers(CAMPAIGN_DAY)
    assert [number for _, number in visits] == ["1", "2", "3"] and len(events) == 3
    assert len(numbers(None)[0]) == 4


# --- events.csv ---------------------------------------------------------------------------------


def test_the_events_are_the_audit_log_without_health_values(campaign_id):
    content = members(bundle_of(campaign_id))[EVENTS_CSV]
    rows = csv_dicts(content)
    assert csv_rows(content)[0] == [
        "at",
        "actor",
        "device",
        "campaign_date",
        "queue_number",
        "action",
        "from_stage",
        "to_stage",
        "desk",
        "detail",
    ]
    stored = db.session.scalar(select(func.count(Event.id)).where(Event.campaign_id == campaign_id))
    assert len(rows) == stored
    first_call = next(row for row in rows if row["action"] == "call")
    assert first_call == {
        "at": "2026-11-24T09:40:00+00:00",
        "actor": "dr.amrani",
        "device": "10.0.0.7",
        "campaign_date": "2026-11-24",
        "queue_number": "1",
        "action": "call",
        "from_stage": "waiting_interview",
        "to_stage": "interview",
        "desk": "Médecin 1",
        "detail": "",
    }
    cells = {cell for row in csv_rows(content) for cell in row}
    health = {"68.0", "125", "80", "72", "13.1", "80.5", "175", "105", "15.0", "450"}
    assert not cells & (health | {"eligible", "deferred_temporary", "blood_pressure"})
    text = content.decode("utf-8-sig")
    for secret in ("G123498654321", "AB123456", "فاطمة", "Amrani", "+212", "1990-05-17"):
        assert secret not in text


# --- the manifest and verifying -----------------------------------------------------------------


def test_the_manifest_counts_and_hashes_every_file(campaign_id):
    bundle = bundle_of(campaign_id)
    files = members(bundle)
    manifest = json.loads(files[MANIFEST])
    assert manifest["schema_version"] == 2
    assert manifest["generator"].startswith("nabd ")
    assert manifest["generated_at"] == "2026-11-24T18:00:00+00:00"
    assert manifest["campaign"]["code"] == "KHE-2026-11-24"
    assert manifest["counts"] == {
        "visits": 3,
        "by_stage": {"deferred": 1, "done": 1, "waiting_interview": 1},
        "donations": {"complete": 1, "partial": 0, "failed_venipuncture": 0},
        "deferrals": 1,
        "fhir_resources": {
            "Encounter": 3,
            "Observation": 11,  # Fatima 6 (4 measured, decision, volume), Youssef 5
            "Patient": 3,
            "Procedure": 1,
        },
    }
    assert set(manifest["files"]) == {VISITS_CSV, EVENTS_CSV, VISITS_JSON, VISITS_XLSX, FHIR_JSON}
    for name, entry in manifest["files"].items():
        assert entry["bytes"] == len(files[name])
    report = verify_bundle(bundle)
    assert report.ok and report.problems == [] and report.files == 5


def test_one_changed_byte_in_visits_csv_fails(campaign_id):
    bundle = bundle_of(campaign_id)
    original = members(bundle)[VISITS_CSV]
    changed = original.replace(b"13.1", b"13.7")
    assert len(changed) == len(original) and changed != original
    report = verify_bundle(rezip(bundle, **{VISITS_CSV: changed}))
    assert not report.ok
    assert report.problems == ["visits.csv: SHA-256 does not match the manifest"]


def test_a_flipped_byte_inside_the_zip_fails(campaign_id):
    bundle = bytearray(bundle_of(campaign_id))
    with zipfile.ZipFile(io.BytesIO(bytes(bundle))) as opened:
        info = opened.getinfo(VISITS_CSV)
    data_start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    bundle[data_start + info.compress_size // 2] ^= 0x01
    report = verify_bundle(bytes(bundle))
    assert not report.ok
    assert all(problem.startswith("visits.csv:") for problem in report.problems)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({EVENTS_CSV: None}, "events.csv: listed in the manifest but missing"),
        ({"notes.txt": b"hello"}, "'notes.txt': not a file a bundle holds"),
        ({"../../x": b"hello"}, "'../../x': not a file a bundle holds"),
        ({"/etc/cron.d/x": b"* * * * * root sh"}, "'/etc/cron.d/x': not a file a bundle holds"),
        ({MANIFEST: None}, "manifest.json is missing"),
        ({MANIFEST: b"{not json"}, "manifest.json is not valid JSON"),
        ({MANIFEST: b"[]"}, "manifest.json is not a JSON object"),
        ({MANIFEST: b'{"schema_version": 3, "files": {}}'}, "schema version 3 is newer"),
        ({MANIFEST: b'{"schema_version": 1, "files": []}'}, "manifest.json has no valid list"),
        ({VISITS_JSON: b"{}"}, "visits.json: 2 bytes, the manifest says"),
    ],
)
def test_what_verifying_reports(campaign_id, changes, problem):
    report = verify_bundle(rezip(bundle_of(campaign_id), **changes))
    assert not report.ok
    assert any(found.startswith(problem) for found in report.problems), report.problems


def test_counts_that_disagree_with_the_visits_fail(campaign_id):
    bundle = bundle_of(campaign_id)
    manifest = json.loads(members(bundle)[MANIFEST])
    manifest["counts"]["visits"] = 4
    report = verify_bundle(rezip(bundle, **{MANIFEST: json.dumps(manifest).encode()}))
    assert report.problems == ["the manifest counts 4 visits, visits.json holds 3"]


def test_truncated_or_foreign_data_gives_problems_never_an_exception(campaign_id):
    bundle = bundle_of(campaign_id)
    for length in range(0, len(bundle), 3):
        report = verify_bundle(bundle[:length])
        assert not report.ok and report.problems, length
    for position in range(0, len(bundle), 5):
        damaged = bytearray(bundle)
        damaged[position] ^= 0xFF
        verify_bundle(bytes(damaged))  # whatever it finds, it says so without raising
    assert verify_bundle(b"PK\x03\x04 not really").problems[0].startswith("not a readable ZIP")


def test_the_same_data_gives_the_same_bytes(campaign_id):
    morning = members(bundle_of(campaign_id, now=GENERATED))
    evening = members(bundle_of(campaign_id, now=GENERATED + timedelta(hours=3)))
    for name in (VISITS_CSV, EVENTS_CSV, VISITS_JSON, VISITS_XLSX, FHIR_JSON):
        assert morning[name] == evening[name]
    assert bundle_of(campaign_id) == bundle_of(campaign_id)


# --- the command --------------------------------------------------------------------------------


@pytest.fixture
def kiosk(app, tmp_path, kiosk_command):
    """`kiosk …` on the app's instance, after a simulated day."""
    with app.app_context():
        simulate_day(current_campaign(db.session).id)
    return kiosk_command(tmp_path / "instance")


def test_export_then_verify(kiosk, tmp_path):
    out = tmp_path / "khenifra.zip"
    result = kiosk("export", "--date", "2026-11-24", "--out", out)
    assert result.exit_code == 0, result.output
    assert f"Exported KHE-2026-11-24 (2026-11-24) to {out}: 3 visits, 1 donations" in result.output
    assert "1 deferrals" in result.output
    assert "health data" in result.output
    assert out.stat().st_mode & 0o077 == 0
    assert [path.name for path in tmp_path.iterdir() if path.suffix == ".part"] == []
    verified = kiosk("export", "verify", out)
    assert verified.exit_code == 0, verified.output
    key = kiosk("venue", "key")
    assert key.exit_code == 0, key.output
    public, fingerprint_line = key.output.strip().splitlines()
    fingerprint = fingerprint_line.removeprefix("fingerprint ")
    assert re.fullmatch(r"[0-9a-f]{4}(:[0-9a-f]{4}){3}", fingerprint)
    assert verified.output.strip().splitlines() == [
        "ok: 5 files verified (not encrypted)",
        f"signed by the key {fingerprint} ({public})",
    ]
    key_file = tmp_path / "instance" / KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600
    with zipfile.ZipFile(out) as opened:
        assert KEY_FILE not in opened.namelist()
        assert b"PRIVATE" not in b"".join(opened.read(name) for name in opened.namelist())


def test_export_picks_the_campaign_and_its_day_by_itself(kiosk, tmp_path):
    result = kiosk("export", "--out", tmp_path / "day.zip")
    assert result.exit_code == 0, result.output
    assert "KHE-2026-11-24 (2026-11-24)" in result.output


def test_export_refuses_to_overwrite_unless_forced(kiosk, tmp_path):
    out = tmp_path / "day.zip"
    out.write_bytes(b"yesterday's bundle")
    refused = kiosk("export", "--out", out)
    assert refused.exit_code == 1
    assert refused.output.strip() == f"kiosk: {out} exists already; add --force to replace it"
    assert out.read_bytes() == b"yesterday's bundle"
    forced = kiosk("export", "--out", out, "--force")
    assert forced.exit_code == 0, forced.output
    assert kiosk("export", "verify", out).exit_code == 0


def test_verify_reports_each_problem_and_fails(kiosk, tmp_path):
    out = tmp_path / "day.zip"
    kiosk("export", "--out", out)
    with zipfile.ZipFile(out) as opened:
        files = {name: opened.read(name) for name in opened.namelist()}
    files[VISITS_CSV] = files[VISITS_CSV].replace(b"13.1", b"13.7")
    del files[EVENTS_CSV]
    out.write_bytes(zip_bytes(files))
    result = kiosk("export", "verify", out)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{out}: visits.csv: SHA-256 does not match the manifest",
        f"{out}: events.csv: listed in the manifest but missing",
    ]


def test_verify_a_truncated_file(kiosk, tmp_path):
    out = tmp_path / "day.zip"
    kiosk("export", "--out", out)
    out.write_bytes(out.read_bytes()[:-40])
    result = kiosk("export", "verify", out)
    assert result.exit_code == 1
    assert "not a readable ZIP file" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("export",), "Missing option '--out'"),
        (("export", "--date", "2026-11-31", "--out", "x.zip"), "--date"),
        (("export", "--date", "2027-01-01", "--out", "x.zip"), "no campaign runs on 2027-01-01"),
        (("export", "--campaign", "NOPE", "--out", "x.zip"), "no campaign with the code 'NOPE'"),
        (
            ("export", "--campaign", "khe-2026-11-24", "--date", "2026-06-14", "--out", "x.zip"),
            "KHE-2026-11-24 runs from 2026-11-24 to 2026-11-24",
        ),
        (("export", "--out", "/nowhere/at/all/x.zip"), "no folder /nowhere/at/all"),
        (("export", "verify", "missing.zip"), "does not exist"),
        (("export", "--out", "x.zip", "verify", "y.zip"), "go with `kiosk export`"),
    ],
)
def test_bad_arguments_are_one_line(kiosk, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = kiosk(*args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "x.zip").exists()
