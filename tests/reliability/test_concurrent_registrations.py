"""Many donors at once against the real server (waitress, SQLite): numbers stay 1, 2, 3 … with no
gap and no duplicate, and a retried submission never makes a second visit."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.server import running_server
from tests.support.kiosk_http import donor, open_form, submit

pytestmark = pytest.mark.slow

THREADS = 8
REGISTRATIONS_PER_THREAD = 25


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("reliability-server")) as base_url:
        yield base_url


def test_200_concurrent_registrations_get_numbers_1_to_200(server):
    start = threading.Barrier(THREADS)

    def one_tablet(tablet: int) -> tuple[list[int], list[str]]:
        numbers, errors = [], []
        with requests.Session() as session:
            start.wait()
            for turn in range(REGISTRATIONS_PER_THREAD):
                serial = tablet * REGISTRATIONS_PER_THREAD + turn
                try:
                    form = {**open_form(session, server), **donor(serial)}
                    numbers.append(submit(session, server, form))
                except Exception as error:  # collected, so that one failure shows them all
                    errors.append(f"donor {serial}: {type(error).__name__}: {error}")
        return numbers, errors

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(one_tablet, range(THREADS)))

    numbers = [number for tablet_numbers, _ in results for number in tablet_numbers]
    errors = [error for _, tablet_errors in results for error in tablet_errors]
    assert errors == []
    total = THREADS * REGISTRATIONS_PER_THREAD
    assert len(numbers) == total
    assert sorted(numbers) == list(range(1, total + 1))


def test_the_same_submission_posted_twice_gets_the_same_number(server):
    with requests.Session() as session:
        form = {**open_form(session, server), **donor(900_001)}
        first = submit(session, server, form)
        again = submit(session, server, form)
    assert again == first


def test_the_same_submission_posted_at_once_from_two_threads_gets_one_number(server):
    with requests.Session() as session:
        form = {**open_form(session, server), **donor(900_002)}
        cookies = session.cookies.get_dict()
    together = threading.Barrier(2)

    def double_tap(_) -> int:
        with requests.Session() as session:
            session.cookies.update(cookies)  # the same browser, two taps
            together.wait()
            return submit(session, server, form)

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(double_tap, range(2))
    assert first == second

    # And no second visit hides behind it: the next donor gets the very next number.
    with requests.Session() as session:
        following = submit(session, server, {**open_form(session, server), **donor(900_003)})
    assert following == first + 1
