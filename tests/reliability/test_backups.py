"""Item 4 of the reliability issue: backups taken while donors register are consistent copies,
the server takes them by itself and keeps the last K, and a restore checks the file first."""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from kiosk.backups import (
    BackupError,
    check_backup,
    hold_server_lock,
    list_backups,
    rotate,
    start_backup_worker,
    take_backup,
)
from kiosk.config import ConfigError, load_settings
from kiosk.db import db
from kiosk.domain.registration import Context, register
from kiosk.models import Campaign
from tests.reliability.figures import show
from tests.server import running_server
from tests.support.factories import CAMPAIGN_DAY, FROZEN_NOW
from tests.support.kiosk_http import donor as web_donor
from tests.support.kiosk_http import open_form, submit
from tests.support.registrations import donor

WRITERS = 6


def database_of(app) -> Path:
    return Path(app.instance_path) / "kiosk.sqlite3"


def numbers_in(path: Path) -> list[int]:
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return sorted(row[0] for row in connection.execute("SELECT queue_number FROM visit"))
    finally:
        connection.close()


def register_some(app, first: int, count: int, kiosk: str = "kiosk-1") -> None:
    with app.app_context():
        campaign_id = db.session.scalar(select(Campaign.id))
        db.session.rollback()
        context = Context(campaign_id, CAMPAIGN_DAY, FROZEN_NOW, "fr", kiosk)
        for serial in range(first, first + count):
            register(db.session, donor(serial), f"backup-{serial:08d}", context)
        db.session.remove()


def test_backups_taken_while_8_kiosks_write_are_consistent_snapshots(app, capsys):
    folder = Path(app.instance_path) / "backups"
    writing = threading.Event()
    writing.set()

    def one_kiosk(kiosk: int) -> int:
        serial = kiosk * 100_000
        while writing.is_set():
            register_some(app, serial, 5, f"kiosk-{kiosk}")
            serial += 5
        return serial - kiosk * 100_000

    backups = []
    began = time.monotonic()
    with ThreadPoolExecutor(WRITERS) as pool:
        kiosks = [pool.submit(one_kiosk, n) for n in range(WRITERS)]
        try:
            for _ in range(8):
                time.sleep(0.15)
                backups.append(take_backup(database_of(app), folder, FROZEN_NOW, keep=50))
        finally:
            writing.clear()
        written = sum(kiosk.result() for kiosk in kiosks)
    elapsed = time.monotonic() - began

    sizes = []
    for path in backups:
        visits = check_backup(path)  # integrity_check ok and a Nabd database
        numbers = numbers_in(path)
        assert numbers == list(range(1, visits + 1)), f"{path.name} is not one snapshot"
        assert not Path(f"{path}-wal").exists()  # one self-contained file
        assert path.stat().st_mode & 0o077 == 0  # health data: the owner only
        sizes.append(visits)
    assert sizes == sorted(sizes)
    assert 0 < sizes[-1] <= written
    show(
        capsys,
        f"backups under load: {len(backups)} taken while {WRITERS} kiosks stored {written} "
        f"registrations in {elapsed:.1f} s; each integrity ok and gapless "
        f"({sizes[0]}..{sizes[-1]} visits)",
    )


def test_rotation_keeps_the_last_k_in_the_order_they_were_taken(app):
    folder = Path(app.instance_path) / "backups"
    taken = []
    for serial in range(5):
        register_some(app, 900 + serial, 1)
        taken.append(take_backup(database_of(app), folder, FROZEN_NOW, keep=3))
    assert [backup.path for backup in list_backups(folder)] == taken[-3:]
    assert [check_backup(path) for path in taken[-3:]] == [3, 4, 5]
    assert rotate(folder, 1) == taken[-3:-1]


def test_a_missing_database_gives_a_clear_error(tmp_path):
    with pytest.raises(BackupError, match="no database"):
        take_backup(tmp_path / "nothing.sqlite3", tmp_path / "backups", FROZEN_NOW, keep=3)


@pytest.mark.slow
def test_the_running_server_backs_up_by_itself_and_keeps_the_last_3(tmp_path, capsys):
    registered = []
    with running_server(tmp_path, KIOSK_BACKUP_MINUTES="0.01", KIOSK_BACKUP_KEEP="3") as url:
        began = time.monotonic()

        def one_tablet(tablet: int) -> None:
            with requests.Session() as session:
                serial = tablet * 1000
                while time.monotonic() - began < 3.0:
                    form = {**open_form(session, url), **web_donor(serial)}
                    registered.append(submit(session, url, form))
                    serial += 1

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(one_tablet, range(4)))
        time.sleep(1.0)  # one more backup after the load
        backups = list_backups(url.instance / "backups")
    assert "Backups every 0.01 min" in (tmp_path / "stdout.log").read_text()
    assert len(backups) == 3
    counts = [check_backup(backup.path) for backup in backups]
    for backup in backups:
        assert numbers_in(backup.path) == list(range(1, check_backup(backup.path) + 1))
    assert counts[-1] == len(registered)
    show(
        capsys,
        f"server backups: {len(registered)} registrations over 3 s, backups every 0.6 s, "
        f"{len(backups)} kept with {counts} visits, each integrity ok",
    )


# --- kiosk backup now / list / restore -----------------------------------------------------------


@pytest.fixture
def kiosk(app, kiosk_command):
    """The `kiosk` command on the app's instance folder."""

    def release_the_file():
        with app.app_context():
            db.engine.dispose()  # the command and the restore own the file now

    return kiosk_command(app.instance_path, before=release_the_file)


def one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kiosk: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


def test_backup_now_then_list(kiosk, app):
    register_some(app, 1, 2)
    made = kiosk("backup", "now")
    assert made.exit_code == 0, made.output
    assert "integrity ok" in made.output
    listed = kiosk("backup", "list")
    assert listed.exit_code == 0
    (backup,) = list_backups(Path(app.instance_path) / "backups")
    assert backup.path.name in listed.output


def test_restore_brings_back_the_backup_and_keeps_the_replaced_database(kiosk, app):
    register_some(app, 1, 2)
    backup = take_backup(database_of(app), Path(app.instance_path) / "backups", FROZEN_NOW, 5)
    register_some(app, 3, 4)
    assert numbers_in(database_of(app)) == [1, 2, 3, 4, 5, 6]

    refused = kiosk("backup", "restore", str(backup), input="n\n")
    assert refused.exit_code == 1
    assert numbers_in(database_of(app)) == [1, 2, 3, 4, 5, 6]

    restored = kiosk("backup", "restore", str(backup), "--yes")
    assert restored.exit_code == 0, restored.output
    assert "integrity ok, a Nabd database with 2 visits" in restored.output
    assert numbers_in(database_of(app)) == [1, 2]
    (aside,) = Path(app.instance_path, "backups").glob("replaced-*")
    assert numbers_in(aside / "kiosk.sqlite3") == [1, 2, 3, 4, 5, 6]
    assert kiosk("campaign", "show").exit_code == 0  # the app starts on the restored database


def corrupted_copy(app, tmp_path: Path) -> Path:
    register_some(app, 1, 30)
    good = take_backup(database_of(app), tmp_path / "copies", FROZEN_NOW, 5)
    bad = tmp_path / "corrupt.sqlite3"
    data = bytearray(good.read_bytes())
    data[4096 * 3 : 4096 * 5] = bytes(range(256)) * 32  # two pages of the tables overwritten
    bad.write_bytes(bytes(data))
    return bad


def index_swapped_copy(app, tmp_path: Path) -> Path:
    """Readable, but two indexes point at each other's pages: only integrity_check sees it."""
    register_some(app, 1, 30)
    copy = take_backup(database_of(app), tmp_path / "copies", FROZEN_NOW, 5)
    connection = sqlite3.connect(copy)
    roots = dict(
        connection.execute(
            "SELECT name, rootpage FROM sqlite_master WHERE name IN (?, ?)",
            ("ix_visit_queue", "ix_event_visit_id"),
        )
    )
    connection.execute("PRAGMA writable_schema=ON")
    for name, other in (
        ("ix_visit_queue", "ix_event_visit_id"),
        ("ix_event_visit_id", "ix_visit_queue"),
    ):
        connection.execute("UPDATE sqlite_master SET rootpage=? WHERE name=?", (roots[other], name))
    connection.commit()
    connection.close()
    return copy


def not_nabd(tmp_path: Path) -> Path:
    path = tmp_path / "other.sqlite3"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE notes (text)")
    connection.commit()
    connection.close()
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda app, tmp: tmp / "absent.sqlite3", "no file"),
        (lambda app, tmp: (tmp / "junk").write_text("hello") and tmp / "junk", "not a readable"),
        (lambda app, tmp: not_nabd(tmp), "not a Nabd database"),
        (corrupted_copy, ""),
        (index_swapped_copy, "fails its integrity check: row 1 missing from index"),
    ],
    ids=["absent", "not-sqlite", "not-nabd", "corrupt", "bad-index"],
)
def test_restore_refuses_a_bad_file_in_one_line_and_changes_nothing(
    kiosk, app, tmp_path, make, message
):
    register_some(app, 500, 1)
    bad = make(app, tmp_path)
    before = numbers_in(database_of(app))
    line = one_line_error(kiosk("backup", "restore", str(bad), "--yes"))
    assert message in line
    if not message:
        assert "integrity check" in line or "not a readable SQLite database" in line
    assert numbers_in(database_of(app)) == before
    assert not list(Path(app.instance_path).glob("backups/replaced-*"))


def test_restore_refuses_while_the_server_runs(kiosk, app):
    register_some(app, 1, 1)
    backup = take_backup(database_of(app), Path(app.instance_path) / "backups", FROZEN_NOW, 5)
    lock = hold_server_lock(Path(app.instance_path))
    try:
        line = one_line_error(kiosk("backup", "restore", str(backup), "--yes"))
    finally:
        lock.close()
    assert "the server is running" in line
    assert kiosk("backup", "restore", str(backup), "--yes").exit_code == 0


def test_the_backup_worker_keeps_going_after_a_failure(app, tmp_path, caplog):
    folder = tmp_path / "backups"
    missing = start_backup_worker(tmp_path / "gone.sqlite3", folder, 0.002, 3, lambda: FROZEN_NOW)
    working = start_backup_worker(database_of(app), folder, 0.002, 3, lambda: FROZEN_NOW)
    try:
        deadline = time.monotonic() + 10
        while len(list_backups(folder)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        missing.stop()
        working.stop()
    assert len(list_backups(folder)) == 3
    assert missing.thread.is_alive() is False
    failures = [r for r in caplog.records if r.levelname == "ERROR" and "gone.sqlite3" in r.message]
    assert len(failures) >= 2  # it tried again after the first failure


def test_no_worker_when_backups_are_off(app, tmp_path):
    assert start_backup_worker(database_of(app), tmp_path, 0, 3, lambda: FROZEN_NOW) is None


@pytest.mark.parametrize(
    ("value", "minutes"), [("0.5", 0.5), ("10", 10.0), ("0", 0.0), ("soon", None)]
)
def test_backup_minutes_is_a_number(tmp_path, value, minutes):
    environ = {"KIOSK_BACKUP_MINUTES": value}
    if minutes is None:
        with pytest.raises(ConfigError, match="KIOSK_BACKUP_MINUTES must be a number"):
            load_settings(tmp_path, environ, None)
    else:
        assert load_settings(tmp_path, environ, None)["BACKUP_MINUTES"] == minutes


def test_backup_commands_point_postgresql_to_its_own_tools(kiosk, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nabd@127.0.0.1/nabd")
    for command in (("backup", "now"), ("backup", "list"), ("backup", "restore", "x", "--yes")):
        assert "pg_dump" in one_line_error(kiosk(*command))
