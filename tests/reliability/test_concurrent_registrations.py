"""Many donors at once against the real server (waitress, SQLite): numbers stay 1, 2, 3 … with no
gap and no duplicate, and a retried submission never makes a second visit."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser

import pytest
import requests

from tests.server import running_server
from tests.support.factories import expected_answers

pytestmark = pytest.mark.slow

THREADS = 8
REGISTRATIONS_PER_THREAD = 25
TIMEOUT = 30  # seconds per HTTP request
TICKET_PATH = re.compile(r"^(?:https?://[^/]+)?/ticket/([A-Za-z0-9_-]+)$")


class _HiddenInputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input" and attributes.get("type") == "hidden" and attributes.get("name"):
            self.values[attributes["name"]] = attributes.get("value") or ""


class _QueueNumber(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.numbers: list[int] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "data-queue-number":
                self.numbers.append(int(value))


def hidden_inputs(html: str) -> dict[str, str]:
    parser = _HiddenInputs()
    parser.feed(html)
    return parser.values


def queue_number(html: str) -> int:
    parser = _QueueNumber()
    parser.feed(html)
    assert len(parser.numbers) == 1, f"expected one data-queue-number, found {parser.numbers}"
    return parser.numbers[0]


def donor(serial: int) -> dict[str, str]:
    """A valid donor, with nothing to report in the questionnaire; `serial` makes the CIN (two
    letters, six digits) unique."""
    return {
        "first_name": "Fatima" if serial % 2 else "فاطمة",
        "last_name": "Zahra" if serial % 2 else "الزهراء",
        "sex": "F" if serial % 3 else "M",
        "birth_date": f"{1965 + serial % 35}-{1 + serial % 12:02d}-{1 + serial % 28:02d}",
        "cin": f"RC{serial:06d}",
        "phone": f"06{serial:08d}",
        "category": ("civil_servant", "police", "auxiliary_forces", "citizen", "other")[serial % 5],
        "consent": "yes",
        **expected_answers(),
    }


def open_form(session: requests.Session, base_url: str) -> dict[str, str]:
    """What the browser holds after opening the registration page: csrf_token and request_id."""
    response = session.get(f"{base_url}/kiosk/register", timeout=TIMEOUT)
    assert response.status_code == 200, response.status_code
    hidden = hidden_inputs(response.text)
    return {"csrf_token": hidden["csrf_token"], "request_id": hidden["request_id"]}


def submit(session: requests.Session, base_url: str, form: dict[str, str]) -> int:
    """Posts the whole registration; follows the 303 to the ticket; returns the queue number."""
    response = session.post(
        f"{base_url}/kiosk/register", data=form, allow_redirects=False, timeout=TIMEOUT
    )
    assert response.status_code == 303, f"{response.status_code}: {response.text[:500]}"
    location = TICKET_PATH.match(response.headers["Location"])
    assert location, f"redirected to {response.headers['Location']!r}, not to a ticket"
    ticket = session.get(f"{base_url}/ticket/{location.group(1)}", timeout=TIMEOUT)
    assert ticket.status_code == 200, ticket.status_code
    return queue_number(ticket.text)


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
