"""`kiosk central recall` at the centre, from imported bundles: the donors who may give again in a
window, with their phone where they agreed at the kiosk to be phoned; an older bundle without
that consent still goes in, read as "no"."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from kiosk.domain.exchange.columns import ADDED_IN
from tests.support.centre_bundles import resigned, visits_of
from tests.support.venue_day import VENUE_NAME, VENUE_PUBLIC, venue_bundle

JUNE = date(2026, 6, 14)


@pytest.fixture(scope="module")
def june(tmp_path_factory):
    return venue_bundle(tmp_path_factory.mktemp("june"), donors=12, still_waiting=2, day=JUNE)


@pytest.fixture
def centre(tmp_path, kiosk_command):
    run = kiosk_command(tmp_path / "centre", f"sqlite:///{tmp_path / 'centre.sqlite3'}")
    assert run("central", "trust", "add", VENUE_NAME, VENUE_PUBLIC).exit_code == 0
    return run


def imported(centre, tmp_path, bundle: bytes) -> None:
    path = tmp_path / "day.zip"
    path.write_bytes(bundle)
    result = centre("central", "import", str(path))
    assert result.exit_code == 0, result.output


def recalled(centre, tmp_path, *window: str) -> dict[str, dict[str, str]]:
    out = tmp_path / "recall.csv"
    result = centre("central", "recall", "--from", window[0], "--to", window[1], "--out", out)
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.output and "agreed to be phoned" in result.output
    return {row["cin"]: row for row in csv.DictReader(io.StringIO(out.read_text("utf-8-sig")))}


def test_the_consent_travels_in_the_bundle_and_gives_the_phone(centre, june, tmp_path):
    visits = visits_of(june.bundle)
    agreed = next(v for v in visits if v["donor_cin"] and v["phone"])
    agreed["contact_consent"] = True
    imported(centre, tmp_path, resigned(june.bundle, visits))
    rows = recalled(centre, tmp_path, "2026-12-01", "2026-12-31")
    assert rows, "nobody may give again six months after a June day"
    assert rows[agreed["donor_cin"]]["phone"].lstrip("'") == agreed["phone"]
    assert all(row["phone"] == "" for cin, row in rows.items() if cin != agreed["donor_cin"])
    permanent = {v["donor_cin"] for v in visits if v["decision"] == "deferred_permanent"}
    assert permanent and not permanent & set(rows)


def test_an_older_bundle_without_the_consent_is_read_as_no(centre, june, tmp_path):
    visits = visits_of(june.bundle)
    for visit in visits:
        for column in ADDED_IN:  # what schema version 2 added
            del visit[column]
    imported(centre, tmp_path, resigned(june.bundle, visits, schema_version=1))
    rows = recalled(centre, tmp_path, "2026-12-01", "2026-12-31")
    assert rows and all(row["phone"] == "" for row in rows.values())


def test_a_newer_bundle_missing_the_column_is_refused(centre, june, tmp_path):
    visits = visits_of(june.bundle)
    del visits[0]["contact_consent"]
    path = tmp_path / "day.zip"
    path.write_bytes(resigned(june.bundle, visits))
    result = centre("central", "import", str(path))
    assert result.exit_code == 1
    assert "visits.json row 1 lacks contact_consent" in result.output


@pytest.mark.parametrize(
    ("window", "message"),
    [
        (("2026-13-01", "2026-12-31"), "Invalid value for '--from'"),
        (("2026-12-31", "2026-12-01"), "before it starts"),
    ],
)
def test_a_bad_window_is_one_line(centre, tmp_path, window, message):
    out = tmp_path / "recall.csv"
    result = centre("central", "recall", "--from", window[0], "--to", window[1], "--out", out)
    assert result.exit_code in (1, 2) and message in result.output
    assert "Traceback" not in result.output and not out.exists()
