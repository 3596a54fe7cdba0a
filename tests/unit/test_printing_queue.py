"""The print queue: stored before printed, printed in order, exactly once, and a printer that
fails leaves the job waiting with its error. The worker thread empties the queue by itself."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from kiosk.db import db, write_transaction
from kiosk.models import PrintJob
from kiosk.printing.jobs import PENDING, PRINTED, add_job, print_next, queue_state
from kiosk.printing.layout import Layout
from kiosk.printing.worker import PrintWorker
from tests.support.factories import FROZEN_NOW


def a_layout(number: int) -> Layout:
    return Layout(
        kind="ticket",
        language="fr",
        campaign="Don de sang",
        site="Khénifra",
        moment="24 novembre 2026 · 09:30",
        number_label="Votre numéro",
        number=number,
        first_name="Fatima",
        url=f"http://127.0.0.1:5000/t/{'a' * 31}{number}",
        lines=("Scannez",),
    )


class FlakyPrinter:
    """Refuses the first `failures` jobs sent, like a printer switched on late."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.printed: list[bytes] = []

    def send(self, data: bytes) -> None:
        if self.failures:
            self.failures -= 1
            raise OSError("Device not found (printer off)")
        self.printed.append(data)


def render(layout: Layout) -> bytes:
    return f"ticket {layout.number}\n".encode()


def queue(app, *numbers: int) -> None:
    with app.app_context(), write_transaction(db.session):
        for number in numbers:
            add_job(db.session, a_layout(number), FROZEN_NOW)


def jobs(app) -> list[PrintJob]:
    with app.app_context():
        found = db.session.scalars(select(PrintJob).order_by(PrintJob.id)).all()
        db.session.expunge_all()
        return found


def step(app, printer):
    with app.app_context():
        return print_next(db.session, render, printer.send, lambda: FROZEN_NOW)


def test_an_empty_queue_prints_nothing(app):
    assert step(app, FlakyPrinter()) is None


def test_a_job_prints_once_and_forgets_the_ticket_address(app):
    queue(app, 1)
    printer = FlakyPrinter()
    attempt = step(app, printer)
    assert attempt.printed and printer.printed == [b"ticket 1\n"]
    [job] = jobs(app)
    assert (job.status, job.attempts, job.layout, job.last_error) == (PRINTED, 1, None, None)
    assert job.printed_at == FROZEN_NOW
    assert step(app, printer) is None
    assert printer.printed == [b"ticket 1\n"]


def test_a_printer_failing_twice_keeps_the_job_then_prints_it_exactly_once(app):
    queue(app, 1)
    printer = FlakyPrinter(failures=2)
    for expected_attempts in (1, 2):
        attempt = step(app, printer)
        assert not attempt.printed and "printer off" in attempt.error
        [job] = jobs(app)
        assert (job.status, job.attempts) == (PENDING, expected_attempts)
        assert "printer off" in job.last_error and job.layout
    assert step(app, printer).printed
    assert step(app, printer) is None
    assert printer.printed == [b"ticket 1\n"]
    assert jobs(app)[0].last_error is None


def test_jobs_print_in_order_and_a_failing_one_holds_the_ones_behind(app):
    queue(app, 1, 2, 3)
    printer = FlakyPrinter(failures=1)
    step(app, printer)
    assert [job.status for job in jobs(app)] == [PENDING, PENDING, PENDING]
    while step(app, printer):
        pass
    assert printer.printed == [b"ticket 1\n", b"ticket 2\n", b"ticket 3\n"]


def test_a_layout_that_cannot_be_drawn_waits_like_a_printer_error(app):
    queue(app, 1)

    def broken(layout):
        raise OSError("font missing")

    with app.app_context():
        attempt = print_next(db.session, broken, FlakyPrinter().send, lambda: FROZEN_NOW)
    assert not attempt.printed and jobs(app)[0].status == PENDING


def test_the_queue_state_for_the_coordinator(app):
    queue(app, 1, 2)
    step(app, FlakyPrinter(failures=1))
    with app.app_context():
        state = queue_state(db.session)
        assert (state.pending, state.printed) == (2, 0)
        assert "printer off" in state.oldest_pending.last_error
        assert [job.id for job in state.waiting] == [1, 2]


def test_an_unknown_kind_is_refused(app):
    with app.app_context(), pytest.raises(ValueError):
        add_job(db.session, Layout(**{**a_layout(1).__dict__, "kind": "poster"}), FROZEN_NOW)


def test_the_worker_retries_until_the_printer_is_back_and_prints_each_job_once(app):
    queue(app, 1, 2)
    printer = FlakyPrinter(failures=2)

    class Settings:
        spec = "test"
        send = staticmethod(printer.send)
        render = staticmethod(render)

    worker = PrintWorker(app, Settings(), backoff=(0.05, 0.1))
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while len(printer.printed) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        queue(app, 3)
        worker.notify()  # a new job wakes the worker at once
        while len(printer.printed) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
        worker.join(timeout=5)
    assert printer.printed == [b"ticket 1\n", b"ticket 2\n", b"ticket 3\n"]
    assert [job.status for job in jobs(app)] == [PRINTED] * 3
    assert [job.attempts for job in jobs(app)] == [3, 1, 1]
