"""SQL statements per request on the main routes: a fixed number whatever the length of the
queue, so that no N+1 (one more query per waiting donor) creeps in, and within a budget."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from kiosk.db import db
from tests.support.medical_forms import GOOD_SCREENING
from tests.support.staff import csrf_of, log_in, pick_desk

HTMX = {"HX-Request": "true"}
# The most statements each route may run (BEGIN counts; COMMIT is not a statement here), as
# measured when the test was written. A route going over its budget has grown a query: look why,
# and raise the budget only for a query the route needs.
BUDGETS = {
    "kiosk form": 0,
    # The registration's own 11, then the throttles (issue 14): its place in the registration
    # counters and its CIN's try (two counts and a row each). Since issue 18 they are counted in
    # the registration's own write transaction (one BEGIN, no separate settle, no retry check
    # before it: a stored request is found first inside): 21 → 17.
    "register": 17,
    # The wait estimate (kiosk/domain/wait_estimate.py) reads the line's recent calls and the desks
    # with someone logged in: two statements per line, and the ticket page counts who is ahead.
    "ticket page": 10,  # + the address's recent token misses (429 guard), + its print job
    "status page": 10,  # + the address's recent token misses (429 guard)
    "waiting list": 8,
    "console": 10,
    "call next": 17,
    "screening": 21,  # the record, its rules (the donor's history), the slip's print job
    "display": 10,
    "display board": 10,
}


@contextmanager
def counted_statements(app):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def register_donors(register, serials) -> list[str]:
    """Donors registered at the kiosk; their ticket tokens."""
    return [register(cin=f"QC{n:06d}").headers["Location"].rsplit("/", 1)[1] for n in serials]


class MainRoutes:
    """A kiosk and a doctor at their desk, and the requests they make most."""

    def __init__(self, app, register) -> None:
        self.app, self.register = app, register
        self.kiosk = app.test_client()
        self.doctor = app.test_client()
        assert log_in(self.doctor, "doctor").status_code == 303
        assert pick_desk(self.doctor, "Médecin 1").status_code == 303
        self.desk = {
            "data": {"csrf_token": csrf_of(self.doctor, "/staff/")},
            "headers": {**HTMX, "HX-Target": "my-desk"},
        }

    def requests(self, token: str, new_donor: int, called: str) -> dict:
        kiosk, doctor, desk = self.kiosk, self.doctor, self.desk
        return {
            "kiosk form": lambda: kiosk.get("/kiosk/register"),
            "register": lambda: self.register(cin=f"QC{new_donor:06d}"),
            "ticket page": lambda: kiosk.get(f"/ticket/{token}"),
            "status page": lambda: kiosk.get(f"/t/{token}", headers=HTMX),
            "waiting list": lambda: doctor.get("/staff/queue/interview/waiting", headers=HTMX),
            "console": lambda: doctor.get("/staff/queue/interview"),
            "call next": lambda: doctor.post("/staff/queue/interview/call-next", **desk),
            "screening": lambda: doctor.post(
                f"/staff/visits/{called}/screening", data={**desk["data"], **GOOD_SCREENING}
            ),
            "display": lambda: kiosk.get("/display"),
            "display board": lambda: kiosk.get("/display/board", headers=HTMX),
        }

    def counts(self, token: str, new_donor: int, called: str) -> dict[str, int]:
        counts = {}
        for name, request in self.requests(token, new_donor, called).items():
            with counted_statements(self.app) as statements:
                answer = request()
            assert answer.status_code in (200, 303), (name, answer.status_code)
            counts[name] = len(statements)
        return counts


def test_statements_per_request_do_not_grow_with_the_queue_and_stay_in_budget(staffed, register):
    tokens = register_donors(register, range(4))
    routes = MainRoutes(staffed, register)
    # 4 waiting, then the first called and screened
    short = routes.counts(tokens[-1], new_donor=100, called=tokens[0])
    tokens += register_donors(register, range(4, 16))
    # four times as many waiting; the second called and screened
    longer = routes.counts(tokens[-1], new_donor=101, called=tokens[1])
    assert longer == short, "a route runs more statements when more donors wait: an N+1"
    over = {name: (count, BUDGETS[name]) for name, count in short.items() if count > BUDGETS[name]}
    assert over == {}, f"statements (count, budget): {over}"
