"""Bundles and commands for the centre's tests: a bundle re-signed with the test venues' key
after a change (what a stolen key or a venue's bug makes), its rows, and `kiosk` in its own
process on the centre's database."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from kiosk.domain.exchange.columns import EVENTS_CSV, MANIFEST, SIGNATURE, VISITS_JSON
from kiosk.domain.exchange.files import csv_value, file_entry, zip_bytes
from kiosk.domain.exchange.signing import signature_member
from kiosk.domain.exchange.verify import bundle_members
from tests.support.centre_state import centre_state
from tests.support.venue_day import VENUE_KEY, VENUE_NAME, VENUE_PUBLIC

CHECKOUT = Path(__file__).resolve().parent.parent.parent


def kiosk_process(database_url: str, instance: Path, *args: str, **env: str):
    """A `kiosk` command in its own process, on the centre's database."""
    environment = {
        **os.environ,
        "KIOSK_INSTANCE": str(instance),
        "DATABASE_URL": database_url,
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        cwd=CHECKOUT,
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
    )


def enrol(database_url: str, instance: Path) -> None:
    """The centre trusts the test venues' key, as its coordinator would enrol it."""
    added = kiosk_process(
        database_url, instance, "central", "trust", "add", VENUE_NAME, VENUE_PUBLIC
    )
    assert added.returncode == 0, added.stderr


def signed_zip(files: dict[str, bytes]) -> bytes:
    """The files as a bundle whose signature.json signs its (changed) manifest: a forgery by
    someone holding the venue's key, or the venue's own re-export."""
    signature = signature_member(VENUE_KEY, files[MANIFEST])
    return zip_bytes({**files, SIGNATURE: signature})


def resigned(
    bundle: bytes, visits=None, events: bytes | None = None, schema_version: int | None = None
) -> bytes:
    """The bundle with visits.json (and events.csv) replaced, its manifest's entries recomputed
    and signed again with the venue's key: what a venue's stolen key, or a venue's bug, makes.
    The manifest keeps no figures (as an older one): its counts are not what is tested here."""
    files = bundle_members(bundle)
    manifest = json.loads(files[MANIFEST])
    if visits is not None:
        document = json.loads(files[VISITS_JSON])
        document["visits"] = visits
        if schema_version is not None:  # an older venue's bundle
            document["schema_version"] = schema_version
        files[VISITS_JSON] = json.dumps(document).encode()
    if events is not None:
        files[EVENTS_CSV] = events
    for name in (VISITS_JSON, EVENTS_CSV):
        manifest["files"][name] = file_entry(files[name])
    manifest.pop("figures", None)
    files[MANIFEST] = json.dumps(manifest).encode()
    return signed_zip(files)


def visits_of(bundle: bytes) -> list[dict]:
    return json.loads(bundle_members(bundle)[VISITS_JSON])["visits"]


def events_of(bundle: bytes) -> list[dict]:
    text = bundle_members(bundle)[EVENTS_CSV].decode("utf-8-sig")
    return [
        {column: csv_value(value) for column, value in row.items()}
        for row in csv.DictReader(io.StringIO(text, newline=""))
    ]


def first(visits: list[dict], **wanted) -> int:
    """The index of the first visit whose columns hold these values (None: any non-empty)."""
    for index, visit in enumerate(visits):
        if all(
            visit[column] is not None if value is None else visit[column] == value
            for column, value in wanted.items()
        ):
            return index
    raise AssertionError(f"no visit with {wanted}")


def refused(centre, tmp_path, data: bytes, *expected: str) -> str:
    path = tmp_path / "day.zip"
    path.write_bytes(data)
    before = centre_state(centre.url)
    result = centre("central", "import", str(path))
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    line = lines[0]
    assert line.startswith(f"kiosk: {path}: ") and line.endswith("; nothing imported"), line
    for part in expected:
        assert part in line, line
    assert centre_state(centre.url) == before
    return line
