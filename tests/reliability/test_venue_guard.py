"""The venue stays up (issue 14): idle sockets from one address, a second server on the same
instance folder, files only the venue's user reads, bodies too large for any real form."""

from __future__ import annotations

import socket
import stat
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlsplit

import pytest

from kiosk.serving import InstanceBusy, make_private, take_instance_lock
from tests.server import _environment, free_port, running_server

IDLE_CONNECTIONS = 300
HOLD_SECONDS = 10


def timed_get(url: str) -> float:
    start = time.monotonic()
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
        assert response.status == 200
        response.read()
    return time.monotonic() - start


@pytest.mark.slow
def test_300_idle_connections_from_one_address_do_not_take_the_venue_down(tmp_path):
    with running_server(tmp_path) as base_url:
        host, port = urlsplit(base_url).hostname, urlsplit(base_url).port
        held = []
        try:
            for _ in range(IDLE_CONNECTIONS):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.bind(("127.0.0.2", 0))  # the other address: loopback only
                sock.connect((host, port))
                held.append(sock)
            pages = ("/kiosk", "/login", "/display")
            timings = []
            deadline = time.monotonic() + HOLD_SECONDS
            while time.monotonic() < deadline:
                timings.append([timed_get(base_url + page) for page in pages])
                time.sleep(1)
        finally:
            for sock in held:
                sock.close()
    worst = max(max(row) for row in timings)
    print(f"idle sockets: {IDLE_CONNECTIONS} held {HOLD_SECONDS}s; worst page {worst:.3f}s")
    assert worst < 1.0


@pytest.mark.slow
def test_a_second_server_on_the_same_folder_exits_at_once_naming_the_first(tmp_path):
    with running_server(tmp_path) as base_url:
        start = time.monotonic()
        second = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "kiosk", "run", "--host", "127.0.0.1"]
            + ["--port", str(free_port())],
            env=_environment(base_url.instance),
            capture_output=True,
            text=True,
            timeout=30,
        )
        elapsed = time.monotonic() - start
        assert second.returncode != 0
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and "already running" in lines[0] and base_url in lines[0]
        assert elapsed < 10
        database = base_url.instance / "kiosk.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            path = database.with_name(database.name + suffix)
            if path.exists():
                assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_the_lock_is_exclusive_and_names_the_holder(tmp_path):
    held = take_instance_lock(tmp_path, "http://10.0.0.1:5000")
    try:
        with pytest.raises(InstanceBusy, match="10.0.0.1:5000"):
            take_instance_lock(tmp_path, "http://10.0.0.1:5001")
    finally:
        held.close()
    take_instance_lock(tmp_path, "again").close()


def test_an_instance_folder_others_can_read_is_warned_about(tmp_path):
    import os

    folder = tmp_path / "instance"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    database = folder / "kiosk.sqlite3"
    database.write_bytes(b"")
    database.chmod(0o644)
    old = os.umask(0o022)
    try:
        warnings = make_private(folder, database)
    finally:
        os.umask(old)
    assert len(warnings) == 1 and "chmod 700" in warnings[0]
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def test_a_body_larger_than_any_form_gets_a_kind_413(client):
    response = client.post(
        "/kiosk/register",
        data=b"x" * (2 * 1024 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept-Language": "fr"},
    )
    assert response.status_code == 413
    assert "data-error-status" in response.get_data(as_text=True)


def test_a_full_disk_is_named_to_the_donor_logged_once_and_shown_to_the_coordinator(
    app, client, register, monkeypatch, caplog
):
    import sqlite3

    from sqlalchemy.exc import OperationalError

    import kiosk.web.kiosk as kiosk_views
    from tests.security.conftest import staff_client
    from tests.support.staff import create_staff_and_desks

    def full(*args, **kwargs):
        raise OperationalError("INSERT", {}, sqlite3.OperationalError("database or disk is full"))

    monkeypatch.setattr(kiosk_views, "register", full)
    answer = register(headers={"Accept-Language": "fr"})
    assert answer.status_code == 507
    assert "stockage de cette tablette est plein" in answer.get_data(as_text=True)
    lines = [r for r in caplog.records if "storage full" in r.getMessage()]
    assert len(lines) == 1
    create_staff_and_desks(app)
    page = staff_client(app, "coordinator").get("/staff/admin").text
    assert "data-disk-full" in page
