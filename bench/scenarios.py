"""The HTTP scenarios, driven over loopback from client threads: the kiosk flow, call next, the
registration rate against the floor, a venue hour compressed, and the pages' bytes.

Each phase runs a list of workers in threads that start together, records every request's
latency at the client, and ends by count or by deadline, never open-ended.
"""

from __future__ import annotations

import itertools
import random
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from bench.http import Device, Recorder, RequestFailed, hidden_inputs
from bench.staffing import PASSWORD, doctor, phlebotomist
from bench.workload import donation_form, donor_form, screening_form

HTMX = {"HX-Request": "true"}
DESK = {"HX-Request": "true", "HX-Target": "my-desk"}
_TICKET = re.compile(r"/ticket/([A-Za-z0-9_-]+)")
_NUMBER = re.compile(r'data-queue-number="(\d+)"')
# The pollers' intervals, as the pages' hx-trigger set them (kiosk/config.py, _status.html).
DISPLAY_POLL = 1.0
CONSOLE_POLL = 2.0
PHONE_POLL = 15.0
IDLE_PAUSE = 0.2  # a desk with nobody to call looks again after this
# A donor registering on their own phone takes a minute or more over the wizard; in the hour
# compressed each of the tablet mode's phones sends a whole flow every this many seconds.
REGISTERING_PAUSE = 5.0


@dataclass
class Phase:
    scenario: str
    name: str
    recorder: Recorder
    seconds: float


@dataclass
class Venue:
    """The running server and what the benchmark knows of it."""

    url: str
    zone: ZoneInfo
    stop: threading.Event = field(default_factory=threading.Event)
    tokens: dict[int, str] = field(default_factory=dict)  # queue number → ticket token
    serials: itertools.count = field(default_factory=lambda: itertools.count(1))
    bags: itertools.count = field(default_factory=lambda: itertools.count(1))

    def device(self, recorder: Recorder | None = None) -> Device:
        return Device(self.url, recorder)


def run_phase(scenario: str, name: str, workers: list[Callable[[Recorder], None]]) -> Phase:
    """Runs the workers in threads started together; a worker's unexpected exception is an
    error of the phase, never a hang."""
    recorder = Recorder()
    start = threading.Barrier(len(workers) + 1)

    def run(worker):
        start.wait()
        try:
            worker(recorder)
        except Exception as error:  # a bug or a lost server: counted, and the phase goes on
            recorder.add(f"{name}: worker", 0.0, False, f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=run, args=(worker,), daemon=True) for worker in workers]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return Phase(scenario, name, recorder, time.perf_counter() - began)


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if n < total % parts else 0) for n in range(parts)]


# --- the kiosk --------------------------------------------------------------------------------


def kiosk_flow(venue: Venue, device: Device, prefix: str) -> None:
    """A donor at the tablet: the form (its CSRF token), the registration, the ticket with its
    QR. Records each request and the whole flow."""
    began = time.perf_counter()
    try:
        form = device.request("GET", "/kiosk/register", f"{prefix}GET form")
        fields = {**hidden_inputs(form.text), **donor_form(next(venue.serials))}
        posted = device.request(
            "POST", "/kiosk/register", f"{prefix}POST registration", form=fields, expect=(303,)
        )
        token = _TICKET.search(posted.headers.get("Location", "")).group(1)
        ticket = device.request("GET", f"/ticket/{token}", f"{prefix}GET ticket")
    except RequestFailed:
        return
    device.recorder.add(f"{prefix}whole flow", time.perf_counter() - began, True)
    venue.tokens[int(_NUMBER.search(ticket.text).group(1))] = token


def kiosk_flows(venue: Venue, flows: int, clients: int) -> Phase:
    def tablet(count: int):
        def work(recorder: Recorder) -> None:
            device = venue.device(recorder)
            for _ in range(count):
                if venue.stop.is_set():
                    break
                kiosk_flow(venue, device, "")
            device.close()

        return work

    name = "sequential" if clients == 1 else f"{clients} clients"
    return run_phase("1 kiosk flow", name, [tablet(n) for n in split(flows, clients)])


# --- staff ----------------------------------------------------------------------------------


class StaffDevice:
    """A staff member's phone: logged in, at their desk, with the form token of their session."""

    def __init__(self, venue: Venue, username: str, desk: str, stage: str) -> None:
        self.venue, self.stage = venue, stage
        self.device = venue.device()
        login = self.device.request("GET", "/login")
        form = {"username": username, "password": PASSWORD, **hidden_inputs(login.text)}
        self.device.request("POST", "/login", form=form, expect=(303,))
        self.csrf = hidden_inputs(self.device.request("GET", "/staff/").text)["csrf_token"]
        chosen = {"desk": desk, "csrf_token": self.csrf}
        self.device.request("POST", "/staff/desk", form=chosen, expect=(303,))

    def desk_button(self, action: str, label: str | None) -> int | None:
        """Presses a button of the console as HTMX does; the number now at my desk, if any."""
        answer = self.device.request(
            "POST",
            f"/staff/queue/{self.stage}/{action}",
            label,
            form={"csrf_token": self.csrf},
            headers=DESK,
        )
        found = _NUMBER.search(answer.text)
        return int(found.group(1)) if found else None

    def post(self, path: str, label: str | None, form: dict[str, str]) -> None:
        self.device.request("POST", path, label, form=form, expect=(303,))

    def let_go(self, number: int, prefix: str | None = None) -> None:
        """Frees my desk of the donor just called, the way the journey allows: the doctor's
        screening when the ticket's token is known, otherwise two calls again and "absent" (a
        donor registered without a ticket page cannot be opened). `prefix` names the figures;
        None records none."""
        token = self.venue.tokens.get(number)
        if token is None:
            for action in ("recall", "recall", "no-show"):
                self.desk_button(action, prefix and f"{prefix}{action}")
            return
        path = f"/staff/visits/{token}"
        self.device.request("GET", path, prefix and f"{prefix}open record")
        self.post(
            f"{path}/screening", prefix and f"{prefix}POST screening", screening_form(self.csrf)
        )

    def console_cookies(self) -> dict[str, str]:
        return dict(self.device.cookies)


def log_in_staff(venue: Venue, doctors: int, phlebotomists: int) -> list[StaffDevice]:
    people = [(*doctor(n), "interview") for n in range(1, doctors + 1)]
    people += [(*phlebotomist(n), "collection") for n in range(1, phlebotomists + 1)]
    return [StaffDevice(venue, *person) for person in people]


def calls(venue: Venue, doctors: list[StaffDevice], count: int) -> Phase:
    """Each doctor calls the next waiting donor and screens them, `count` calls in all; only
    the call is the figure."""

    def desk(staff: StaffDevice, calls: int):
        def work(recorder: Recorder) -> None:
            staff.device.recorder = recorder
            for _ in range(calls):
                if venue.stop.is_set():
                    break
                try:
                    number = staff.desk_button("call-next", "call next")
                    if number is None:
                        recorder.add("call next", 0.0, False, "nobody waiting")
                        break
                    staff.let_go(number)
                except RequestFailed:
                    continue

        return work

    name = "sequential" if len(doctors) == 1 else f"{len(doctors)} clients"
    workers = [desk(staff, n) for staff, n in zip(doctors, split(count, len(doctors)), strict=True)]
    return run_phase("2 call next", name, workers)


# --- registrations per second, against the floor ---------------------------------------------


def nabd_registrations(venue: Venue, count: int, clients: int) -> Phase:
    """Registration POSTs alone: each tablet opened the form once (CSRF token in its session),
    then posts donor after donor, each with its own idempotency key."""

    def tablet(posts: int):
        def work(recorder: Recorder) -> None:
            device = venue.device()
            hidden = hidden_inputs(device.request("GET", "/kiosk/register").text)
            device.recorder = recorder
            for _ in range(posts):
                if venue.stop.is_set():
                    break
                form = {**hidden, "request_id": uuid.uuid4().hex, **donor_form(next(venue.serials))}
                try:
                    device.request("POST", "/kiosk/register", "Nabd", form=form, expect=(303,))
                except RequestFailed:
                    continue
            device.close()

        return work

    name = "Nabd, sequential" if clients == 1 else f"Nabd, {clients} clients"
    return run_phase("4 registrations", name, [tablet(n) for n in split(count, clients)])


def floor_registrations(url: str, stop: threading.Event, count: int, clients: int) -> Phase:
    serials = itertools.count(1)

    def tablet(posts: int):
        def work(recorder: Recorder) -> None:
            device = Device(url, recorder)
            for _ in range(posts):
                if stop.is_set():
                    break
                form = donor_form(next(serials))
                try:
                    device.request("POST", "/register", "floor", form=form, expect=(303,))
                except RequestFailed:
                    continue
            device.close()

        return work

    name = "floor, sequential" if clients == 1 else f"floor, {clients} clients"
    return run_phase("4 registrations", name, [tablet(n) for n in split(count, clients)])


# --- a venue hour, compressed ----------------------------------------------------------------


def venue_hour(
    venue: Venue,
    doctors: list[StaffDevice],
    phlebotomists: list[StaffDevice],
    seconds: float,
    kiosks: int = 2,
    displays: int = 2,
    phones: int = 20,
    registering: int = 0,
    scenario: str = "3 venue hour",
) -> Phase:
    """Kiosks register and staff work back to back (the hour compressed); the displays, the
    consoles' lists and `phones` donors' /t/ pages poll at their pages' own pace; `registering`
    donors register on their own phones, each one flow every REGISTERING_PAUSE seconds."""
    deadline = time.monotonic() + seconds
    going = lambda: time.monotonic() < deadline and not venue.stop.is_set()  # noqa: E731
    phone_tokens = list(venue.tokens.values())[-phones:]

    def kiosk(recorder: Recorder) -> None:
        device = venue.device(recorder)
        while going():
            kiosk_flow(venue, device, "kiosk: ")
        device.close()

    def phone_registering(recorder: Recorder) -> None:
        device = venue.device(recorder)
        time.sleep(random.uniform(0, min(REGISTERING_PAUSE, seconds / 2)))  # not all in step
        while going():
            tick = time.monotonic()
            kiosk_flow(venue, device, "phone registering: ")
            pause = REGISTERING_PAUSE - (time.monotonic() - tick)
            time.sleep(max(0.0, min(pause, deadline - time.monotonic())))
        device.close()

    def doctor_at_work(staff: StaffDevice):
        def work(recorder: Recorder) -> None:
            staff.device.recorder = recorder
            while going():
                try:
                    number = staff.desk_button("call-next", "doctor: call next")
                    if number is None:
                        time.sleep(IDLE_PAUSE)
                        continue
                    staff.let_go(number, "doctor: ")
                except RequestFailed:
                    continue

        return work

    def phlebotomist_at_work(staff: StaffDevice):
        def work(recorder: Recorder) -> None:
            staff.device.recorder = recorder
            while going():
                try:
                    number = staff.desk_button("call-next", "phlebotomist: call next")
                    if number is None:
                        time.sleep(IDLE_PAUSE)
                        continue
                    # Every donor here was screened, so the doctor knew their token.
                    path = f"/staff/visits/{venue.tokens[number]}"
                    staff.device.request("GET", path, "phlebotomist: open record")
                    form = donation_form(staff.csrf, f"BENCH{next(venue.bags):08d}", *_times(venue))
                    staff.post(f"{path}/donation", "phlebotomist: POST donation", form)
                    finish = {"csrf_token": staff.csrf}
                    staff.post(f"{path}/finish", "phlebotomist: POST rest done", finish)
                except RequestFailed:
                    continue

        return work

    def poller(label: str, path: str, interval: float, cookies=None, first_full: str = ""):
        def work(recorder: Recorder) -> None:
            device = venue.device(recorder)
            device.cookies.update(cookies or {})
            time.sleep(random.uniform(0, min(interval, seconds / 2)))  # not all in step
            etag = None
            if first_full and going():
                try:
                    device.request("GET", first_full, f"{label} (page)")
                except RequestFailed:
                    pass
            while going():
                tick = time.monotonic()
                headers = {**HTMX, **({"If-None-Match": etag} if etag else {})}
                try:
                    answer = device.request("GET", path, label, headers=headers, expect=(200, 304))
                    etag = answer.headers.get("ETag", etag)
                except RequestFailed:
                    pass
                time.sleep(
                    max(0.0, min(interval - (time.monotonic() - tick), deadline - time.monotonic()))
                )
            device.close()

        return work

    workers = [kiosk] * kiosks
    workers += [phone_registering] * registering
    workers += [doctor_at_work(staff) for staff in doctors]
    workers += [phlebotomist_at_work(staff) for staff in phlebotomists]
    workers += [poller("display: board", "/display/board", DISPLAY_POLL) for _ in range(displays)]
    for staff in doctors + phlebotomists:
        path = f"/staff/queue/{staff.stage}/waiting"
        workers.append(poller("console: waiting list", path, CONSOLE_POLL, staff.console_cookies()))
    for token in phone_tokens:
        workers.append(poller("phone: status", f"/t/{token}", PHONE_POLL, first_full=f"/t/{token}"))
    return run_phase(scenario, f"{seconds:g} s", workers)


def _times(venue: Venue) -> tuple[str, str]:
    """Start and end of a donation just finished, HH:MM at the venue, on today's date."""
    now = datetime.now(venue.zone)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    started = max(midnight, now - timedelta(minutes=12))
    return f"{started:%H:%M}", f"{max(started, now - timedelta(minutes=2)):%H:%M}"


# --- footprint: the pages' bytes ------------------------------------------------------------


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "link" and attributes.get("rel") == "stylesheet":
            self.urls.append(attributes["href"])
        elif tag in ("script", "img") and attributes.get("src", "").startswith("/"):
            self.urls.append(attributes["src"])


def page_bytes(device: Device, path: str) -> dict[str, int]:
    """The page's HTML and, by kind, the assets it loads (fetched once each)."""
    html = device.request("GET", path).text.encode()
    parser = _Assets()
    parser.feed(html.decode())
    sizes = {"html": len(html), "css": 0, "js": 0, "other": 0}
    for url in parser.urls:
        size = len(device.request("GET", url).text.encode())
        kind = "css" if url.endswith(".css") else "js" if url.endswith(".js") else "other"
        sizes[kind] += size
    sizes["total"] = sum(sizes.values())
    return sizes


def pages(venue: Venue, doctor_device: StaffDevice) -> dict[str, dict[str, int]]:
    token = next(iter(venue.tokens.values()))
    public = venue.device()
    staff = doctor_device.device
    return {
        "kiosk start /kiosk": page_bytes(public, "/kiosk"),
        "kiosk form /kiosk/register": page_bytes(public, "/kiosk/register"),
        "ticket /ticket/<token>": page_bytes(public, f"/ticket/{token}"),
        "donor's phone /t/<token>": page_bytes(public, f"/t/{token}"),
        "staff console /staff/queue/interview": page_bytes(staff, "/staff/queue/interview"),
        "display /display": page_bytes(public, "/display"),
    }


def add_staff(environment: dict[str, str], doctors: int, phlebotomists: int) -> None:
    """Accounts and desks in the server's instance folder (its environment names it)."""
    subprocess.run(
        [sys.executable, "-m", "bench.staffing", str(doctors), str(phlebotomists)],
        env=environment,
        check=True,
        capture_output=True,
        timeout=120,
    )


# --- the polled pages with a long queue --------------------------------------------------------


def long_queue_polls(
    venue: Venue, staff: StaffDevice, token: str, polls: int, waiting: int
) -> Phase:
    """The waiting list, the display's board and a donor's /t/ page (the last in line: the most
    people ahead), each polled `polls` times one after the other: every poll rendered (no
    ETag: the worst case, a change between two polls), then with the ETag of the last answer
    (nothing changed: 304)."""

    def work(recorder: Recorder) -> None:
        public = venue.device(recorder)
        staff.device.recorder = recorder
        pages = (
            ("waiting list", staff.device, f"/staff/queue/{staff.stage}/waiting"),
            ("display board", public, "/display/board"),
            ("/t/ status", public, f"/t/{token}"),
        )
        for label, device, path in pages:
            etag = None
            for _ in range(polls):
                answer = device.request("GET", path, f"{label}, rendered", headers=HTMX)
                etag = answer.headers.get("ETag")
            for _ in range(polls):
                headers = {**HTMX, **({"If-None-Match": etag} if etag else {})}
                # 200 if the minute turned (the lists' ETags change every minute for the times)
                expect = (200, 304)
                device.request("GET", path, f"{label}, unchanged", headers=headers, expect=expect)
        public.close()

    return run_phase("6 long queue", f"{waiting} waiting", [work])


_WAITING = re.compile(r'data-stage="interview" data-waiting="(\d+)"')


def waiting_for_interview(venue: Venue) -> int:
    """How many wait for the doctor, as the display's board says."""
    device = venue.device()
    board = device.request("GET", "/display/board", headers=HTMX).text
    device.close()
    found = _WAITING.search(board)
    return int(found.group(1)) if found else 0
