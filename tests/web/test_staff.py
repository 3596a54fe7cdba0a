"""Staff routes through the test client: login, rights, desks, console, records, admin page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kiosk.db import db, write_transaction
from kiosk.domain.exchange.signing import fingerprint, public_text, venue_key
from kiosk.models import Event, Visit
from tests.support.staff import csrf_of, log_in, pick_desk, post

HTMX = {"HX-Request": "true"}
FR = {"Accept-Language": "fr"}


@pytest.fixture
def waiting_donors(register):
    """Three donors registered at the kiosk; returns their ticket tokens."""
    return [register(cin=f"AA10000{n}").headers["Location"].rsplit("/", 1)[1] for n in range(1, 4)]


SAMPLE_ARGUMENTS = {
    "stage": "interview",
    "token": "A" * 32,
    "key": "A" * 32,
    "visit_id": 1,
    "language": "fr",
    "prompt_id": "start",
}
ACTION_CHOICES = ("call-next", "recall", "no-show")


def staff_rules(app):
    """Every staff URL of the URL map, with each choice of its `action` part."""
    urls = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff"):
            continue
        for action in ACTION_CHOICES if "action" in rule.arguments else (None,):
            values = {name: SAMPLE_ARGUMENTS.get(name, action) for name in rule.arguments}
            url = urls.build(rule.endpoint, values)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, url


def test_every_staff_route_sends_strangers_to_login(staffed):
    client = staffed.test_client()
    rules = list(staff_rules(staffed))
    assert len(rules) >= 12
    for method, url in rules:
        data = {"csrf_token": csrf_of(client, "/login")} if method == "POST" else None
        response = client.open(url, method=method, data=data)
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].startswith("/login?next="), (method, url)
        htmx = client.open(url, method=method, data=data, headers=HTMX)
        assert htmx.status_code == 401, (method, url)
        assert htmx.headers["HX-Redirect"].startswith("/login?next="), (method, url)


@pytest.mark.parametrize(
    ("username", "method", "url"),
    [
        ("doctor", "GET", "/staff/admin"),
        ("doctor", "POST", "/staff/admin/desks"),
        ("phlebotomist", "GET", "/staff/admin"),
        ("reception", "POST", "/staff/admin/desks"),
    ],
)
def test_a_role_without_the_right_gets_403(login_as, username, method, url):
    client = login_as(username)
    data = {"csrf_token": csrf_of(client, "/staff/")} if method == "POST" else None
    assert client.open(url, method=method, data=data).status_code == 403


def test_a_phlebotomist_cannot_act_at_an_interview_desk(login_as, waiting_donors):
    client = login_as("coordinator", desk="Médecin 1")
    assert post(client, "/staff/queue/interview/call-next").status_code == 200
    phlebotomist = login_as("phlebotomist")
    # The desk picker offers only collection desks to a phlebotomist.
    assert pick_desk(phlebotomist, "Médecin 2").status_code == 422
    response = post(phlebotomist, "/staff/queue/interview/call-next")
    assert response.status_code == 409  # no interview desk: the desk picker, nobody called


def test_reception_sees_the_queue_but_cannot_call(login_as, waiting_donors):
    client = login_as("reception")
    page = client.get("/staff/queue/interview", headers=FR).text
    assert page.count("data-queue-number") == 3
    assert "data-call-next" not in page
    assert post(client, "/staff/queue/interview/call-next").status_code == 409


class TestLogin:
    def test_the_login_page(self, staffed):
        page = staffed.test_client().get("/login", headers=FR).text
        assert 'name="username"' in page and 'name="password"' in page
        assert "csrf_token" in page

    def test_a_good_login_goes_to_the_staff_home(self, staffed):
        response = log_in(staffed.test_client(), "doctor")
        assert response.status_code == 303
        assert response.headers["Location"] == "/staff/"

    def test_a_login_returns_to_where_it_was_asked(self, staffed):
        response = log_in(staffed.test_client(), "doctor", next="/staff/queue/interview")
        assert response.headers["Location"] == "/staff/queue/interview"

    @pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "javascript:x"])
    def test_next_never_leaves_the_site(self, staffed, target):
        response = log_in(staffed.test_client(), "doctor", next=target)
        assert response.headers["Location"] == "/staff/"

    def test_a_wrong_password_is_refused_kindly(self, staffed):
        client = staffed.test_client()
        response = client.post(
            "/login",
            data={"username": "doctor", "password": "nope", "csrf_token": csrf_of(client)},
            headers=FR,
        )
        assert response.status_code == 401
        assert "Identifiant ou mot de passe incorrect" in response.text
        assert client.get("/staff/").status_code == 302

    def test_repeated_failures_are_slowed_then_refused(self, staffed, sleeps):
        client = staffed.test_client()
        token = csrf_of(client)
        for _ in range(10):
            response = client.post(
                "/login", data={"username": "doctor", "password": "nope", "csrf_token": token}
            )
            assert response.status_code == 401
        assert sleeps and max(sleeps) <= 2
        response = client.post(
            "/login",
            data={"username": "doctor", "password": "correct horse", "csrf_token": token},
            headers=FR,
        )
        assert response.status_code == 429
        assert re.search(r"Attendez \d+ secondes", response.text)

    def test_logout_ends_the_session_on_the_server(self, staffed):
        client = staffed.test_client()
        log_in(client, "doctor")
        stolen = client.get_cookie("session").value
        assert post(client, "/logout").status_code == 303
        assert client.get("/staff/").status_code == 302
        thief = staffed.test_client()
        thief.set_cookie("session", stolen)
        assert thief.get("/staff/").status_code == 302

    def test_a_session_ends_after_inactivity(self, staffed, clock):
        from datetime import timedelta

        client = staffed.test_client()
        log_in(client, "doctor")
        clock.now += timedelta(hours=8, minutes=1)
        assert client.get("/staff/").status_code == 302

    def test_logout_needs_a_csrf_token(self, staffed):
        client = staffed.test_client()
        log_in(client, "doctor")
        assert client.post("/logout").status_code == 400
        assert client.get("/staff/").status_code == 200


class TestDeskAndConsole:
    def test_the_home_page_offers_only_my_desks(self, login_as):
        page = login_as("doctor").get("/staff/", headers=FR).text
        assert "Médecin 1" in page and "Médecin 2" in page
        assert "Fauteuil 1" not in page

    def test_an_unknown_desk_is_refused_with_the_picker(self, login_as):
        response = pick_desk(login_as("doctor"), "Bureau 9")
        assert response.status_code == 422
        assert "Bureau 9" in response.text

    def test_calling_without_a_desk_answers_with_the_desk_picker(
        self, staffed, login_as, waiting_donors
    ):
        client = login_as("doctor")
        response = post(client, "/staff/queue/interview/call-next", headers=HTMX)
        assert response.status_code == 409
        assert 'id="desk-picker"' in response.text
        assert "data-queue-number" not in response.text
        with staffed.app_context():
            assert db.session.scalar(select(Event).where(Event.action == "call")) is None

    def test_call_next_answers_with_the_visit_fragment(self, login_as, waiting_donors):
        client = login_as("doctor", desk="Médecin 1")
        response = post(client, "/staff/queue/interview/call-next", headers=HTMX)
        assert response.status_code == 200
        assert response.text.lstrip().startswith('<section id="my-desk"')
        assert 'data-queue-number="1"' in response.text
        again = post(client, "/staff/queue/interview/call-next", headers=HTMX)
        assert 'data-queue-number="1"' in again.text  # a double tap calls nobody new

    def test_two_desks_get_two_donors(self, login_as, waiting_donors):
        first = login_as("doctor", desk="Médecin 1")
        second = login_as("doctor2", desk="Médecin 2")
        a = post(first, "/staff/queue/interview/call-next").text
        b = post(second, "/staff/queue/interview/call-next").text
        assert 'data-queue-number="1"' in a and 'data-queue-number="2"' in b

    def test_an_empty_queue_says_nobody_is_waiting(self, login_as):
        client = login_as("doctor", desk="Médecin 1")
        response = post(client, "/staff/queue/interview/call-next", headers={**HTMX, **FR})
        assert response.status_code == 200
        assert "Personne n’attend" in response.text

    def test_recall_no_show_and_put_back(self, staffed, login_as, waiting_donors):
        client = login_as("doctor", desk="Médecin 1")
        post(client, "/staff/queue/interview/call-next")
        early = post(client, "/staff/queue/interview/no-show", headers=FR)
        assert early.status_code == 409
        assert "après 2 rappels" in early.text
        for _ in range(2):
            assert post(client, "/staff/queue/interview/recall").status_code == 200
        assert post(client, "/staff/queue/interview/no-show").status_code == 200
        with staffed.app_context():
            absent = db.session.scalar(select(Visit).where(Visit.stage == "no_show"))
        page = client.get("/staff/queue/interview").text
        assert "put-back" in page
        response = post(client, "/staff/queue/interview/put-back", {"visit": str(absent.id)})
        assert response.status_code == 200
        assert post(client, "/staff/queue/interview/put-back", {"visit": "abc"}).status_code == 409
        post(client, "/staff/queue/interview/call-next")
        with staffed.app_context():
            stages = sorted(db.session.scalars(select(Visit.stage)))
        assert stages == ["interview", "waiting_interview", "waiting_interview"]

    @pytest.mark.parametrize("stage", ["interview", "collection"])
    def test_no_console_button_sends_a_donor_on(self, staffed, login_as, waiting_donors, stage):
        """Only the screening and the donation records move a donor on: the console has no
        "send on", and a forged post of it is refused with the visit where it was."""
        client = login_as("coordinator", desk="Médecin 1" if stage == "interview" else "Fauteuil 1")
        if stage == "collection":
            with staffed.app_context(), write_transaction(db.session):
                db.session.get(Visit, 1).stage = "waiting_collection"  # as an old database might
        called = post(client, f"/staff/queue/{stage}/call-next", headers=FR)
        console = client.get(f"/staff/queue/{stage}").text
        assert "send-on" not in console
        assert post(client, f"/staff/queue/{stage}/send-on").status_code == 404
        with staffed.app_context():
            stages = [visit.stage for visit in db.session.scalars(select(Visit).order_by(Visit.id))]
        if stage == "interview":
            assert called.status_code == 200
            assert stages == ["interview", "waiting_interview", "waiting_interview"]
        else:  # an unscreened visit in the collection line cannot be called to the chair
            assert called.status_code == 409
            assert "n’a pas d’examen favorable enregistré" in called.text
            assert stages == ["waiting_collection", "waiting_interview", "waiting_interview"]

    def test_actions_with_nobody_at_the_desk_explain(self, login_as):
        client = login_as("doctor", desk="Médecin 1")
        response = post(client, "/staff/queue/interview/recall", headers=FR)
        assert response.status_code == 409
        assert "Personne n’est à votre poste" in response.text

    def test_the_waiting_list_polls_with_etag_and_304(self, login_as, waiting_donors, register):
        client = login_as("doctor", desk="Médecin 1")
        first = client.get("/staff/queue/interview/waiting", headers=HTMX)
        etag = first.headers["ETag"]
        assert first.status_code == 200 and first.text.count("data-queue-number") == 3
        same = client.get("/staff/queue/interview/waiting", headers={**HTMX, "If-None-Match": etag})
        assert same.status_code == 304 and same.data == b""
        register(cin="AA100009")
        changed = client.get(
            "/staff/queue/interview/waiting", headers={**HTMX, "If-None-Match": etag}
        )
        assert changed.status_code == 200 and changed.text.count("data-queue-number") == 4
        assert client.get("/staff/queue/interview/waiting").status_code == 302

    def test_unknown_stages_are_404(self, login_as):
        client = login_as("coordinator")
        assert client.get("/staff/queue/rest").status_code == 404
        assert post(client, "/staff/queue/rest/call-next").status_code == 404


class TestRecordsAndScanning:
    def test_the_record_shows_the_donor_and_history(self, login_as, waiting_donors):
        page = login_as("reception").get(f"/staff/visits/{waiting_donors[0]}", headers=FR).text
        assert "Fatima Zahra" in page and "AA100001" in page and "+212612345678" in page
        assert 'data-queue-number="1"' in page
        assert "Inscrit" in page

    @pytest.mark.parametrize("shape", ["url", "token", "path"])
    def test_the_scanner_field_opens_the_record(self, login_as, waiting_donors, shape):
        token = waiting_donors[1]
        code = {
            "url": f"http://192.168.1.20:5000/t/{token}",
            "token": token,
            "path": f"/t/{token}",
        }[shape]
        response = login_as("doctor").get("/staff/scan", query_string={"code": code})
        assert response.status_code == 303
        assert response.headers["Location"] == f"/staff/visits/{token}"

    @pytest.mark.parametrize("code", ["", "hello", "A" * 32, "http://x/t/" + "B" * 32, "x" * 600])
    def test_a_code_that_is_no_ticket_says_so(self, login_as, waiting_donors, code):
        response = login_as("doctor").get("/staff/scan", query_string={"code": code}, headers=FR)
        assert response.status_code == 404
        assert "Aucun ticket ne correspond" in response.text

    def test_staff_scanning_the_qr_with_a_phone_get_the_record(self, login_as, waiting_donors):
        token = waiting_donors[0]
        response = login_as("doctor").get(f"/t/{token}")
        assert response.status_code == 302
        assert response.headers["Location"] == f"/staff/visits/{token}"

    def test_unknown_records_are_404(self, login_as):
        assert login_as("doctor").get("/staff/visits/" + "C" * 32).status_code == 404


class TestCoordinator:
    def test_the_admin_page_shows_the_join_url_and_its_qr(self, login_as):
        page = login_as("coordinator").get("/staff/admin").text
        assert "http://localhost/staff/" in page
        assert "<svg" in page
        assert "Médecin 1" in page and "phlebotomist" in page

    def test_the_admin_page_shows_the_venue_key_fingerprint(self, app, login_as):
        page = login_as("coordinator").get("/staff/admin").text
        public = public_text(venue_key(app.instance_path))
        assert f"data-venue-fingerprint>{fingerprint(public)}</code>" in page

    def test_a_desk_is_added_on_the_page(self, login_as):
        client = login_as("coordinator")
        response = post(client, "/staff/admin/desks", {"name": "Fauteuil 3", "stage": "collection"})
        assert response.status_code == 200
        assert "Fauteuil 3" in login_as("phlebotomist").get("/staff/").text

    @pytest.mark.parametrize(
        "form",
        [
            {"name": "", "stage": "interview"},
            {"name": "X", "stage": "rest"},
            {"name": "médecin 1", "stage": "interview"},
        ],
    )
    def test_a_bad_desk_is_refused_and_nothing_added(self, login_as, form):
        client = login_as("coordinator")
        assert post(client, "/staff/admin/desks", form).status_code == 422
        assert client.get("/staff/admin").text.count("<li><bdi>") == 3

    def test_reception_registers_a_walk_in_donor_under_its_own_name(self, staffed, login_as):
        from tests.support.factories import VALID_DONOR, fresh_form

        client = login_as("reception")
        response = client.post("/kiosk/register", data={**fresh_form(client), **VALID_DONOR})
        assert response.status_code == 303
        ticket = client.get(response.headers["Location"]).text
        assert 'data-home-url="/staff/"' in ticket
        with staffed.app_context():
            event = db.session.scalar(select(Event).where(Event.action == "register"))
        assert event.actor == "reception"


class TestDisplay:
    def test_the_display_is_public_and_shows_numbers_not_names(self, login_as, waiting_donors):
        post(login_as("doctor", desk="Médecin 1"), "/staff/queue/interview/call-next")
        page = login_as("doctor").application.test_client().get("/display", headers=FR).text
        assert "data-latest-call=" in page
        assert 'data-queue-number="1"' in page and ">001<" in page
        assert "Médecin 1" in page
        assert "Fatima" not in page and "Zahra" not in page and "AA10000" not in page
        assert 'data-say-ar="الرقم 1، المرجو التوجه إلى Médecin 1."' in page
        assert 'data-say-fr="Numéro 1, présentez-vous à Médecin 1."' in page
        assert 'data-waiting="2"' in page

    def test_the_board_answers_304_until_a_call(self, staffed, login_as, waiting_donors):
        display = staffed.test_client()
        first = display.get("/display/board", headers=HTMX)
        etag = first.headers["ETag"]
        assert (
            display.get("/display/board", headers={**HTMX, "If-None-Match": etag}).status_code
            == 304
        )
        post(login_as("doctor", desk="Médecin 1"), "/staff/queue/interview/call-next")
        after = display.get("/display/board", headers={**HTMX, "If-None-Match": etag})
        assert after.status_code == 200 and "data-latest-call" in after.text

    def test_the_display_in_arabic_is_right_to_left(self, staffed):
        page = staffed.test_client().get("/display?lang=ar").text
        assert '<html lang="ar" dir="rtl">' in page

    def test_the_board_fragment_alone_sends_browsers_to_the_display(self, staffed):
        response = staffed.test_client().get("/display/board")
        assert response.status_code == 302 and response.headers["Location"] == "/display"
