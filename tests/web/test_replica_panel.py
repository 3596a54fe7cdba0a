"""The live replica's panel on the coordinator's page: off, PostgreSQL, in step, and each alert, in
French and Arabic; its refresh is for the coordinator only."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import pytest

from kiosk import replica
from kiosk.db import db
from kiosk.replica import ChildState, Health
from tests.support.staff import create_staff_and_desks, log_in

FR = {"Accept-Language": "fr"}
AR = {"Accept-Language": "ar"}


@pytest.fixture
def staffed_app(app):
    create_staff_and_desks(app)
    return app


def coordinator(app):
    client = app.test_client()
    assert log_in(client, "coordinator").status_code == 303
    return client


def test_without_a_replica_the_panel_says_what_is_at_stake(staffed_app):
    page = coordinator(staffed_app).get("/staff/admin", headers=FR).text
    assert 'data-replica="off"' in page
    assert "Pas de réplique en direct" in page
    assert "/staff/replica" not in page  # nothing to refresh


def _fake_replica(tmp_path, local_txid: int, remote_txid: int, local_age: float) -> None:
    """Litestream's files as it leaves them: its local level-0 files beside the database, and
    the drive's marker and files."""
    usb = tmp_path / "usb"
    (usb / "database" / "ltx" / "0").mkdir(parents=True)
    (usb / replica.MARKER).write_text("")
    local = tmp_path / "instance" / ".kiosk.sqlite3-litestream" / "ltx" / "0"
    local.mkdir(parents=True)
    moment = time.time() - local_age
    for txid in range(1, local_txid + 1):
        path = local / f"{txid:016x}-{txid:016x}.ltx"
        path.write_bytes(b"")
        os.utime(path, (moment, moment))
    for txid in range(1, remote_txid + 1):
        (usb / "database" / "ltx" / "0" / f"{txid:016x}-{txid:016x}.ltx").write_bytes(b"")


def test_a_replica_in_step_is_shown_with_its_position(make_app, tmp_path):
    _fake_replica(tmp_path, 12, 12, 3)
    app = make_app(REPLICA=str(tmp_path / "usb"))
    create_staff_and_desks(app)
    page = coordinator(app).get("/staff/admin", headers=FR).text
    assert 'data-replica="on"' in page and "data-replica-ok" in page
    assert 'data-replica-position="000000000000000c"' in page and 'data-replica-lag="0"' in page
    assert 'hx-get="/staff/replica" hx-trigger="every 5s"' in page
    assert "À jour" in page
    assert "data-replica-same-disk" in page  # the temporary folder is on the same disk
    with app.app_context():
        db.engine.dispose()


def test_a_pulled_drive_raises_the_alert(make_app, tmp_path):
    _fake_replica(tmp_path, 3, 3, 3)
    (tmp_path / "usb" / replica.MARKER).unlink()
    app = make_app(REPLICA=str(tmp_path / "usb"))
    create_staff_and_desks(app)
    page = coordinator(app).get("/staff/replica", headers=AR).text
    assert 'data-replica-alert="unreadable"' in page
    assert "لا يمكن الوصول إلى النسخة المتماثلة" in page
    with app.app_context():
        db.engine.dispose()


class FakeSupervisor:
    def __init__(self, result: Health) -> None:
        self.result = result

    def health(self) -> Health:
        return self.result


NOW = datetime.now(UTC)


@pytest.mark.parametrize(
    ("problem", "lag", "french", "arabic"),
    [
        ("behind", 42, "depuis 42 secondes", "منذ 42 ثانية"),
        ("stopped", 0, "son programme de copie s’est arrêté", "توقف برنامج النسخ"),
    ],
)
def test_the_alerts_of_a_running_server(staffed_app, problem, lag, french, arabic):
    staffed_app.extensions[replica.EXTENSION] = FakeSupervisor(
        Health(
            target="/media/usb/nabd",
            local_txid=40,
            replica_txid=31,
            replicated_at=NOW - timedelta(seconds=50),
            lag_seconds=lag,
            problem=problem,
            detail="write ltx file: no space left on device",
            child=ChildState(running=problem != "stopped"),
        )
    )
    staffed_app.config["REPLICA"] = "/media/usb/nabd"
    client = coordinator(staffed_app)
    page = client.get("/staff/replica", headers=FR).text
    assert f'data-replica-alert="{problem}"' in page and 'role="alert"' in page
    assert french in page and "no space left on device" in page
    assert 'data-replica-position="000000000000001f"' in page
    assert arabic in client.get("/staff/replica", headers=AR).text


def test_postgresql_is_replicated_by_postgresql(staffed_app):
    staffed_app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://nabd@127.0.0.1/nabd"
    page = coordinator(staffed_app).get("/staff/replica", headers=FR).text
    assert 'data-replica="postgresql"' in page and "réplication en continu" in page


def test_the_panel_is_for_the_coordinator_only(staffed_app):
    assert staffed_app.test_client().get("/staff/replica").status_code in (302, 401)
    doctor = staffed_app.test_client()
    assert log_in(doctor, "doctor").status_code == 303
    assert doctor.get("/staff/replica").status_code == 403
