"""Dates and times as people type and read them, in a real browser on a phone (390 x 844):

- a donor vaccinated on 1 December (a day and a month that a month-first date picker swaps)
  gives that date in three boxes at the kiosk, in French and in Arabic; the review writes it in
  words and says the doctor will talk with them; the doctor's record shows the answer in words
  and the 3-week vaccine finding counted from that very day;
- the donation form's times read on the 24-hour clock in both languages: never "AM" or "PM".

The campaign day is the server's: today at the venue.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.kiosk_pages import (
    VENUE,
    Donor,
    answer_questionnaire,
    fill_contact,
    fill_identity,
    get_ticket,
    give_consent,
    go_next,
    long_date,
    open_registration,
    unique_cin,
    venue_today,
)
from tests.e2e.record_pages import (
    device,
    open_record,
    record,
    submit,
    type_measurements,
)
from tests.e2e.staff_pages import (
    PHONE,
    assert_nothing_sticks_out,
    call_next,
    log_in,
    pick_desk,
    register,
)
from tests.server import running_server
from tests.support.staff_http import add_staff_and_desks

VACCINE_WEEKS = 3  # kiosk/rules/questionnaire.toml

STAFF = {"medecin": "doctor", "prelevement": "phlebotomist"}
DESKS = {"Médecin 1": "interview", "Fauteuil 1": "collection"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("dates-server")) as base_url:
        add_staff_and_desks(base_url.instance, STAFF, DESKS)
        yield base_url


def recent_vaccine_day(today: date) -> date:
    """1 December of the campaign's year when the 3-week rule still holds on the campaign day;
    else the latest recent day whose day and month a month-first picker would swap (day ≤ 12,
    day ≠ month), so the test means the same whenever it runs."""
    first_of_december = date(today.year, 12, 1)
    if 0 <= (today - first_of_december).days < VACCINE_WEEKS * 7:
        return first_of_december
    for back in range(1, VACCINE_WEEKS * 7):
        day = today - timedelta(days=back)
        if day.day <= 12 and day.day != day.month:
            return day
    return today - timedelta(days=2)


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_a_vaccine_date_in_three_boxes_is_that_day_on_the_doctors_record(
    browser: Browser, server, language
):
    vaccinated = recent_vaccine_day(venue_today())
    donor = Donor("Hicham" if language == "fr" else "حكيم", "Amrani", sex="M", cin=unique_cin())
    with device(browser, viewport=PHONE, base_url=server, has_touch=True) as phone:
        open_registration(phone, language)
        fill_identity(phone, donor)
        go_next(phone, "contact")
        fill_contact(phone, donor)
        go_next(phone, "questionnaire")
        answer_questionnaire(phone, {"vaccine": ("yes", vaccinated.isoformat())})
        question = phone.locator("fieldset[data-question=vaccine]")
        expect(question.locator("[data-date-field=q_vaccine_date]")).to_be_visible()
        assert phone.locator("input[type=date], input[type=time]").count() == 0
        # The month is chosen by its name in the page's language (Moroccan names in Arabic).
        month = question.locator("select[name=q_vaccine_month] option:checked")
        expected_month = long_date(vaccinated, language).split(" ")[1]
        expect(month).to_contain_text(expected_month)
        question.scroll_into_view_if_needed()
        assert_nothing_sticks_out(phone)
        question.screenshot(path=ARTIFACTS / f"dates-questionnaire-vaccine-{language}.png")

        go_next(phone, "consent")
        give_consent(phone)
        go_next(phone, "review")
        answer = phone.locator(".answers-review [data-question=vaccine] dd")
        expect(answer).to_contain_text(long_date(vaccinated, language))
        expect(answer).not_to_contain_text(vaccinated.isoformat())
        expect(phone.locator("[data-doctor-will-talk]")).to_be_visible()
        phone.screenshot(path=ARTIFACTS / f"dates-review-{language}.png", full_page=True)
        token = get_ticket(phone)

    with device(browser, viewport=PHONE) as doctor:
        log_in(doctor, server, "medecin")
        open_record(doctor, server, token, language)
        answer = doctor.locator("[data-question=vaccine] .answer")
        expect(answer).to_contain_text(long_date(vaccinated, language))
        expect(answer).not_to_contain_text(vaccinated.isoformat())
        # The finding counts its 3 weeks from the day given: the stored answer is that date.
        until = vaccinated + timedelta(weeks=VACCINE_WEEKS)
        vaccine = doctor.locator("#findings [data-rule=q_vaccine]")
        expect(vaccine).to_have_attribute("data-outcome", "temporary")
        expect(vaccine).to_have_attribute("data-until", until.isoformat())
        expect(vaccine).to_contain_text(long_date(until, language))
        doctor.locator("[data-question=vaccine]").scroll_into_view_if_needed()
        assert_nothing_sticks_out(doctor)
        doctor.screenshot(path=ARTIFACTS / f"dates-record-{language}.png", full_page=True)


def called_until_ours(page: Page, number: int) -> None:
    """Calls the next donor until ours (the donors of the other tests may be waiting first)."""
    for _ in range(5):
        if call_next(page) == number:
            return
    raise AssertionError(f"number {number} was never called")


def test_the_donation_times_are_on_the_24_hour_clock_in_both_languages(browser: Browser, server):
    token, number = register(server)
    with device(browser, viewport=PHONE) as doctor:
        log_in(doctor, server, "medecin")
        pick_desk(doctor, server, "Médecin 1")
        called_until_ours(doctor, number)
        open_record(doctor, server, token)
        type_measurements(doctor)
        doctor.check("input[name=decision][value=eligible]")
        doctor.fill("#screening textarea[name=note]", "Vu")  # whatever the rules say
        submit(doctor, "#screening", f"/staff/visits/{token}/screening")

    # An English browser in a US locale: a native time picker would show "08:09 AM" there.
    with device(browser, viewport=PHONE, locale="en-US") as chair:
        log_in(chair, server, "prelevement")
        pick_desk(chair, server, "Fauteuil 1", stage="collection")
        called_until_ours(chair, number)
        now = datetime.now(VENUE)
        started = max(now - timedelta(minutes=9), now.replace(hour=0, minute=0, second=0))
        for language in ("fr", "ar"):
            open_record(chair, server, token, language)
            form = chair.locator("form#donation")
            for name, moment in (("started_at", started), ("ended_at", now)):
                field = form.locator(f"input[name={name}]")
                assert field.get_attribute("type") == "text"
                assert field.get_attribute("inputmode") == "numeric"
                field.fill(moment.strftime("%H:%M"))
                expect(field).to_have_value(moment.strftime("%H:%M"))
            shown = form.locator("input[name=started_at]").evaluate("input => input.value")
            assert "AM" not in shown.upper() and "PM" not in shown.upper(), shown
            assert "AM" not in form.inner_text() and "PM" not in form.inner_text()
            form.locator("input[name=started_at]").scroll_into_view_if_needed()
            assert_nothing_sticks_out(chair)
            chair.screenshot(path=ARTIFACTS / f"dates-donation-times-{language}.png")
        form.locator("input[name=bag_number]").fill("G123498654321")
        form.locator("input[name=volume_ml]").fill("450")
        submit(chair, "#donation", f"/staff/visits/{token}/donation")
        expect(record(chair)).to_have_attribute("data-status", "rest")
