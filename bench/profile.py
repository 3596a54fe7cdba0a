"""Where the time of a request goes: the kiosk flow and call-next under cProfile, on Flask's test
client (in-process, so the profile shows our code, not the socket).

    python -m bench.profile [--flows 200] [--top 30] [--sort cumulative|tottime]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import re
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench.workload import donor_form

PASSWORD = "bench password 1"
_HIDDEN = re.compile(r'name="(csrf_token|request_id)" value="([^"]*)"')
_TICKET = re.compile(r"/ticket/([A-Za-z0-9_-]+)")


def make_app(folder: Path):
    from kiosk import create_app
    from kiosk.db import db
    from kiosk.domain.campaigns import CampaignDetails, open_campaign
    from kiosk.domain.queue import add_desk
    from kiosk.domain.staff import add_staff

    # One test client plays every kiosk: the per-device and per-address registration limits (a
    # guard against one phone flooding the queue) would measure themselves, as in the benchmark.
    app = create_app(
        {
            "INSTANCE": folder,
            "BASE_URL": "http://127.0.0.1:5000",
            "REGISTRATIONS_PER_DEVICE_PER_MINUTE": 0,
            "REGISTRATIONS_PER_ADDRESS_PER_MINUTE": 0,
        }
    )
    now = datetime.now(UTC)
    with app.app_context():
        open_campaign(db.session, CampaignDetails("Bench", "Khénifra", now.date()), now)
        add_staff(db.session, "doctor", PASSWORD, "doctor", now)
        add_desk(db.session, "Médecin 1", "interview")
    return app


def kiosk_flow(client, serial: int) -> None:
    page = client.get("/kiosk/register").get_data(as_text=True)
    hidden = dict(_HIDDEN.findall(page))
    answer = client.post("/kiosk/register", data={**hidden, **donor_form(serial)})
    assert answer.status_code == 303, answer.status_code
    token = _TICKET.search(answer.headers["Location"]).group(1)
    assert client.get(f"/ticket/{token}").status_code == 200


def registrations(client):
    """The registration POST alone, as the benchmark's rate against the floor posts it: the form
    opened once (its CSRF token), then donor after donor, each with its own request id."""
    hidden = dict(_HIDDEN.findall(client.get("/kiosk/register").get_data(as_text=True)))

    def post(serial: int) -> None:
        form = {**hidden, "request_id": uuid.uuid4().hex, **donor_form(serial)}
        answer = client.post("/kiosk/register", data=form)
        assert answer.status_code == 303, answer.status_code

    return post


def staff_client(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = dict(_HIDDEN.findall(page))["csrf_token"]
    client.post("/login", data={"username": "doctor", "password": PASSWORD, "csrf_token": token})
    token = dict(_HIDDEN.findall(client.get("/staff/").get_data(as_text=True)))["csrf_token"]
    client.post("/staff/desk", data={"desk": "Médecin 1", "csrf_token": token})
    return client, token


def call_and_let_go(client, csrf_token: str) -> None:
    """A call, then the desk freed as the journey allows without the ticket: two calls again
    and "absent"."""
    headers = {"HX-Request": "true", "HX-Target": "my-desk"}
    for action in ("call-next", "recall", "recall", "no-show"):
        answer = client.post(
            f"/staff/queue/interview/{action}", data={"csrf_token": csrf_token}, headers=headers
        )
        assert answer.status_code == 200, answer.status_code


def profiled(what, count: int) -> pstats.Stats:
    profile = cProfile.Profile()
    profile.enable()
    for serial in range(count):
        what(serial)
    profile.disable()
    return pstats.Stats(profile, stream=io.StringIO())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--flows", type=int, default=200)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="cumulative", choices=("cumulative", "tottime"))
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nabd-profile-") as folder:
        app = make_app(Path(folder))
        kiosk = app.test_client()
        kiosk_flow(kiosk, 0)  # warm-up: templates compiled, catalogues loaded
        flows = profiled(lambda n: kiosk_flow(kiosk, n + 1), options.flows)
        post = registrations(app.test_client())
        posts = profiled(lambda n: post(options.flows + n + 1), options.flows)
        staff, csrf_token = staff_client(app)
        calls = profiled(lambda _: call_and_let_go(staff, csrf_token), options.flows)
        profiles = (
            ("kiosk flow", flows),
            ("registration POST alone", posts),
            ("call next + absent", calls),
        )
        for title, stats in profiles:
            seconds = stats.total_tt
            print(
                f"\n=== {title}: {options.flows} times, "
                f"{1000 * seconds / options.flows:.2f} ms each under the profiler ==="
            )
            stats.stream = sys.stdout
            stats.sort_stats(options.sort).print_stats(options.top)


if __name__ == "__main__":
    main()
