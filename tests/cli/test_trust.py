"""The centre's trust in venues (issue 13): a bundle goes in only signed by an enrolled, not
revoked venue key, with a signature that verifies over its manifest; an older unsigned one only
with --accept-unsigned, audited. Each refusal is one line naming the bundle and leaves every
table of the centre as it was (its row counts and a hash of its rows)."""

from __future__ import annotations

import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from kiosk.domain.exchange.columns import MANIFEST, SIGNATURE, VISITS_JSON
from kiosk.domain.exchange.files import file_entry, zip_bytes
from kiosk.domain.exchange.signing import public_text, signature_member
from kiosk.domain.exchange.verify import bundle_members
from kiosk.models import Event
from tests.support.centre_state import centre_state
from tests.support.venue_day import VENUE_KEY, VENUE_NAME, VENUE_PUBLIC, venue_bundle

TABLES = (
    "campaign",
    "donor",
    "visit",
    "screening",
    "donation",
    "event",
    "imported_bundle",
    "trusted_venue",
)


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    return venue_bundle(tmp_path_factory.mktemp("venue"), donors=6, still_waiting=1)


@pytest.fixture
def centre(tmp_path, kiosk_command):
    """The centre's `kiosk`, its database made (by a first command) and empty."""
    url = f"sqlite:///{tmp_path / 'centre.sqlite3'}"
    run = kiosk_command(tmp_path / "centre", url)
    assert run("central", "trust", "list").exit_code == 0
    run.url = url  # type: ignore[attr-defined]
    return run


def state(url: str) -> dict[str, tuple[int, str]]:
    return centre_state(url, TABLES)


def refused(centre, tmp_path, data: bytes, reason: str, *options: str) -> None:
    path = tmp_path / "bundle.zip"
    path.write_bytes(data)
    before = state(centre.url)
    result = centre("central", "import", str(path), *options)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert lines[0].startswith(f"kiosk: {path}: ") and reason in lines[0], lines[0]
    assert lines[0].endswith("nothing imported")
    assert state(centre.url) == before


def enrol(centre, name: str = VENUE_NAME, public: str = VENUE_PUBLIC) -> None:
    added = centre("central", "trust", "add", name, public)
    assert added.exit_code == 0, added.output


def unsigned(bundle: bytes) -> bytes:
    files = bundle_members(bundle)
    del files[SIGNATURE]
    return zip_bytes(files)


def forged(bundle: bytes, key: Ed25519PrivateKey | None = None) -> bytes:
    """A visit's name changed, visits.json's entry recomputed in the manifest; the original
    signature kept (key None) or the manifest re-signed with another key."""
    files = bundle_members(bundle)
    document = json.loads(files[VISITS_JSON])
    document["visits"][0]["last_name"] = "=HYPERLINK(1)"
    content = json.dumps(document).encode()
    manifest = json.loads(files[MANIFEST])
    manifest["files"][VISITS_JSON] = file_entry(content)
    manifest_bytes = json.dumps(manifest).encode()
    files.update({MANIFEST: manifest_bytes, VISITS_JSON: content})
    if key is not None:
        files[SIGNATURE] = signature_member(key, manifest_bytes)
    return zip_bytes(files)


def test_an_unsigned_bundle_is_refused(day, centre, tmp_path):
    enrol(centre)
    refused(centre, tmp_path, unsigned(day.bundle), "unsigned")


def test_a_bundle_of_an_unknown_key_is_refused(day, centre, tmp_path):
    refused(centre, tmp_path, day.bundle, "signed by an unknown key")


def test_a_forged_bundle_with_a_recomputed_manifest_is_refused(day, centre, tmp_path):
    enrol(centre)
    refused(centre, tmp_path, forged(day.bundle), "the signature does not verify")
    stranger = Ed25519PrivateKey.generate()
    refused(centre, tmp_path, forged(day.bundle, stranger), "signed by an unknown key")


def test_a_revoked_key_is_refused_and_the_revocation_audited(day, centre, tmp_path):
    enrol(centre)
    revoked = centre("central", "trust", "revoke", VENUE_NAME)
    assert revoked.exit_code == 0, revoked.output
    refused(centre, tmp_path, day.bundle, "which is revoked")
    listed = centre("central", "trust", "list")
    assert listed.exit_code == 0
    name, fingerprint, status, public = listed.output.strip().split("\t")
    assert (name, public, status.split()[0]) == (VENUE_NAME, VENUE_PUBLIC, "revoked")
    again = centre("central", "trust", "revoke", VENUE_NAME)
    assert again.exit_code == 1 and "revoked already" in again.output


def test_a_trusted_bundle_goes_in_and_the_key_is_checked_when_enrolled(day, centre, tmp_path):
    bad = centre("central", "trust", "add", "other", "not-a-key")
    assert bad.exit_code == 1 and "not base64" in bad.output
    enrol(centre)
    twice = centre("central", "trust", "add", "again", VENUE_PUBLIC)
    assert twice.exit_code == 1 and f"as {VENUE_NAME}" in twice.output
    path = tmp_path / "day.zip"
    path.write_bytes(day.bundle)
    result = centre("central", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "6 visits" in result.output


def test_an_unsigned_bundle_goes_in_with_accept_unsigned_audited(day, centre, tmp_path):
    data = unsigned(day.bundle)
    path = tmp_path / "old.zip"
    path.write_bytes(data)
    result = centre("central", "import", str(path), "--accept-unsigned")
    assert result.exit_code == 0, result.output
    import sqlalchemy

    engine = sqlalchemy.create_engine(centre.url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(Event.detail).where(Event.action == "import_unsigned")
        ).all()
    engine.dispose()
    assert [json.loads(row.detail)["sha256"] for row in rows] == [hashlib.sha256(data).hexdigest()]


def test_verify_export_says_who_signed(day, centre, tmp_path):
    path = tmp_path / "day.zip"
    path.write_bytes(day.bundle)
    signed = centre("verify-export", str(path))
    assert signed.exit_code == 0, signed.output
    assert f"({VENUE_PUBLIC})" in signed.output.splitlines()[1]
    path.write_bytes(unsigned(day.bundle))
    assert "unsigned" in centre("verify-export", str(path)).output


def test_the_same_data_gives_the_same_signature():
    manifest = b'{"schema_version": 1}\n'
    assert signature_member(VENUE_KEY, manifest) == signature_member(VENUE_KEY, manifest)
    assert public_text(VENUE_KEY) == VENUE_PUBLIC


def test_a_desk_named_like_a_formula_is_escaped_in_events_csv_and_read_back_exactly():
    from kiosk.domain.exchange.central import _event_rows
    from kiosk.domain.exchange.columns import EVENT_COLUMNS
    from kiosk.domain.exchange.files import csv_bytes

    row = {
        "at": "2026-11-24T09:00:00+00:00",
        "actor": "@admin",
        "device": "-10.0.0.7",
        "campaign_date": "2026-11-24",
        "queue_number": 3,
        "action": "call",
        "from_stage": "waiting",
        "to_stage": "interview",
        "desk": "=1+1",
        "detail": '+{"x": 1}',
    }
    content = csv_bytes(EVENT_COLUMNS, [row])
    cells = content.decode("utf-8-sig").splitlines()[1]
    assert ",'=1+1," in cells and ",'@admin," in cells and ",'-10.0.0.7," in cells
    (read,) = _event_rows(content)
    assert (read["desk"], read["actor"], read["device"], read["detail"]) == (
        "=1+1",
        "@admin",
        "-10.0.0.7",
        '+{"x": 1}',
    )


def bomb() -> bytes:
    """A ZIP of some 42 kB whose visits.json unpacks to 30 MB, its manifest's hashes right."""
    content = b'{"schema_version": 1, "visits": [' + b"{}," * 10_000_000 + b"{}]}"
    manifest = {
        "schema_version": 1,
        "counts": {"visits": 10_000_001},
        "files": {VISITS_JSON: file_entry(content)},
    }
    return zip_bytes({MANIFEST: json.dumps(manifest).encode(), VISITS_JSON: content})


def test_a_zip_bomb_is_refused_in_bounded_memory(tmp_path, centre):
    import tracemalloc

    data = bomb()
    assert len(data) < 100_000
    tracemalloc.start()
    try:
        from kiosk.domain.exchange.verify import verify_bundle

        report = verify_bundle(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    print(f"\nbomb of {len(data)} bytes: peak {peak / 1e6:.0f} MB while verifying")
    assert report.problems == ["visits.json: more than 100000 objects, too many for a bundle"]
    assert peak < 150_000_000
    enrol(centre)
    refused(centre, tmp_path, data, "more than 100000 objects")


@pytest.mark.parametrize(
    "content",
    [
        b'{"visits": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"visits": [1e999999]}',
        b'{"visits": [' + b"0," * 6_000_000 + b"0]}",
    ],
    ids=["deep", "huge-number", "many-values"],
)
def test_hostile_json_is_one_line_never_a_traceback(content, centre, tmp_path):
    manifest = {
        "schema_version": 1,
        "counts": {"visits": 1},
        "files": {VISITS_JSON: file_entry(content)},
    }
    data = zip_bytes({MANIFEST: json.dumps(manifest).encode(), VISITS_JSON: content})
    path = tmp_path / "hostile.zip"
    path.write_bytes(data)
    verified = centre("verify-export", str(path))
    assert verified.exit_code == 1
    assert "Traceback" not in verified.output and "unexpected error" not in verified.output
    assert verified.output.startswith(f"{path}: visits.json"), verified.output
    enrol(centre)
    refused(centre, tmp_path, data, "visits.json")
