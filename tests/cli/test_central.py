"""The regional centre: venues' bundles merged into one database (SQLite and PostgreSQL), and
the list of known donors for the next campaign.

The round trip runs `kiosk central import` as the centre types it, in its own process, on a
day of 300 visits built through the domain functions with every outcome.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kiosk import create_app
from kiosk.db import db
from kiosk.domain.exchange.bundle import build_bundle
from kiosk.domain.exchange.central import ImportRefused, import_bundles, read_bundle
from kiosk.domain.exchange.columns import EVENTS_CSV, MANIFEST, SCHEMA_VERSION, VISITS_JSON
from kiosk.domain.exchange.files import file_entry, zip_bytes
from kiosk.domain.exchange.verify import bundle_members, read_manifest, verify_bundle
from kiosk.models import Campaign, Donation, Donor, Event, ImportedBundle, Screening, Visit
from tests.support.centre_bundles import enrol, kiosk_process, signed_zip
from tests.support.venue_day import (
    DAY,
    VENUE_NAME,
    VENUE_PUBLIC,
    ZONE,
    person,
    trust_test_venue,
    venue_bundle,
)

CHECKOUT = Path(__file__).resolve().parent.parent.parent
PASSPHRASE = "sept mots pour le centre"
TABLES = (Campaign, Donor, Visit, Screening, Donation, Event, ImportedBundle)
TABLES_NAMES = tuple(model.__tablename__ for model in TABLES)


@pytest.fixture(scope="module")
def day_of_300(tmp_path_factory):
    """One venue's day of 300 visits, built once for the module."""
    return venue_bundle(tmp_path_factory.mktemp("venue"), donors=300)


@pytest.fixture(scope="module")
def small_day(tmp_path_factory):
    return venue_bundle(tmp_path_factory.mktemp("small-venue"), donors=20, still_waiting=2)


class Centre:
    """The centre's database, opened by the app as `kiosk central` opens it."""

    def __init__(self, database_url: str, instance: Path) -> None:
        self.url = database_url
        self.app = create_app(
            {
                "INSTANCE": instance,
                "SQLALCHEMY_DATABASE_URI": database_url,
                "CLOCK": lambda: datetime(2026, 11, 26, 9, 0, tzinfo=UTC),
            }
        )

    def __enter__(self):
        self.context = self.app.app_context()
        self.context.push()
        return self

    def __exit__(self, *exc) -> None:
        db.session.remove()
        db.engine.dispose()
        self.context.pop()

    def counts(self) -> dict[str, int]:
        db.session.rollback()  # what is committed now, not what this session saw before
        return {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in TABLES
        }

    def re_export(self, code: str) -> dict[str, bytes]:
        campaign = db.session.scalar(select(Campaign).where(Campaign.code == code))
        now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
        return bundle_members(build_bundle(db.session, campaign.id, DAY, now, ZONE))


def visits_of(files: dict[str, bytes]) -> list[dict]:
    return json.loads(files[VISITS_JSON])["visits"]


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


# --- the round trip -----------------------------------------------------------------------------


@pytest.mark.slow
def test_a_day_of_300_visits_round_trips_and_a_second_import_adds_nothing(
    day_of_300, database_url, tmp_path
):
    bundle = tmp_path / "KHE-2026-11-24_2026-11-24.zip"
    bundle.write_bytes(day_of_300.bundle)
    assert verify_bundle(day_of_300.bundle).ok
    source = bundle_members(day_of_300.bundle)
    source_counts = read_manifest(day_of_300.bundle)["counts"]

    enrol(database_url, tmp_path / "centre")
    first = kiosk_process(database_url, tmp_path / "centre", "central", "import", str(bundle))
    assert first.returncode == 0, first.stderr
    print(f"\n{database_url.split(':')[0]}: {first.stdout.strip()}")
    assert "300 visits, 150 donations, 60 deferrals" in first.stdout
    assert "288 new, 0 known, 12 without CIN; 0 conflicts" in first.stdout

    with Centre(database_url, tmp_path / "centre") as centre:
        after_first = centre.counts()
        copy = centre.re_export("KHE-2026-11-24")
        assert read_manifest(zip_bytes(copy))["counts"] == source_counts
        assert visits_of(copy) == visits_of(source)  # every value of every visit
        assert copy[EVENTS_CSV] == source[EVENTS_CSV]  # and the audit log, line for line
        bags = db.session.scalars(select(Donation.bag_number).order_by(Donation.bag_number))
        assert list(bags) == sorted(day_of_300.bags)
        by_outcome = Counter(db.session.scalars(select(Donation.outcome)))
        assert by_outcome == {"complete": 90, "partial": 30, "failed_venipuncture": 30}

    again = kiosk_process(database_url, tmp_path / "centre", "central", "import", str(bundle))
    assert again.returncode == 0, again.stderr
    assert "imported already" in again.stdout
    assert "1 bundles: 0 imported, 1 already there" in again.stdout
    with Centre(database_url, tmp_path / "centre") as centre:
        assert centre.counts() == after_first
    assert after_first["visit"] == 300 and after_first["imported_bundle"] == 1


def test_the_donors_history_after_the_import(small_day, tmp_path):
    url = f"sqlite:///{tmp_path / 'centre.sqlite3'}"
    with Centre(url, tmp_path / "centre"):
        trust_test_venue()
        import_bundles(db.session, [read_bundle("day.zip", small_day.bundle)], centre_now())
        donors = {donor.cin: donor for donor in db.session.scalars(select(Donor))}
        for number, kind in small_day.kinds.items():
            cin = f"CV{number:06d}"
            if number % 25 == 0:
                continue
            donor = donors[cin]
            gave = kind in {"complete", "partial", "complete_resting", "complete_vasovagal_resting"}
            assert donor.last_donation_on == (DAY if gave else None), (number, kind)
            assert donor.deferred_permanently == (kind == "deferred_permanent")
            temporary = kind == "deferred_temporary"
            assert (donor.deferred_until is not None) == temporary
        campaign = db.session.scalar(select(Campaign))
        assert (campaign.code, campaign.status, campaign.starts_on) == (
            "KHE-2026-11-24",
            "closed",
            DAY,
        )


def centre_now() -> datetime:
    return datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


# --- donors from several campaigns --------------------------------------------------------------


def returning(serial: int):
    """The same people as the first venue's, with one birth date typed differently."""
    if serial == 3:
        return person(serial, birth_date=date(1999, 9, 9))
    return person(serial)


@pytest.mark.slow
def test_donors_of_two_campaigns_are_merged_by_cin_and_a_conflict_is_reported(
    small_day, database_url, tmp_path
):
    azrou = venue_bundle(
        tmp_path / "azrou",
        donors=6,
        still_waiting=0,
        site="Azrou",
        day=date(2027, 3, 2),
        people=returning,
    )
    paths = [tmp_path / "khenifra.zip", tmp_path / "azrou.zip"]
    paths[0].write_bytes(small_day.bundle)
    paths[1].write_bytes(azrou.bundle)
    enrol(database_url, tmp_path / "centre")
    result = kiosk_process(database_url, tmp_path / "centre", "central", "import", *map(str, paths))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith(f"{paths[0]}: KHE-2026-11-24 2026-11-24: 20 visits")
    assert lines[1] == (
        f"{paths[1]}: AZR-2027-03-02 2027-03-02: 6 visits, 3 donations, 2 deferrals, "
        f"{len(read_bundle('a', azrou.bundle).events)} events; donors: 0 new, 5 known, "
        "0 without CIN; 1 conflicts"
    )
    assert lines[2] == (
        "  conflict: CIN CV000003 (AZR-2027-03-02, 2027-03-02, number 3) is known with birth "
        "date 1969-04-04, the bundle says 1999-09-09; imported as a separate donor, the CIN "
        "kept on the visit for checking"
    )
    assert lines[3] == (
        "2 bundles: 2 imported, 0 already there; 26 visits, 13 donations, 1 conflicts"
    )
    with Centre(database_url, tmp_path / "centre"):
        known = db.session.scalar(select(Donor).where(Donor.cin == "CV000001"))
        assert len(db.session.scalars(select(Visit).where(Visit.donor_id == known.id)).all()) == 2
        assert known.last_donation_on == date(2027, 3, 2)  # the later of the two
        kept = db.session.scalar(select(Donor).where(Donor.cin == "CV000003"))
        assert kept.birth_date == date(1969, 4, 4)  # not overwritten
        conflict = db.session.scalar(select(Visit).where(Visit.cin_conflict == "CV000003"))
        assert conflict.donor.cin is None and conflict.donor.birth_date == date(1999, 9, 9)


# --- the list of known donors -------------------------------------------------------------------


@pytest.fixture
def centre_cli(tmp_path, kiosk_command):
    """The centre's `kiosk`, with the test venues' key enrolled."""
    run = kiosk_command(tmp_path / "centre", f"sqlite:///{tmp_path / 'centre.sqlite3'}")
    added = run("central", "trust", "add", VENUE_NAME, VENUE_PUBLIC)
    assert added.exit_code == 0, added.output
    return run


def test_the_donor_list_imports_back_into_a_venue(centre_cli, tmp_path, monkeypatch):
    # A day in the past: the next venue's `kiosk import donors` runs on the real clock, and
    # refuses donations dated after today.
    june = venue_bundle(tmp_path / "june", donors=20, still_waiting=2, day=date(2026, 6, 14))
    bundle = tmp_path / "day.zip"
    bundle.write_bytes(june.bundle)
    assert centre_cli("central", "import", str(bundle)).exit_code == 0
    out = tmp_path / "donneurs.csv"
    listed = centre_cli("central", "donors", "--out", str(out))
    assert listed.exit_code == 0, listed.output
    assert "Wrote 20 donors" in listed.output and "0 donor records without a CIN" in listed.output

    monkeypatch.setenv("KIOSK_INSTANCE", str(tmp_path / "next-venue"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'next-venue.sqlite3'}")
    imported = centre_cli("import", "donors", str(out))
    assert imported.exit_code == 0, imported.output
    assert "20 added, 0 updated, 0 unchanged, 0 problems" in imported.output
    again = centre_cli("import", "donors", str(out))
    assert "0 added, 0 updated, 20 unchanged, 0 problems" in again.output

    # The history travels: donation dates and deferrals, as the next venue's rules need them.
    rows = {row["cin"]: row for row in csv.DictReader(io.StringIO(out.read_text("utf-8-sig")))}
    gave, temporary, permanent = rows["CV000001"], rows["CV000004"], rows["CV000005"]
    assert gave["last_donation_date"] == "2026-06-14"
    assert (temporary["deferred_until"], temporary["deferral_reason"]) == (
        "2026-09-12",
        "low_hemoglobin",
    )
    assert (permanent["deferred_permanently"], permanent["deferral_reason"]) == (
        "yes",
        "infection_risk",
    )


# --- bad bundles: one line, a non-zero exit, nothing imported -----------------------------------


def rezipped(bundle: bytes, **replaced: bytes) -> bytes:
    files = bundle_members(bundle)
    return zip_bytes({**files, **replaced})


def with_newer_schema(bundle: bytes) -> bytes:
    manifest = json.loads(bundle_members(bundle)[MANIFEST])
    manifest["schema_version"] = SCHEMA_VERSION + 1
    return rezipped(bundle, **{MANIFEST: json.dumps(manifest).encode()})


def with_one_byte_changed(bundle: bytes) -> bytes:
    content = bytearray(bundle_members(bundle)[VISITS_JSON])
    at = content.index(b'"stage_final": "done"') + len('"stage_final": "d')
    content[at] = ord("x")  # "done" becomes "dxne"
    return rezipped(bundle, **{VISITS_JSON: bytes(content)})


def with_a_raw_byte_flipped(bundle: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(bundle)) as opened:
        info = opened.getinfo(VISITS_JSON)
    data = bytearray(bundle)
    data[info.header_offset + 30 + len(VISITS_JSON) + info.compress_size // 2] ^= 0x01
    return bytes(data)


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda data: data[: len(data) // 2], "not a readable ZIP file"),
        (
            with_newer_schema,
            f"schema version {SCHEMA_VERSION + 1} is newer than this Nabd reads ({SCHEMA_VERSION})",
        ),
        (with_one_byte_changed, "visits.json: SHA-256 does not match the manifest"),
        (with_a_raw_byte_flipped, "visits.json"),
        (lambda data: b"PK\x03\x04 not really", "not a readable ZIP file"),
    ],
    ids=["truncated", "newer-schema", "changed-byte", "flipped-byte-in-zip", "not-a-zip"],
)
def test_a_bad_bundle_is_one_line_and_nothing_is_imported(
    small_day, centre_cli, tmp_path, spoil, message
):
    good, bad = tmp_path / "good.zip", tmp_path / "bad.zip"
    good.write_bytes(small_day.bundle)
    bad.write_bytes(spoil(small_day.bundle))
    result = centre_cli("central", "import", str(good), str(bad))
    assert result.exit_code == 1
    line = one_line(result.output)
    assert line.startswith(f"kiosk: {bad}: ") and message in line, line
    assert line.endswith("nothing imported")
    with Centre(f"sqlite:///{tmp_path / 'centre.sqlite3'}", tmp_path / "c") as centre:
        # not even the good bundle before it; the one event is the key's enrolment
        assert {**centre.counts(), "event": 0} == dict.fromkeys(TABLES_NAMES, 0)


@pytest.fixture(scope="module")
def encrypted_day(tmp_path_factory):
    return venue_bundle(
        tmp_path_factory.mktemp("encrypted-venue"),
        donors=5,
        still_waiting=1,
        passphrase=PASSPHRASE,
    )


@pytest.mark.parametrize(
    ("passphrase", "message"),
    [
        (None, "the bundle is encrypted: its passphrase is needed"),
        ("not the right one", "wrong passphrase"),
    ],
)
def test_a_wrong_or_missing_passphrase_is_one_line(
    encrypted_day, centre_cli, tmp_path, passphrase, message
):
    bundle = tmp_path / "secret.zip"
    bundle.write_bytes(encrypted_day.bundle)
    options = ["--passphrase-env", "NABD_PASSPHRASE"] if passphrase else []
    result = centre_cli(
        "central", "import", str(bundle), *options, NABD_PASSPHRASE=passphrase or ""
    )
    assert result.exit_code == 1
    assert one_line(result.output) == f"kiosk: {bundle}: {message}; nothing imported"


def test_an_encrypted_bundle_imports_with_its_passphrase(encrypted_day, centre_cli, tmp_path):
    bundle = tmp_path / "secret.zip"
    bundle.write_bytes(encrypted_day.bundle)
    result = centre_cli(
        "central",
        "import",
        str(bundle),
        "--passphrase-env",
        "NABD_PASSPHRASE",
        NABD_PASSPHRASE=PASSPHRASE,
    )
    assert result.exit_code == 0, result.output
    assert "5 visits" in result.output


def test_a_bundle_of_a_day_already_imported_from_another_bundle_is_refused(small_day, tmp_path):
    url = f"sqlite:///{tmp_path / 'centre.sqlite3'}"
    with Centre(url, tmp_path / "centre") as centre:
        trust_test_venue()
        import_bundles(db.session, [read_bundle("first.zip", small_day.bundle)], centre_now())
        before = centre.counts()
        # The same day exported again later: another manifest (generated_at), the same visits.
        files = bundle_members(small_day.bundle)
        manifest = json.loads(files[MANIFEST])
        manifest["generated_at"] = "2026-11-24T20:00:00+00:00"
        later = signed_zip({**files, MANIFEST: json.dumps(manifest).encode()})
        with pytest.raises(ImportRefused, match="2026-11-24 was imported already .* goes in once"):
            import_bundles(db.session, [read_bundle("later.zip", later)], centre_now())
        assert centre.counts() == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"queue_number": "7"}, "queue_number: not a whole number"),
        ({"stage_final": "somewhere"}, "stage_final: 'somewhere' is not one of"),
        ({"registered_at": "2026-11-24T09:00:00"}, "registered_at: a time without its UTC"),
        ({"birth_date": None}, "birth_date: empty"),
        ({"weight_kg": None}, "(screened): weight_kg empty"),
    ],
)
def test_a_bundle_with_well_hashed_but_wrong_values_is_refused(
    small_day, tmp_path, change, message
):
    files = bundle_members(small_day.bundle)
    document = json.loads(files[VISITS_JSON])
    document["visits"][0].update(change)
    content = json.dumps(document).encode()
    manifest = json.loads(files[MANIFEST])
    manifest["files"][VISITS_JSON] = file_entry(content)
    # As an older manifest, without figures: else verify, not the import's reading, refuses it.
    manifest.pop("figures")
    bundle = signed_zip({**files, MANIFEST: json.dumps(manifest).encode(), VISITS_JSON: content})
    with pytest.raises(ImportRefused, match="visits.json row 1") as refused:
        read_bundle("odd.zip", bundle)
    assert message in str(refused.value)


def test_a_missing_bundle_file_is_one_line(centre_cli, tmp_path):
    result = centre_cli("central", "import", str(tmp_path / "nowhere.zip"))
    assert result.exit_code != 0
    assert "does not exist" in one_line(result.output)


def test_the_donor_list_needs_somewhere_to_go(centre_cli, tmp_path):
    result = centre_cli("central", "donors", "--out", str(tmp_path / "no" / "such" / "x.csv"))
    assert result.exit_code == 1
    assert one_line(result.output) == f"kiosk: no folder {tmp_path / 'no' / 'such'}"


def test_a_value_the_database_refuses_is_one_line_and_nothing_is_imported(
    small_day, database_url, tmp_path
):
    files = bundle_members(small_day.bundle)
    document = json.loads(files[VISITS_JSON])
    document["visits"][1]["queue_number"] = 1  # two visits with one number
    content = json.dumps(document).encode()
    manifest = json.loads(files[MANIFEST])
    manifest["files"][VISITS_JSON] = file_entry(content)
    bundle = signed_zip({**files, MANIFEST: json.dumps(manifest).encode(), VISITS_JSON: content})
    with Centre(database_url, tmp_path / "centre") as centre:
        trust_test_venue()
        before = centre.counts()
        with pytest.raises(ImportRefused, match="^twice.zip: the database refused a value"):
            import_bundles(db.session, [read_bundle("twice.zip", bundle)], centre_now())
        assert centre.counts() == before
