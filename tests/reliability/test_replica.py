"""The live replica, against the real server (`kiosk run` with KIOSK_REPLICA on a temporary folder
standing for the USB drive):

- the crash drill: 8 tablets register, the server and its Litestream child die by SIGKILL, the
  tablet's folder is deleted, `kiosk replica restore --to FOLDER` rebuilds the venue and `kiosk run
  --instance FOLDER` serves it: every registration acknowledged more than 2 s before the kill is
  there with its ticket and number, numbering carries on without gap or duplicate, integrity ok
  (bench/replica_drill.py runs it 10 times and prints the recovery point);
- a replica that stops (its folder made unwritable) shows on the coordinator's page within 30 s
  while registrations carry on, and the page is back to normal once the folder is writable again;
- `kiosk run` stopped by SIGTERM leaves no Litestream behind, and nor does a SIGKILL.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests

from bench.replica_drill import RECENT, Server, run_drill, wait_for_replica
from tests.reliability.figures import show
from tests.server import CHECKOUT, run_kiosk
from tests.support.kiosk_http import TIMEOUT, donor
from tests.support.staff_http import PASSWORD, StaffDevice, register_donor

pytestmark = pytest.mark.slow

ALERT_WITHIN = 30.0  # seconds, as the issue asks
DRILL_LOAD_SECONDS = 6.0


def test_the_tablet_dies_and_the_laptop_carries_on_from_the_replica(tmp_path, capsys):
    began = time.monotonic()
    drill = run_drill(tmp_path, DRILL_LOAD_SECONDS)
    show(
        capsys,
        f"replica drill: {drill.acknowledged} acknowledged, {drill.recent} in the last "
        f"{RECENT:.0f} s before SIGKILL of which {drill.recent_lost} lost; integrity "
        f"{drill.integrity}; restore {drill.restore_seconds:.1f} s; "
        f"{time.monotonic() - began:.0f} s in all",
    )
    assert drill.acknowledged > drill.recent, "nothing acknowledged early enough to check"
    assert drill.earlier_lost == [], "acknowledged more than 2 s before the kill, and lost"
    assert drill.changed == [], "restored with another number or ticket"
    assert drill.integrity == "ok"
    assert drill.numbers_ok, "a gap or a duplicate in the restored numbering"
    assert drill.next_number_ok, "the next donor did not get the next number"


def _panel(device: StaffDevice) -> tuple[str | None, str]:
    """The replica panel's alert (None when there is none) and its text."""
    page = device.http.get(f"{device.base_url}/staff/replica", timeout=TIMEOUT)
    assert page.status_code == 200, page.status_code
    alert = re.search(r'data-replica-alert="(\w+)"', page.text)
    return (alert.group(1) if alert else None), page.text


def _until(condition, seconds: float) -> float | None:
    """Seconds until `condition()` was true, or None if it never was within `seconds`."""
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        if condition():
            return time.monotonic() - began
        time.sleep(1.0)
    return None


def test_an_unwritable_replica_is_shown_within_30_s_and_resumes(tmp_path, capsys):
    usb = tmp_path / "usb"
    server = Server(tmp_path, tmp_path / "instance", KIOSK_REPLICA=str(usb))
    server.instance.mkdir()
    run_kiosk(
        server.instance, "staff", "add", "coord", "--role", "coordinator", KIOSK_PASSWORD=PASSWORD
    )
    serials = itertools.count(1)
    registered: list[int] = []
    failures: list[str] = []
    stop = threading.Event()

    def kiosk() -> None:  # a donor every half second, all along
        while not stop.is_set():
            try:
                registered.append(register_donor(server.base_url, donor(next(serials)))[1])
            except (AssertionError, requests.RequestException) as error:
                failures.append(str(error)[:200])
            stop.wait(0.5)

    try:
        server.start()
        wait_for_replica(usb)
        coordinator = StaffDevice(server.base_url, "coord")
        coordinator.log_in()
        assert _until(lambda: _panel(coordinator)[0] is None, 30) is not None
        _, text = _panel(coordinator)
        assert "data-replica-ok" in text

        tablet = threading.Thread(target=kiosk)
        tablet.start()
        time.sleep(2)
        # Unwritable: Litestream's level-0 folder on the drive becomes a file (even root cannot
        # write into that); the replica stays readable, so what shows is that it falls behind.
        level0 = usb / "database" / "ltx" / "0"
        level0.rename(usb / "level0.away")
        level0.write_text("")
        broken_at = len(registered)
        shown = _until(lambda: _panel(coordinator)[0] is not None, ALERT_WITHIN + 5)
        alert, text = _panel(coordinator)
        during = len(registered) - broken_at

        level0.unlink()
        (usb / "level0.away").rename(level0)
        resumed = _until(lambda: _panel(coordinator)[0] is None, 60)
        stop.set()
        tablet.join(timeout=60)
        status = run_kiosk(server.instance, "replica", "status", KIOSK_REPLICA=str(usb))
    finally:
        stop.set()
        server.stop()

    show(
        capsys,
        f"replica unwritable: alert {alert!r} shown after {shown or 0:.1f} s; {during} "
        f"registrations stored meanwhile; back to normal {resumed or 0:.1f} s after the drive "
        "was writable again",
    )
    assert shown is not None and shown <= ALERT_WITHIN, f"no alert within {ALERT_WITHIN:.0f} s"
    assert alert == "behind", text
    assert failures == [], failures
    assert during > 0, "no registration while the replica was down"
    assert sorted(registered) == list(range(1, len(registered) + 1))
    assert resumed is not None, "the alert stayed after the drive came back"
    assert status.startswith("replica ok"), status


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"  # a zombie has ended
    except OSError:
        return True


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_no_litestream_is_left_running(tmp_path, how):
    usb = tmp_path / "usb"
    server = Server(tmp_path, tmp_path / "instance", KIOSK_REPLICA=str(usb))
    server.instance.mkdir()
    try:
        server.start()
        wait_for_replica(usb)
        child = json.loads((server.instance / "replica" / "state.json").read_text())["pid"]
        assert child in _children_of(server.process.pid)
        os.kill(server.process.pid, how)
        code = server.process.wait(timeout=30)
        assert _until(lambda: _gone(child), 15) is not None, "litestream outlived the server"
    finally:
        server.stop()
    if how == signal.SIGTERM:
        assert code == 0
        assert not (server.instance / "replica" / "state.json").exists()


def test_kiosk_run_refuses_a_replica_it_cannot_use(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "run", "--instance", str(tmp_path / "instance")],
        cwd=CHECKOUT,
        env={**os.environ, "KIOSK_REPLICA": "s3://bucket/nabd"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "kiosk: KIOSK_REPLICA must be a folder or sftp://user@host:port/path, not s3://"
    )
    assert done.stdout == ""  # refused before anything was opened or said
