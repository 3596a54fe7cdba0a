"""The polled queue pages answer in the same time whatever the queue's length (issue 18): the
staff waiting list shows the head of the line and a count of the rest, and the donor's /t/ page
answers 304 with no body while nothing it shows changed."""

from __future__ import annotations

import kiosk.domain.queue
from tests.support.staff import post

HTMX = {"HX-Request": "true"}
FR = {"Accept-Language": "fr"}
AR = {"Accept-Language": "ar"}


def tokens_of(register, serials) -> list[str]:
    return [register(cin=f"PQ{n:06d}").headers["Location"].rsplit("/", 1)[1] for n in serials]


def test_the_waiting_list_shows_its_head_and_counts_the_rest(login_as, register, monkeypatch):
    monkeypatch.setattr(kiosk.domain.queue, "SHOWN_IN_LINE", 3)
    tokens_of(register, range(5))
    client = login_as("doctor", desk="Médecin 1")
    page = client.get("/staff/queue/interview/waiting", headers={**HTMX, **FR})
    assert page.status_code == 200
    listed = page.text.split('class="waiting-list"')[1].split("</ol>")[0]
    assert listed.count("data-queue-number") == 3  # the first three, in order
    assert [f'data-queue-number="{n}"' in listed for n in (1, 2, 3, 4)] == [True] * 3 + [False]
    assert "5 en attente" in page.text  # the whole line is counted
    assert 'data-more="2"' in page.text and "et 2 de plus" in page.text
    arabic = client.get("/staff/queue/interview", headers=AR)
    assert 'data-more="2"' in arabic.text and "و2 آخران" in arabic.text


def test_a_short_line_has_no_more_line(login_as, register, monkeypatch):
    monkeypatch.setattr(kiosk.domain.queue, "SHOWN_IN_LINE", 3)
    tokens_of(register, range(3))
    client = login_as("doctor", desk="Médecin 1")
    page = client.get("/staff/queue/interview/waiting", headers=HTMX)
    assert page.text.count("data-queue-number") == 3 and "data-more" not in page.text


def test_the_status_page_answers_304_until_something_it_shows_changes(login_as, register, app):
    tokens = tokens_of(register, range(3))
    phone = app.test_client()
    path = f"/t/{tokens[2]}"
    first = phone.get(path, headers=HTMX)
    assert first.status_code == 200 and 'data-ahead="2"' in first.text
    etag = first.headers["ETag"]
    assert f'\\"{etag.strip(chr(34))}\\"' in first.text  # sent back on the next poll
    same = phone.get(path, headers={**HTMX, "If-None-Match": etag})
    assert same.status_code == 304 and same.data == b""
    # The full page too (a reload) answers 304 while nothing changed.
    assert phone.get(path, headers={"If-None-Match": etag}).status_code == 304
    # Another language is another page.
    assert phone.get(path, headers={**HTMX, **AR, "If-None-Match": etag}).status_code == 200
    doctor = login_as("doctor", desk="Médecin 1")
    assert post(doctor, "/staff/queue/interview/call-next").status_code in (200, 303)
    changed = phone.get(path, headers={**HTMX, "If-None-Match": etag})
    assert changed.status_code == 200 and 'data-ahead="1"' in changed.text
    assert changed.headers["ETag"] != etag


def test_the_status_page_of_an_unknown_token_is_still_404(app):
    phone = app.test_client()
    answer = phone.get("/t/" + "A" * 32, headers={**HTMX, "If-None-Match": '"t0-0-fr"'})
    assert answer.status_code == 404
