"""The session report in a real browser: a busy morning, in French and in Arabic, on screen and
as A4 paper. The screenshots land in test-artifacts/e2e for a human to look at."""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime, time, timedelta

import pytest
from playwright.sync_api import Page, expect

from kiosk import create_app
from kiosk.db import db
from kiosk.domain.campaigns import current_campaign
from kiosk.domain.exchange.figures import session_figures
from kiosk.domain.exchange.rows import visit_rows
from kiosk.domain.medical import DonationForm, clean_screening, record_donation, record_screening
from kiosk.domain.queue import Actor, add_desk, call_next
from kiosk.domain.registration import Context, register
from kiosk.domain.staff import add_staff
from kiosk.domain.validation import Registration
from kiosk.timezones import venue_zone
from tests.server import running_server

PASSWORD = "report in the browser"
DOCTOR = Actor("dr.amrani", "10.0.0.7")
NURSE = Actor("inf.said", "10.0.0.9")
NAMES = [
    ("فاطمة", "الزهراء", "F"),
    ("Youssef", "Amrani", "M"),
    ("محمد", "العلوي", "M"),
    ("Khadija", "Bennani", "F"),
    ("Hassan", "Idrissi", "M"),
    ("سعاد", "التازي", "F"),
]
CATEGORIES = ("civil_servant", "police", "auxiliary_forces", "citizen", "citizen")
# (minutes after 08:00 of arrival, minutes waited, what happened)
MORNING = [
    (5, 12, "complete"),
    (9, 15, "complete"),
    (20, 18, "low_hemoglobin"),
    (34, 22, "complete"),
    (48, 25, "partial"),
    (61, 30, "complete"),
    (64, 28, "blood_pressure"),
    (70, 35, "complete"),
    (77, 33, "complete"),
    (86, 40, "failed_venipuncture"),
    (95, 38, "complete"),
    (102, 31, "recent_procedure"),
    (110, 29, "complete"),
    (118, 26, "complete"),
    (190, 10, "complete"),
    (200, 8, "low_weight"),
    (230, 6, "complete"),
    (245, None, "waiting"),
]
ADVERSE = {3: "vasovagal", 9: "haematoma"}


def simulate_morning(app, day: date) -> None:
    zone = venue_zone(app.config["TIMEZONE"])
    start = datetime.combine(day, time(8, 0), tzinfo=zone)
    serials = itertools.count(410_000)
    with app.app_context():
        campaign_id = current_campaign(db.session).id
        add_staff(db.session, "coordinator", PASSWORD, "coordinator", start)
        doctor = add_desk(db.session, "Médecin 1", "interview")
        chair = add_desk(db.session, "Fauteuil 1", "collection")
        visits = []
        for index, (arrival, _, _) in enumerate(MORNING):
            first, last, sex = NAMES[index % len(NAMES)]
            person = Registration(
                first,
                last,
                sex,
                date(1960 + index * 2, 3, 1 + index),
                f"KB{next(serials)}",
                None,
                CATEGORIES[index % len(CATEGORIES)],
            )
            moment = start + timedelta(minutes=arrival)
            context = Context(campaign_id, day, moment, "fr", "kiosk-1")
            visits.append(register(db.session, person, f"morning-{index}", context).visit.id)
        for index, (visit_id, (arrival, waited, outcome)) in enumerate(
            zip(visits, MORNING, strict=True)
        ):
            if waited is None:
                continue
            called = start + timedelta(minutes=arrival + waited)
            call_next(db.session, campaign_id, doctor, DOCTOR, called)
            screen(visit_id, outcome, day, called + timedelta(minutes=5))
            if outcome in ("complete", "partial", "failed_venipuncture"):
                donated = called + timedelta(minutes=10)
                call_next(db.session, campaign_id, chair, NURSE, donated)
                form = DonationForm(
                    f"BAG-{index:04d}",
                    "triple",
                    450 if outcome == "complete" else 200,
                    donated,
                    donated + timedelta(minutes=9),
                    outcome,
                    ADVERSE.get(index, "none"),
                    "mild" if index in ADVERSE else None,
                    "",
                )
                record_donation(db.session, visit_id, form, NURSE, donated)


def screen(visit_id: int, outcome: str, day: date, moment: datetime) -> None:
    deferred = outcome not in ("complete", "partial", "failed_venipuncture")
    form = {
        "weight_kg": "70",
        "systolic": "120",
        "diastolic": "80",
        "pulse": "70",
        "hemoglobin_g_dl": "14",
        "decision": "deferred_temporary" if deferred else "eligible",
        "deferral_reason": outcome if deferred else "",
        "deferral_until": (day + timedelta(days=90)).isoformat() if deferred else "",
        "note": "checked",
    }
    screening, errors = clean_screening(form, lambda measurements: "ok", day)
    assert errors == {}
    record_screening(db.session, visit_id, screening, day, DOCTOR, moment)


@pytest.fixture(scope="module")
def server_with_a_morning(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("report-server")) as base_url:
        app = create_app({"INSTANCE": base_url.instance})
        zone = venue_zone(app.config["TIMEZONE"])
        day = datetime.now(zone).date()
        simulate_morning(app, day)
        with app.app_context():
            campaign = current_campaign(db.session)
            figures = session_figures(visit_rows(db.session, campaign, day, zone))
            db.engine.dispose()
        yield base_url, figures


def open_report(page: Page, server: str, language: str) -> None:
    page.goto(f"{server}/login?lang={language}")
    page.fill("input[name=username]", "coordinator")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form.login button[type=submit]").click()
    page.wait_for_url(re.compile(r"/staff/?$"))
    page.goto(f"{server}/staff/report")


def shown_figures(page: Page) -> dict[str, str]:
    cells = page.locator("td[data-figure]")
    return {
        cells.nth(index).get_attribute("data-figure"): cells.nth(index).inner_text()
        for index in range(cells.count())
    }


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_report_of_a_busy_morning(page: Page, server_with_a_morning, artifacts, language):
    server, figures = server_with_a_morning
    page.set_viewport_size({"width": 1200, "height": 1600})
    open_report(page, server, language)
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
    page.screenshot(path=artifacts / f"report-{language}.png", full_page=True)
    shown = shown_figures(page)
    assert shown["visits.registered"] == str(figures["visits"]["registered"]) == "18"
    assert shown["visits.deferred"] == "4"
    assert shown["bags.complete"] == "11"
    assert shown["adverse_events.vasovagal"] == shown["adverse_events.haematoma"] == "1"
    assert shown["arrivals_per_hour.08:00"] == str(figures["arrivals_per_hour"]["08:00"])
    assert len(shown) == sum(len(section) for section in figures.values())
    charts = page.locator("figure.chart svg")
    expect(charts).to_have_count(2)
    expect(charts.first.locator("rect.bar")).to_have_count(len(figures["arrivals_per_hour"]))
    for index in range(2):
        box = charts.nth(index).bounding_box()
        assert box["width"] > 300 and box["height"] > 120, box


def test_on_paper_the_report_fits_two_a4_pages_without_the_staff_bar(
    page: Page, server_with_a_morning, artifacts
):
    server, _ = server_with_a_morning
    open_report(page, server, "fr")
    page.emulate_media(media="print")
    expect(page.locator(".staff-header")).to_be_hidden()
    expect(page.locator("form.report-day")).to_have_count(0)  # one day: no day selector
    expect(page.locator("figure.chart").first).to_be_visible()
    page.screenshot(path=artifacts / "report-print.png", full_page=True)
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    (artifacts / "report.pdf").write_bytes(pdf)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    print(f"\nthe report prints on {pages} A4 page(s)")
    assert 1 <= pages <= 2
