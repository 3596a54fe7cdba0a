"""Staff devices over HTTP, as a phone's browser does: log in, pick a desk, press the console's
buttons, record the screening or the donation; and the accounts and desks a server needs."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

import requests

from kiosk.timezones import venue_zone
from tests.server import run_kiosk_commands
from tests.support.kiosk_http import (
    TICKET_PATH,
    TIMEOUT,
    hidden_inputs,
    open_form,
)
from tests.support.medical_forms import GOOD_SCREENING

PASSWORD = "correct horse battery"


# Collection desks with nobody to call yet look again after this long.
IDLE_PAUSE = 0.02


SCREENING = GOOD_SCREENING  # a healthy adult, eligible


# The server reads the zone from the pinned tzdata package, not the system's (older Debian
# copies put Casablanca an hour ahead): the times typed must be read the same way.
VENUE_ZONE = venue_zone("Africa/Casablanca")


_QUEUE_NUMBER = re.compile(r'data-queue-number="(\d+)"')


def register_donor(base_url: str, fields: dict[str, str]) -> tuple[str, int]:
    """Registers one donor through the kiosk form; returns the ticket's token and queue number."""
    with requests.Session() as session:
        form = {**open_form(session, base_url), **fields}
        response = session.post(
            f"{base_url}/kiosk/register", data=form, allow_redirects=False, timeout=TIMEOUT
        )
        assert response.status_code == 303, f"{response.status_code}: {response.text[:500]}"
        token = TICKET_PATH.match(response.headers["Location"]).group(1)
        ticket = session.get(f"{base_url}/ticket/{token}", timeout=TIMEOUT)
        assert ticket.status_code == 200, ticket.status_code
        numbers = _QUEUE_NUMBER.findall(ticket.text)
        assert len(numbers) == 1, numbers
        return token, int(numbers[0])


def add_staff_and_desks(instance, staff: dict[str, str], desks: dict[str, str]) -> None:
    """`kiosk staff add` (password PASSWORD) for each username → role, and `kiosk desk add` for
    each desk name → stage, all at once."""
    commands = [("staff", "add", name, "--role", role) for name, role in staff.items()]
    commands += [("desk", "add", name, "--stage", stage) for name, stage in desks.items()]
    run_kiosk_commands(instance, commands, KIOSK_PASSWORD=PASSWORD)


@dataclass
class Answer:
    status: int
    number: int | None  # the visit at my desk after the action, if any
    text: str


@dataclass
class StaffDevice:
    """One staff member's phone or laptop: its own cookies, logged in, at its own desk."""

    base_url: str
    username: str
    http: requests.Session = field(default_factory=requests.Session)
    csrf_token: str = ""

    def log_in(self, password: str = PASSWORD) -> None:
        page = self.http.get(f"{self.base_url}/login", timeout=TIMEOUT)
        assert page.status_code == 200, page.status_code
        form = {
            "username": self.username,
            "password": password,
            "csrf_token": hidden_inputs(page.text)["csrf_token"],
        }
        response = self.http.post(
            f"{self.base_url}/login", data=form, allow_redirects=False, timeout=TIMEOUT
        )
        assert response.status_code == 303, f"{self.username}: login {response.status_code}"
        # The login starts a new session: the form token of the login page is gone with it.
        home = self.http.get(f"{self.base_url}/staff", timeout=TIMEOUT)
        assert home.status_code == 200, home.status_code
        self.csrf_token = hidden_inputs(home.text)["csrf_token"]

    def pick_desk(self, desk: str) -> str:
        """Returns where the server sends the staff member: their stage's console."""
        response = self.http.post(
            f"{self.base_url}/staff/desk",
            data={"desk": desk, "csrf_token": self.csrf_token},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        assert response.status_code == 303, f"{self.username}: desk {response.status_code}"
        return response.headers["Location"]

    def _desk_action(self, stage: str, action: str) -> Answer:
        """A button of the console, pressed as HTMX does: the answer is my desk's fragment."""
        response = self.http.post(
            f"{self.base_url}/staff/queue/{stage}/{action}",
            data={"csrf_token": self.csrf_token},
            headers={"HX-Request": "true", "HX-Target": "my-desk"},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        numbers = _QUEUE_NUMBER.findall(response.text)
        assert len(numbers) <= 1, f"more than one visit in my desk's answer: {numbers}"
        return Answer(response.status_code, int(numbers[0]) if numbers else None, response.text)

    def call_next(self, stage: str) -> Answer:
        return self._desk_action(stage, "call-next")

    def record(self, stage: str, token: str, number: int) -> Answer:
        """The record that moves the visit at my desk on: the doctor's eligible screening, or the
        phlebotomist's donation (bag number from the queue number). A plain form post."""
        if stage == "interview":
            path, form = "screening", SCREENING
        else:
            clock = datetime.now(VENUE_ZONE).strftime("%H:%M")
            path, form = "donation", donation_form(number, clock)
        response = self.http.post(
            f"{self.base_url}/staff/visits/{token}/{path}",
            data={**form, "csrf_token": self.csrf_token},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        return Answer(response.status_code, None, response.text)

    def close(self) -> None:
        self.http.close()


def donation_form(number: int, clock: str) -> dict[str, str]:
    return {
        "bag_number": f"LOAD{number:06d}",
        "bag_type": "single",
        "volume_ml": "450",
        "started_at": clock,
        "ended_at": clock,
        "outcome": "complete",
        "adverse_event": "none",
    }


def nobody_waiting(answer: Answer) -> bool:
    """The empty-queue answer: my desk's fragment, no visit, and a message saying so."""
    return answer.status == 200 and answer.number is None and 'class="notice-line"' in answer.text


@dataclass
class DeskLog:
    username: str
    stage: str
    called: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: int = 0


def drain(
    devices: list[tuple[StaffDevice, str]], time_limit: float, tokens: dict[int, str]
) -> list[DeskLog]:
    """Every desk calls and records (screening, donation), all at once, until its line is empty
    for good: a collection desk waits for its line while some interview desk still works.
    `tokens` gives each queue number's ticket token, as the scanned ticket would."""
    interview_desks_left = sum(stage == "interview" for _, stage in devices)
    interview_done = threading.Event()
    lock = threading.Lock()
    start = threading.Barrier(len(devices))
    deadline = time.monotonic() + time_limit

    def one_desk(device: StaffDevice, stage: str) -> DeskLog:
        nonlocal interview_desks_left
        log = DeskLog(device.username, stage)

        def failed(what: str, answer: Answer) -> None:
            log.errors.append(f"{device.username} {what}: HTTP {answer.status} {answer.text[:300]}")

        start.wait()
        try:
            while time.monotonic() < deadline:
                # Read before calling: if the interview was over before this call, an empty
                # collection line is empty for good.
                no_more_arrivals = stage == "interview" or interview_done.is_set()
                called = device.call_next(stage)
                log.requests += 1
                if called.number is None:
                    if not nobody_waiting(called):
                        failed("call-next", called)
                        break
                    if no_more_arrivals:
                        break
                    time.sleep(IDLE_PAUSE)
                    continue
                if called.status != 200:
                    failed("call-next", called)
                    break
                log.called.append(called.number)
                sent = device.record(stage, tokens[called.number], called.number)
                log.requests += 1
                if sent.status != 303:
                    failed(f"record of {called.number}", sent)
                    break
            else:
                log.errors.append(f"{device.username}: still calling after {time_limit} s")
        except Exception as error:  # collected, so that one failure shows them all
            log.errors.append(f"{device.username}: {type(error).__name__}: {error}")
        finally:
            if stage == "interview":
                with lock:
                    interview_desks_left -= 1
                    if interview_desks_left == 0:
                        interview_done.set()
        return log

    with ThreadPoolExecutor(len(devices)) as pool:
        return list(pool.map(lambda pair: one_desk(*pair), devices))
