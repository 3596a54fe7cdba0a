"""The real server (`kiosk run`) with a file printer: its worker prints each registration's ticket
by itself, keeps the tickets while the printer is unplugged, and prints them in order, once
each, when it is back."""

from __future__ import annotations

import time

import pytest
import requests

from tests.server import running_server
from tests.support.kiosk_http import donor, open_form, submit

pytestmark = pytest.mark.slow

INIT = b"\x1b@"  # every ticket starts by initialising the printer


def wait_for(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_kiosk_run_prints_tickets_and_catches_up_after_an_outage(tmp_path):
    device = tmp_path / "printer" / "lp0"
    device.parent.mkdir()
    env = {"KIOSK_PRINTER": f"file:{device}", "KIOSK_PRINTER_PROFILE": "58mm"}
    with running_server(tmp_path, **env) as base_url, requests.Session() as session:
        started = time.monotonic()
        assert submit(session, base_url, {**open_form(session, base_url), **donor(1)}) == 1
        assert wait_for(lambda: device.exists() and device.read_bytes().count(INIT) == 1)
        print(f"\nregistration to printed ticket: {time.monotonic() - started:.2f} s")

        device.unlink()
        device.parent.rmdir()  # unplugged
        started = time.monotonic()
        for serial in (2, 3):
            assert submit(session, base_url, {**open_form(session, base_url), **donor(serial)})
        print(f"2 registrations while unplugged took {time.monotonic() - started:.2f} s")
        admin_note = (tmp_path / "stderr.log").read_text
        assert wait_for(lambda: "waits" in admin_note())  # the worker met the missing printer

        device.parent.mkdir()  # plugged in again
        started = time.monotonic()
        assert wait_for(lambda: device.exists() and device.read_bytes().count(INIT) == 2, 60)
        print(f"plugged in to both waiting tickets printed: {time.monotonic() - started:.2f} s")
        time.sleep(1)
        assert device.read_bytes().count(INIT) == 2  # tickets 2 and 3, once each
