"""Item 5: walk every route of the URL map as a stranger and as each role.

A stranger is sent to the login page (HTMX: an HX-Redirect header), a role without the route's
right gets 403, and no route ever answers 500. Every response also carries the protective headers
(item 8), checked here on the same walk.
"""

from __future__ import annotations

from collections import Counter

from kiosk.domain.staff import may
from tests.security.conftest import ROLES, staff_client
from tests.security.routes import PUBLIC_ENDPOINTS, every_route
from tests.support.headers import header_problems
from tests.support.staff import csrf_of

HTMX = {"HX-Request": "true"}


def _open(client, route, token: str, headers=None):
    data = {"csrf_token": token} if route.method == "POST" else None
    return client.open(route.url, method=route.method, data=data, headers=headers or {})


def _logout_last(routes):
    return sorted(routes, key=lambda route: route.endpoint == "auth.logout")


def test_every_route_is_either_public_by_name_or_guarded(app):
    routes = list(every_route(app, "A" * 32))
    unguarded = {r.endpoint for r in routes if r.right is None} - PUBLIC_ENDPOINTS
    assert not unguarded, f"routes without staff_required and not known as public: {unguarded}"
    staff_urls = {r.url for r in routes if r.url.startswith("/staff")}
    guarded_urls = {r.url for r in routes if r.right is not None}
    assert staff_urls <= guarded_urls


def test_the_route_walk(venue, capsys):
    app = venue.app
    routes = _logout_last(every_route(app, venue.interview))
    statuses: Counter = Counter()
    problems: list[str] = []

    def note(who, route, response):
        statuses[response.status_code] += 1
        if response.status_code >= 500:
            problems.append(f"{who} {route.method} {route.url}: {response.status_code}")
        problems.extend(f"{who} {p}" for p in header_problems(route, response))
        response.close()  # static files are streamed from an open file

    for route in routes:
        if route.right is None:
            continue
        stranger = app.test_client()
        token = csrf_of(stranger)
        response = _open(stranger, route, token)
        note("stranger", route, response)
        if response.status_code != 302 or "/login?next=" not in response.headers["Location"]:
            problems.append(f"stranger {route.method} {route.url}: {response.status_code}")
        response = _open(stranger, route, token, HTMX)
        note("stranger (htmx)", route, response)
        if not response.headers.get("HX-Redirect", "").startswith("/login?next="):
            problems.append(f"stranger (htmx) {route.method} {route.url}: no HX-Redirect")

    for role in ROLES:
        client = staff_client(app, role)
        token = csrf_of(client, "/staff/")
        for route in routes:
            response = _open(client, route, token)
            note(role, route, response)
            allowed = route.right is None or may(role, route.right)
            if not allowed and response.status_code != 403:
                problems.append(f"{role} {route.method} {route.url}: {response.status_code}")
            if allowed and response.status_code in (401, 403) and route.right == "staff":
                problems.append(f"{role} {route.method} {route.url}: refused")

    guarded = sum(1 for route in routes if route.right is not None)
    requests = sum(statuses.values())
    with capsys.disabled():
        print(
            f"\nroute walk: {len(routes)} routes ({guarded} staff) × stranger, HTMX stranger and "
            f"{len(ROLES)} roles = {requests} requests, {statuses[500]} answered 500, "
            f"{len(problems)} problems; statuses {dict(sorted(statuses.items()))}"
        )
    assert not problems, "\n".join(problems[:30])
