"""Item 6: every state-changing request needs this session's CSRF token; GET changes nothing.

Each POST route is sent a request that would change something: without a token, with another
session's token, and (HTMX) without a token. Each is refused with 400 and the database is the same
row for row. Then, as a control, the same request with the right token does change it.
"""

from __future__ import annotations

import io

from sqlalchemy import select

from kiosk.db import db
from kiosk.models import Visit
from tests.security.conftest import GOOD_DONATION, GOOD_SCREENING, snapshot, staff_client
from tests.security.routes import every_route
from tests.support.factories import VALID_DONOR, fresh_form
from tests.support.staff import PASSWORD, csrf_of
from tests.support.voice import WEBM, zip_of


def _payloads(venue) -> dict[str, tuple[str | None, dict, bool]]:
    """endpoint -> (who sends it, the form, whether the right token makes it change state)."""
    return {
        "kiosk.wizard": (None, {**VALID_DONOR, "step": "identity"}, False),
        "kiosk.submit_registration": (
            None,
            {**VALID_DONOR, "cin": "AA400001", "request_id": "csrf-test-request-0001"},
            True,
        ),
        "auth.login": (None, {"username": "reception", "password": PASSWORD}, True),
        "auth.logout": ("reception", {}, True),
        "staff.pick_desk": ("doctor2", {"desk": "Médecin 2"}, True),
        "staff.desk_action": ("doctor", {}, True),
        "staff.put_back_view": ("doctor", {"visit": "1"}, False),
        "staff.admin_medical": ("coordinator", {"rules": "who2012"}, False),
        "staff.admin_add_desk": ("coordinator", {"name": "Médecin 9", "stage": "interview"}, True),
        "staff.admin_close": ("coordinator", {"confirm": "yes"}, True),
        "records.live_findings": ("doctor", dict(GOOD_SCREENING), False),
        "records.screening": ("doctor", dict(GOOD_SCREENING), True),
        "records.donation": (
            "phlebotomist",
            {**GOOD_DONATION, "bag_number": "G123498654322"},
            True,
        ),
        "records.finish": ("reception", {}, True),
        "records.donation_correction": (
            "coordinator",
            {**GOOD_DONATION, "bag_number": "G123498654399", "volume_ml": "401"},
            True,
        ),
        "exports.download": ("coordinator", {"day": "2026-11-24"}, True),  # its audit event
        "printing.reprint": ("reception", {}, False),  # no printer here: it sends to the page
        "reception.find": ("reception", {"cin": "AB123456"}, False),
        "reception.reissue": ("reception", {"card_checked": "yes"}, True),
        "guard.clear": ("coordinator", {"address": "10.9.9.9"}, True),  # its audit event
        "voice.save_clip": ("coordinator", {"clip": (Replayable(WEBM), "clip.webm")}, True),
        "voice.import_clips": ("coordinator", {"clips": (Replayable(zip_of({})), "v.zip")}, True),
    }


class Replayable(io.BytesIO):
    """An uploaded file sent again by each attempt: the test client closes it after each
    request, which here only rewinds it."""

    def close(self):
        self.seek(0)


TOKEN_OF = {
    "records.donation": "collection",
    "records.finish": "rest",
    "records.donation_correction": "rest",
}
DESKS = {"doctor": "Médecin 1", "phlebotomist": "Fauteuil 1"}


def _post_routes(venue):
    """Each POST route once, with the token of the visit it acts on; the campaign closes last."""
    routes = {}
    for stage in ("interview", "collection", "rest"):
        for route in every_route(venue.app, getattr(venue, stage)):
            wanted = TOKEN_OF.get(route.endpoint, "interview")
            if route.method == "POST" and stage == wanted:
                key = (route.endpoint, route.url.rsplit("/", 1)[-1])
                routes.setdefault(key, route)
    order = ("staff.admin_close", "auth.logout")
    return sorted(routes.values(), key=lambda r: (r.endpoint in order, r.endpoint == order[0]))


def test_no_state_change_without_this_sessions_token(venue, capsys):
    app = venue.app
    payloads = _payloads(venue)
    refused = changed = 0
    problems = []
    other = staff_client(app, "coordinator")
    other_token = csrf_of(other, "/staff/")
    for route in _post_routes(venue):
        assert route.endpoint in payloads, f"add {route.endpoint} to the CSRF payloads"
        who, form, changes = payloads[route.endpoint]
        if route.endpoint == "staff.desk_action" and not route.url.endswith("/recall"):
            changes = False  # recall is the one desk action that always changes the visit here
        client = app.test_client() if who is None else staff_client(app, who, DESKS.get(who))
        own_token = csrf_of(client, "/kiosk/register" if who is None else "/staff/")
        before = snapshot(app, ignore=("login_attempt",))
        attempts = (
            ({}, {}),
            ({"csrf_token": other_token}, {}),
            ({}, {"HX-Request": "true"}),
            ({"csrf_token": "x" * 40}, {"X-CSRFToken": other_token}),
        )
        for extra, headers in attempts:
            response = client.post(route.url, data={**form, **extra}, headers=headers)
            refused += 1
            if response.status_code != 400:
                problems.append(f"{route.url} {extra or headers}: {response.status_code}")
        if snapshot(app, ignore=("login_attempt",)) != before:
            problems.append(f"{route.url}: a refused request changed the database")
        if changes:
            response = client.post(route.url, data={**form, "csrf_token": own_token})
            assert response.status_code < 500
            changed += 1
            if snapshot(app, ignore=("login_attempt",)) == before:
                problems.append(f"{route.url}: control with the right token changed nothing")
    with capsys.disabled():
        print(
            f"\nCSRF: {len(_post_routes(venue))} POST routes, {refused} requests without this "
            f"session's token refused with 400, {changed} controls with it changed the database, "
            f"{len(problems)} problems"
        )
    assert not problems, "\n".join(problems)


def test_get_changes_nothing(venue, capsys):
    app = venue.app
    clients = [app.test_client()] + [
        staff_client(app, who, DESKS.get(who))
        for who in ("reception", "doctor", "phlebotomist", "coordinator")
    ]
    before = snapshot(app)
    requests = 0
    for client in clients:
        for stage in ("waiting", "interview", "collection", "rest"):
            for route in every_route(app, getattr(venue, stage)):
                if route.method != "GET":
                    continue
                for headers in ({}, {"HX-Request": "true"}):
                    response = client.get(route.url, headers=headers)
                    response.close()
                    requests += 1
                    assert response.status_code < 500, route.url
    after = snapshot(app)
    changed = [name for name in before if before[name] != after[name]]
    with capsys.disabled():
        print(f"\nGET: {requests} requests, tables changed: {changed or 'none'}")
    assert before == after
    with app.app_context():
        stages = sorted(db.session.scalars(select(Visit.stage)))
    assert stages == ["collection", "interview", "rest", "waiting_interview"]


def test_the_kiosk_form_carries_a_token(client):
    assert len(fresh_form(client)["csrf_token"]) > 40
