"""Item 9: the ticket's QR page. Guessing gets nothing, guessing fast gets 429, a closed
campaign's tickets stop showing after a while, and the page never names or describes the donor."""

from __future__ import annotations

import random
import re
import secrets
import string
import time
from datetime import timedelta
from urllib.parse import quote

from kiosk.db import db
from kiosk.domain.campaigns import close_campaign, current_campaign
from kiosk.domain.questionnaire import load_questions
from kiosk.domain.queue import Actor
from tests.security.conftest import GOOD_DONATION, GOOD_SCREENING, register_donor, staff_client
from tests.support.factories import VALID_DONOR
from tests.support.staff import post

GUESSES = 10_000
HTMX = {"HX-Request": "true"}


def _guess(rng: random.Random) -> str:
    """Mostly tokens of the right shape, some of every other shape."""
    if rng.random() < 0.7:
        return secrets.token_urlsafe(24)
    alphabet = string.ascii_letters + string.digits + "-_.~%é؟ⵣ'\"<>;\\ \x7f"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 80)))


def test_ten_thousand_guessed_tokens_all_get_the_same_404(make_app, capsys):
    app = make_app(TICKET_MISSES_PER_MINUTE=0)  # the limit has its own test
    client = app.test_client()
    rng = random.Random(7)
    bodies = set()
    statuses = set()
    started = time.perf_counter()
    for n in range(GUESSES):
        prefix = "/t/" if n % 2 else "/ticket/"
        response = client.get(prefix + quote(_guess(rng), safe=""))
        statuses.add(response.status_code)
        bodies.add(response.data)
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(
            f"\nQR guesses: {GUESSES} random tokens, statuses {sorted(statuses)}, "
            f"{len(bodies)} distinct page(s), {GUESSES / elapsed:.0f} guesses/s"
        )
    assert statuses == {404}
    assert len(bodies) == 1


def test_more_than_30_misses_a_minute_from_one_address_get_429(venue, clock, capsys):
    app = venue.app
    guesser = app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "192.168.1.66"
    neighbour = app.test_client()
    neighbour.environ_base["REMOTE_ADDR"] = "192.168.1.67"
    misses = [guesser.get(f"/t/{secrets.token_urlsafe(24)}").status_code for _ in range(30)]
    assert set(misses) == {404}
    refused = guesser.get(f"/t/{secrets.token_urlsafe(24)}")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    assert guesser.get(f"/t/{venue.waiting}").status_code == 429  # not even a real one
    assert neighbour.get(f"/t/{secrets.token_urlsafe(24)}").status_code == 404
    assert neighbour.get(f"/t/{venue.waiting}").status_code == 200
    # Ticket misses are not failed logins: the guesser's address may still log in.
    staff_client(app, "reception", address="192.168.1.66")
    clock.now += timedelta(seconds=61)
    assert guesser.get(f"/t/{secrets.token_urlsafe(24)}").status_code == 404
    with capsys.disabled():
        print("\nQR misses: 30 a minute from one address answered 404, the 31st 429")


def test_the_limit_is_a_setting(make_app):
    app = make_app(TICKET_MISSES_PER_MINUTE=3)
    client = app.test_client()
    codes = [client.get(f"/t/{secrets.token_urlsafe(24)}").status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]


def test_a_closed_campaigns_tickets_stop_showing_after_the_set_days(venue, clock):
    app = venue.app
    unknown = app.test_client().get(f"/t/{secrets.token_urlsafe(24)}")
    with app.app_context():
        close_campaign(db.session, Actor("coordinator", "server"), clock())
    days = app.config["STATUS_PAGE_DAYS_AFTER_CLOSE"]
    assert days == 30
    clock.now += timedelta(days=days) - timedelta(minutes=1)
    assert app.test_client().get(f"/t/{venue.rest}").status_code == 200
    clock.now += timedelta(minutes=1)
    gone = app.test_client().get(f"/t/{venue.rest}")
    assert gone.status_code == 404
    assert gone.data == unknown.data  # the same page as a token that never existed
    assert app.test_client().get(f"/ticket/{venue.rest}").status_code == 404


def test_the_kiosk_ticket_screen_gives_way_to_the_public_page(venue, clock):
    client = venue.app.test_client()
    assert client.get(f"/ticket/{venue.waiting}").status_code == 200
    clock.now += timedelta(minutes=venue.app.config["TICKET_SCREEN_MINUTES"], seconds=1)
    later = client.get(f"/ticket/{venue.waiting}")
    assert later.status_code == 302
    assert later.headers["Location"] == f"/t/{venue.waiting}"


def _private_values() -> list[str]:
    donor = {**VALID_DONOR, "cin": "AA200001"}
    values = [donor["first_name"], donor["last_name"], donor["cin"], "AA200001".lower()]
    values += ["06 12 34 56 78", "0612345678", "+212612345678", "612345678", "1990"]
    values += [GOOD_SCREENING[name] for name in ("weight_kg", "systolic", "diastolic", "pulse")]
    values += [GOOD_SCREENING["hemoglobin_g_dl"], "14,3", "77,7"]
    values += [GOOD_DONATION["bag_number"], GOOD_DONATION["volume_ml"]]
    values += [q.text_fr for q in load_questions()] + [q.text_ar for q in load_questions()]
    return values


def _leaks(text: str, private: list[str]) -> list[str]:
    return [v for v in private if re.search(rf"(?<![\w.,]){re.escape(v)}(?![\w.,])", text)]


def test_the_public_page_never_shows_who_or_what_was_measured(venue, capsys):
    """Real pages at every stage of the journey, whole and as the polled fragment, in both
    languages, for the donor with the name, CIN, phone, answers and measurements looked for."""
    app = venue.app
    # The first donor of the venue (AA200001) went all the way: screened, donated, resting.
    doctor_done = staff_client(app, "reception")
    tokens = {"rest": venue.rest, "collection": venue.collection, "interview": venue.interview}
    tokens["waiting"] = venue.waiting
    other = register_donor(app, "AA500001", first_name="Khadija", last_name="Alaoui")
    tokens["other waiting"] = other
    pages = 0
    found = []
    private = _private_values() + ["Khadija", "Alaoui", "AA500001"]
    for stage, token in tokens.items():
        for language in ("fr", "ar"):
            for headers in ({}, HTMX):
                client = app.test_client()
                response = client.get(f"/t/{token}?lang={language}", headers=headers)
                assert response.status_code == 200
                pages += 1
                text = response.get_data(as_text=True).replace(token, "")
                found += [f"{stage}/{language}: {value}" for value in _leaks(text, private)]
    assert post(doctor_done, f"/staff/visits/{venue.rest}/finish").status_code == 303
    done = app.test_client().get(f"/t/{venue.rest}").get_data(as_text=True)
    found += [f"done: {value}" for value in _leaks(done.replace(venue.rest, ""), private)]
    # Control: the staff record of the same donor holds them, and the search finds them there.
    record = doctor_done.get(f"/staff/visits/{venue.rest}").get_data(as_text=True)
    assert {"Fatima", "Zahra", "AA200001", "131", "83", "67"} <= set(_leaks(record, private))
    with app.app_context():
        assert current_campaign(db.session) is not None
    with capsys.disabled():
        print(
            f"\npublic page: {pages + 1} real pages checked for {len(private)} private values, "
            f"{len(found)} found"
        )
    assert not found, found
