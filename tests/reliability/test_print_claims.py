"""Two servers on one PostgreSQL database never print the same job twice (issue 14): a worker
claims a job with a conditional UPDATE before it talks to its printer."""

from __future__ import annotations

import threading
from collections import Counter

from kiosk.db import db
from kiosk.printing.jobs import add_job, print_next
from kiosk.printing.layout import Layout

JOBS = 60


def a_layout(n: int) -> Layout:
    return Layout("test", "fr", "Collecte", "Khénifra", "", "Numéro", n)


def test_two_servers_on_one_database_print_each_job_once(make_app, postgres_url, clock):
    from kiosk.db import write_transaction

    servers = [make_app(SQLALCHEMY_DATABASE_URI=postgres_url) for _ in range(2)]
    with servers[0].app_context():
        with write_transaction(db.session):
            for n in range(JOBS):
                add_job(db.session, a_layout(n), clock())
    printed: Counter = Counter()
    lock = threading.Lock()

    def worker(app):
        with app.app_context():

            def send(data: bytes) -> None:
                with lock:
                    printed[data] += 1

            while print_next(db.session, lambda layout: layout.to_json().encode(), send, clock):
                pass
            db.session.remove()

    threads = [threading.Thread(target=worker, args=(app,)) for app in servers for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for app in servers:
        with app.app_context():
            db.engine.dispose()
    assert len(printed) == JOBS
    assert set(printed.values()) == {1}
