"""The centre's recall list: who may give again in a window, with a phone only where the donor
agreed to be phoned, never a permanently deferred donor; and the consent itself, asked apart and
carried from the kiosk to the centre."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from kiosk.db import db
from kiosk.domain.campaigns import current_campaign
from kiosk.domain.exchange.recall import RecallRefused, recall_list
from kiosk.domain.registration import Context, register
from kiosk.domain.validation import Registration, validate_registration
from kiosk.models import Donor, Visit
from tests.support.factories import CAMPAIGN_DAY, FROZEN_NOW, VALID_DONOR, fresh_form

WINDOW = (date(2027, 3, 1), date(2027, 3, 31))


def add_donor(serial: int, cin: str | None, contact: bool, sex: str = "F", born: int = 1990):
    campaign = current_campaign(db.session)
    context = Context(campaign.id, CAMPAIGN_DAY, FROZEN_NOW, "fr", "kiosk")
    person = Registration(
        "Donor", f"Number {serial}", sex, date(born, 1, 1), cin, "+212612345678", "citizen", contact
    )
    register(db.session, person, f"request-recall-{serial:010d}", context)
    return db.session.query(Donor).filter_by(last_name=f"Number {serial}").one()


def listed(*window: date, site: str | None = None) -> dict[str, dict[str, str]]:
    recall = recall_list(db.session, *(window or WINDOW), site)
    return {row["cin"]: row for row in csv.DictReader(io.StringIO(recall.csv.decode("utf-8-sig")))}


@pytest.fixture
def centre(app):
    with app.app_context():
        gave, deferred, never, recent = (
            add_donor(1, "AA100001", contact=True),
            add_donor(2, "AA100002", contact=False),
            add_donor(3, "AA100003", contact=True),
            add_donor(4, "AA100004", contact=True, sex="M"),
        )
        # First time and already 64 at the window: past the age a first donation is taken.
        add_donor(5, "AA100005", contact=True, born=1962)
        # (Each registration is its own write transaction: the histories are set after them.)
        # She gave on the campaign day (16 weeks for women: may give from 2027-03-16), agreed to
        # be phoned.
        gave.last_donation_on = CAMPAIGN_DAY
        # Deferred for low haemoglobin until 2027-03-10, did not agree to be phoned.
        deferred.deferred_until = date(2027, 3, 10)
        # Permanently deferred: never recalled.
        never.deferred_permanently = True
        # Gave too recently for the window (a man, 12 weeks: may give from 2027-04-07).
        recent.last_donation_on = date(2027, 1, 13)
        db.session.commit()
        yield app


def test_the_window_lists_who_may_give_again_and_phones_only_who_agreed(centre):
    rows = listed()
    assert set(rows) == {"AA100001", "AA100002"}
    assert rows["AA100001"]["may_give_from"] == "2027-03-16"
    assert rows["AA100001"]["phone"] == "'+212612345678"  # the CSV's quote before a +
    assert rows["AA100002"]["may_give_from"] == "2027-03-10"
    assert rows["AA100002"]["phone"] == ""  # she did not agree to be phoned
    assert rows["AA100002"]["deferred_until"] == "2027-03-10"
    assert rows["AA100001"]["last_site"] == "Khénifra"


def test_a_window_before_the_end_of_the_waiting_lists_nobody_waiting(centre):
    assert set(listed(date(2027, 1, 1), date(2027, 3, 9))) == set()
    assert set(listed(date(2027, 3, 1), date(2027, 3, 12))) == {"AA100002"}
    # A donor free to give before the window may give on its first day.
    assert listed(date(2027, 6, 1), date(2027, 6, 30))["AA100002"]["may_give_from"] == "2027-06-01"


def test_a_permanent_deferral_on_a_conflicting_visit_keeps_the_cin_off_the_list(centre):
    # The kiosk took a visit with AA100001's CIN and another birth date: a record of its own,
    # permanently deferred there, waiting for review. The CIN must not be recalled meanwhile.
    conflict = add_donor(6, None, contact=True)
    conflict = db.session.get(Donor, conflict.id)
    conflict.deferred_permanently = True
    visit = db.session.query(Visit).filter_by(donor_id=conflict.id).one()
    visit.cin_conflict = "AA100001"
    db.session.commit()
    assert "AA100001" not in listed()
    assert recall_list(db.session, *WINDOW).left_out_permanent == 2


def test_the_site_narrows_the_list_and_an_unknown_site_or_window_is_refused(centre):
    assert set(listed(site=" khénifra ")) == {"AA100001", "AA100002"}
    with pytest.raises(RecallRefused, match="no visit at a site named 'Azrou'"):
        recall_list(db.session, *WINDOW, "Azrou")
    with pytest.raises(RecallRefused, match="ends .* before it starts"):
        recall_list(db.session, WINDOW[1], WINDOW[0])


def test_the_consent_to_be_phoned_is_asked_apart_and_off_by_default():
    today = CAMPAIGN_DAY
    without, _ = validate_registration({**VALID_DONOR}, today)
    assert without.contact_consent is False
    agreed, _ = validate_registration({**VALID_DONOR, "contact_consent": "yes"}, today)
    assert agreed.contact_consent is True
    odd, errors = validate_registration({**VALID_DONOR, "contact_consent": "maybe"}, today)
    assert errors == {} and odd.contact_consent is False


def test_the_kiosk_stores_the_consent_on_the_visit_and_the_donor(client, app, register):
    register(contact_consent="yes")
    register(cin="AA200002", contact_consent=None)
    with app.app_context():
        consent = {v.donor.cin: (v.contact_consent, v.donor.contact_consent) for v in Visit.query}
    assert consent == {"AB123456": (True, True), "AA200002": (False, False)}


def test_the_review_says_whether_the_donor_may_be_phoned(client, register):
    step = client.post(
        "/kiosk/wizard",
        data={**fresh_form(client), **VALID_DONOR, "contact_consent": "yes", "step": "consent"},
        headers={"Accept-Language": "fr"},
    )
    assert "M’appeler pour un nouveau don" in step.text
    assert 'name="contact_consent" value="yes"' in step.text  # carried to the last post


def test_the_oldest_donor_to_recall_depends_on_a_past_donation(centre):
    with centre.app_context():
        repeat = db.session.get(Donor, add_donor(7, "AA100007", contact=True, born=1962).id)
        repeat.last_donation_on = CAMPAIGN_DAY - timedelta(days=400)
        db.session.commit()
        assert "AA100007" in listed()  # 65 for a repeat donor, 60 for a first donation
