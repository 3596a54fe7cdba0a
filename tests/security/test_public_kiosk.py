"""The public kiosk reveals no one (issue 14): a CIN registered today gets no ticket, the CIN and
birth date pair is no oracle, registrations are limited, reception gives the ticket again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kiosk.db import db
from kiosk.models import Event, LoginAttempt, Screening, Ticket, Visit
from tests.security.conftest import staff_client
from tests.support.factories import VALID_DONOR, fresh_form
from tests.support.staff import create_staff_and_desks, post

ATTACKER = "10.0.0.66"


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def donor_client(app, address: str = "127.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def post_registration(client, **fields):
    data = {**fresh_form(client), **VALID_DONOR, **fields}
    return client.post("/kiosk/register", data=data, headers={"Accept-Language": "fr"})


def lookup(client, **fields):
    data = {**fresh_form(client), "step": "identity", "go": "lookup"}
    data.update({"cin": VALID_DONOR["cin"], "birth_date": VALID_DONOR["birth_date"], **fields})
    return client.post("/kiosk/wizard", data=data, headers={"Accept-Language": "fr"})


@pytest.fixture
def limited_app(make_app):
    """The venue's real limits, not the tests' none."""
    from tests.support.factories import CAMPAIGN_DAY

    app = make_app(REGISTRATIONS_PER_DEVICE_PER_MINUTE=4, REGISTRATIONS_PER_ADDRESS_PER_MINUTE=8)
    with app.app_context():
        from kiosk.domain.campaigns import CampaignDetails, open_campaign

        details = CampaignDetails("Don de sang", "Khénifra", CAMPAIGN_DAY, "CRTS Meknès")
        open_campaign(db.session, details, app.config["CLOCK"]())
    yield app
    with app.app_context():
        db.engine.dispose()


def test_the_birth_date_oracle_is_closed(limited_app, clock):
    """The attack of issue 14: the victim's CIN with 20 wrong birth dates, from a stranger's
    phone at a pace the limits allow. 20 identical answers, no new visit, no ticket, the victim's
    public page unchanged; the right birth date gets the same answer again."""
    victim = donor_client(limited_app)
    location = post_registration(victim).headers["Location"]
    public = location.replace("/ticket/", "/t/")
    before = victim.get(public).get_data()
    tickets = count(limited_app, Ticket)

    attacker = donor_client(limited_app, ATTACKER)
    answers = []
    for year in range(1970, 1990):
        clock.now += timedelta(seconds=16)
        answers.append(post_registration(attacker, first_name="X", birth_date=f"{year}-05-17"))
    clock.now += timedelta(seconds=16)
    answers.append(post_registration(attacker, first_name="X"))  # the right one

    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.get_data() for answer in answers}) == 1
    page = answers[0].get_data(as_text=True)
    assert "data-already-registered" in page and "déjà inscrit" in page
    assert "Fatima" not in page and "data-queue-number" not in page and "/t/" not in page
    assert count(limited_app, Visit) == 1
    assert count(limited_app, Ticket) == tickets
    assert victim.get(public).get_data() == before


def test_find_my_details_answers_a_registered_cin_alike_whatever_the_birth_date(app):
    post_registration(donor_client(app))
    stranger = donor_client(app, ATTACKER)
    right = lookup(stranger)
    wrong = lookup(stranger, birth_date="1988-01-01")
    assert right.status_code == wrong.status_code == 200
    assert right.get_data() == wrong.get_data()
    assert "Zahra" not in right.get_data(as_text=True)


def test_the_cin_counters_are_shared_by_lookup_and_registration(app):
    post_registration(donor_client(app))
    stranger = donor_client(app, ATTACKER)
    for n in range(5):
        lookup(stranger, birth_date=f"198{n}-01-01")
    for n in range(5):
        assert post_registration(stranger, birth_date=f"197{n}-01-01").status_code == 200
    refused = post_registration(stranger)
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    # Another device at another address is not slowed by the stranger.
    assert post_registration(donor_client(app, "10.0.0.7"), cin="CD765432").status_code == 303


def test_a_replay_of_the_same_submission_gets_its_own_ticket(app):
    kiosk = donor_client(app)
    form = fresh_form(kiosk)
    data = {**form, **VALID_DONOR}
    first = kiosk.post("/kiosk/register", data=data)
    again = kiosk.post("/kiosk/register", data=data)
    assert first.status_code == again.status_code == 303
    assert "/ticket/" in again.headers["Location"]
    assert count(app, Visit) == 1


def test_the_public_page_never_shows_a_deferral_reason(app):
    kiosk = donor_client(app)
    token = post_registration(kiosk).headers["Location"].rsplit("/", 1)[1]
    with app.app_context():
        visit = db.session.scalar(select(Visit))
        visit.stage = "deferred"
        db.session.add(
            Screening(
                visit_id=visit.id,
                weight_kg=60,
                systolic=120,
                diastolic=80,
                pulse=70,
                hemoglobin_g_dl=10.5,
                decision="deferred_temporary",
                deferral_reason="low_hemoglobin",
                deferral_until=visit.queue_day + timedelta(days=30),
                tell_reason=True,
                doctor="doctor",
                at=visit.registered_at,
            )
        )
        db.session.commit()
    page = donor_client(app).get(f"/t/{token}", headers={"Accept-Language": "fr"}).text
    assert "data-deferred-until" in page
    assert "Motif" not in page and "hémoglobine" not in page.lower()
    assert "riches en fer" in page  # advice that tells a stranger nothing they should not know
    with app.app_context():
        db.session.scalar(select(Screening)).deferral_reason = "pregnancy"
        db.session.commit()
    page = donor_client(app).get(f"/t/{token}", headers={"Accept-Language": "fr"}).text
    assert "data-deferred-until" in page and 'class="advice"' not in page


# --- registration limits ----------------------------------------------------------------------


def test_a_kiosk_faster_than_any_donor_gets_a_kind_429(limited_app):
    phone = donor_client(limited_app, ATTACKER)
    answers = [post_registration(phone, cin=f"AB{100000 + n}") for n in range(6)]
    assert [a.status_code for a in answers] == [303] * 4 + [429] * 2
    assert "trop vite" in answers[-1].get_data(as_text=True)
    arabic = phone.post(
        "/kiosk/register",
        data={**fresh_form(phone), **VALID_DONOR, "cin": "AB200000"},
        headers={"Accept-Language": "ar"},
    )
    assert arabic.status_code == 429 and 'lang="ar"' in arabic.get_data(as_text=True)
    assert count(limited_app, Visit) == 4


def test_a_new_device_cookie_does_not_escape_the_address_limit(limited_app):
    answers = []
    for n in range(10):
        phone = donor_client(limited_app, ATTACKER)  # a fresh cookie jar every time
        answers.append(post_registration(phone, cin=f"AB{300000 + n}").status_code)
    assert answers == [303] * 8 + [429] * 2


def test_a_donor_at_the_pace_of_a_real_kiosk_is_never_refused(limited_app, clock):
    kiosk = donor_client(limited_app)
    for n in range(12):
        clock.now += timedelta(seconds=30)
        assert post_registration(kiosk, cin=f"AB{400000 + n}").status_code == 303


def test_staff_walk_in_registration_is_not_limited(limited_app):
    create_staff_and_desks(limited_app)
    reception = staff_client(limited_app, "reception")
    for n in range(10):
        assert post_registration(reception, cin=f"AB{500000 + n}").status_code == 303


def test_the_coordinator_sees_refusals_per_address(limited_app):
    phone = donor_client(limited_app, ATTACKER)
    for n in range(7):
        post_registration(phone, cin=f"AB{600000 + n}")
    create_staff_and_desks(limited_app)
    page = staff_client(limited_app, "coordinator").get("/staff/admin").text
    assert f'data-refused-address="{ATTACKER}"' in page
    assert 'data-refusals="3"' in page


# --- reception gives the ticket again ---------------------------------------------------------


def test_reception_finds_the_visit_by_cin_and_gives_the_ticket_again(app):
    post_registration(donor_client(app))
    create_staff_and_desks(app)
    reception = staff_client(app, "reception")
    found = post(reception, "/staff/reception/find", {"cin": "ab 123456"})
    assert found.status_code == 200
    html = found.get_data(as_text=True)
    assert "data-found-visit" in html and "Zahra" in html
    with app.app_context():
        visit_id = db.session.scalar(select(Visit.id))
    url = f"/staff/reception/visits/{visit_id}/reissue"
    unchecked = post(reception, url)
    assert unchecked.status_code == 422
    assert count(app, Ticket) == 1
    given = post(reception, url, {"card_checked": "yes"})
    assert given.status_code == 303 and "/ticket/" in given.headers["Location"]
    assert count(app, Ticket) == 2
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.action == "ticket_reissued"))
        assert event.actor == "reception" and event.visit_id == visit_id


def test_a_walk_in_with_a_registered_cin_shows_reception_the_visit(app):
    post_registration(donor_client(app))
    create_staff_and_desks(app)
    reception = staff_client(app, "reception")
    answer = post_registration(reception)
    assert answer.status_code == 200
    assert "data-found-visit" in answer.get_data(as_text=True)
    assert count(app, Visit) == 1


def test_finding_by_cin_needs_a_login(app):
    anonymous = donor_client(app)
    assert anonymous.get("/staff/reception/find").status_code == 302


def test_no_cin_try_is_recorded_for_a_registration_without_cin(app):
    post_registration(donor_client(app), cin="")
    with app.app_context():
        names = set(db.session.scalars(select(LoginAttempt.username)))
    assert "cin-lookup" not in names


def test_a_retry_is_answered_even_past_the_limit(limited_app):
    """A double tap or a network retry of a stored registration is not a new registration: it
    gets its own ticket back even when the kiosk has used its minute (a crash test found retries
    refused with 429 after the server came back)."""
    kiosk = donor_client(limited_app, ATTACKER)
    form = {**fresh_form(kiosk), **VALID_DONOR}
    assert kiosk.post("/kiosk/register", data=form).status_code == 303
    for n in range(3):
        post_registration(kiosk, cin=f"AB{300000 + n}")
    assert post_registration(kiosk, cin="AB300009").status_code == 429
    again = kiosk.post("/kiosk/register", data=form)
    assert again.status_code == 303 and "/ticket/" in again.headers["Location"]
    assert count(limited_app, Visit) == 4


def test_the_cin_counters_can_be_switched_off_and_still_record(app):
    from kiosk.domain.throttle import CIN_TRY, Who, reserve_cin_try

    with app.app_context():
        who = Who("10.0.0.66", "device-66")
        clock_now = app.config["CLOCK"]()
        tries = [reserve_cin_try(db.session, clock_now, who, misses=0) for _ in range(30)]
        assert not any(t.refused for t in tries)
        stored = db.session.scalars(
            select(LoginAttempt).where(LoginAttempt.username == CIN_TRY)
        ).all()
        assert len(stored) == 30
        assert reserve_cin_try(db.session, clock_now, who).refused  # the real limit: 10
