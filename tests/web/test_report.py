"""/staff/report: who may see it, and that its numbers are the figures of the export."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest

from kiosk.db import db, write_transaction
from kiosk.domain.campaigns import current_campaign
from kiosk.domain.exchange.columns import MANIFEST
from kiosk.domain.exchange.figures import session_figures
from kiosk.domain.exchange.rows import visit_rows
from kiosk.domain.staff import add_staff
from kiosk.domain.validation import Registration
from kiosk.models import Campaign
from kiosk.web.report import Chart, bar_chart, nice_step
from tests.support.factories import CAMPAIGN_DAY, FROZEN_NOW
from tests.support.simulated_day import ZONE, arrive, bundle_of, members, simulate_day
from tests.support.staff import PASSWORD, ROLES, log_in

FR = {"Accept-Language": "fr"}
AR = {"Accept-Language": "ar"}
SAID = Registration("Said", "Alaoui", "M", date(1980, 1, 1), None, None, "citizen")
FIGURE_CELL = re.compile(r'<td data-figure="([^"]+)">([^<]*)</td>')


def create_staff(app) -> None:
    """One account per role; the simulated day brings its own desks."""
    with app.app_context():
        for role in ROLES:
            add_staff(db.session, role, PASSWORD, role, FROZEN_NOW)


@pytest.fixture
def staffed(app):
    create_staff(app)
    with app.app_context():
        simulate_day(current_campaign(db.session).id)
    return app


def client_of(app, username: str):
    client = app.test_client()
    assert log_in(client, username).status_code == 303
    return client


def shown(page: str) -> dict[str, str]:
    return dict(FIGURE_CELL.findall(page))


def as_french(value) -> str:
    if value is None:
        return "—"
    return str(value).replace(".", ",")


def flat(figures) -> dict[str, str]:
    return {
        f"{section}.{item}": as_french(value)
        for section, items in figures.items()
        for item, value in items.items()
    }


def test_strangers_are_sent_to_login(staffed):
    response = staffed.test_client().get("/staff/report")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/staff/report")


@pytest.mark.parametrize("username", ["reception", "doctor", "phlebotomist"])
def test_other_roles_get_403(staffed, username):
    assert client_of(staffed, username).get("/staff/report").status_code == 403


def test_the_coordinator_sees_every_figure_of_session_figures(staffed):
    response = client_of(staffed, "coordinator").get("/staff/report", headers=FR)
    assert response.status_code == 200
    with staffed.app_context():
        campaign = current_campaign(db.session)
        figures = session_figures(visit_rows(db.session, campaign, CAMPAIGN_DAY, ZONE))
    assert shown(response.text) == flat(figures)
    assert shown(response.text)["visits.registered"] == "3"
    assert shown(response.text)["waiting.median_wait_minutes"] == "13,5"
    assert "Rapport de la journée" in response.text


def test_the_page_says_what_the_manifest_says(staffed):
    page = client_of(staffed, "coordinator").get("/staff/report", headers=FR).text
    with staffed.app_context():
        campaign_id = current_campaign(db.session).id
        manifest = json.loads(members(bundle_of(campaign_id))[MANIFEST])
    assert shown(page) == flat(manifest["figures"])


def test_the_charts_have_titles_axes_and_a_bar_per_hour(staffed):
    page = client_of(staffed, "coordinator").get("/staff/report", headers=FR).text
    charts = re.findall(r"<svg .*?</svg>", page, re.S)
    assert len(charts) == 2
    for chart in charts:
        assert 'role="img"' in chart and "<title id=" in chart and "<desc id=" in chart
        assert chart.count('class="axis"') == 2
        assert chart.count('<rect class="bar"') == 1  # everybody came between 09:00 and 10:00
        assert '<text class="hour"' in chart and ">09</text>" in chart
    assert "Arrivées par heure" in charts[0]


def test_the_report_in_arabic_reads_right_to_left(staffed):
    page = client_of(staffed, "coordinator").get("/staff/report", headers=AR).text
    assert '<html lang="ar" dir="rtl">' in page
    assert "تقرير اليوم" in page
    assert shown(page)["visits.registered"] == "3"
    assert 'direction="ltr"' in re.search(r"<svg [^>]*>", page).group(0)  # hours run left to right
    assert '<bdi dir="ltr">O+</bdi>' in page and '<bdi dir="ltr">65+</bdi>' in page


def test_another_day_of_the_campaign_and_a_day_it_does_not_have(staffed):
    client = client_of(staffed, "coordinator")
    next_day = CAMPAIGN_DAY + timedelta(days=1)
    with staffed.app_context():
        campaign = current_campaign(db.session)
        with write_transaction(db.session):
            db.session.get(Campaign, campaign.id).ends_on = next_day
        arrive(campaign.id, SAID, "11:05:00", next_day)
    page = client.get("/staff/report", headers=FR).text
    assert '<select id="report-date" name="date">' in page
    assert shown(page)["visits.registered"] == "3"  # today, by default
    other = client.get(f"/staff/report?date={next_day}", headers=FR)
    assert other.status_code == 200
    assert shown(other.text)["visits.registered"] == "1"
    assert shown(other.text)["arrivals_per_hour.11:00"] == "1"
    for bad in ("2026-12-01", "yesterday", "2026-11-31"):
        refused = client.get(f"/staff/report?date={bad}", headers=FR)
        assert refused.status_code == 400
        assert "Ce jour ne fait pas partie de la campagne." in refused.text
        assert shown(refused.text)["visits.registered"] == "3"


def test_a_day_without_visits(app):
    create_staff(app)
    page = client_of(app, "coordinator").get("/staff/report", headers=FR)
    assert page.status_code == 200
    assert shown(page.text)["visits.registered"] == "0"
    assert "<svg" not in page.text


def test_no_campaign_yet(app_without_campaign):
    create_staff(app_without_campaign)
    page = client_of(app_without_campaign, "coordinator").get("/staff/report", headers=FR)
    assert page.status_code == 200
    assert "data-figure" not in page.text


def test_the_admin_page_links_to_the_report(staffed):
    page = client_of(staffed, "coordinator").get("/staff/admin").text
    assert 'href="/staff/report"' in page


# --- the chart's geometry -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("maximum", "step"),
    [(0, 1), (1, 1), (5, 1), (6, 2), (10, 2), (11, 5), (25, 5), (26, 10), (60, 20), (240, 50)],
)
def test_nice_steps(maximum, step):
    assert nice_step(maximum) == step


def test_bars_stand_on_the_baseline_in_proportion():
    chart = bar_chart({"08:00": 4, "09:00": 10, "10:00": None, "11:00": 0})
    assert isinstance(chart, Chart)
    assert [bar.label for bar in chart.bars] == ["08:00", "09:00", "10:00", "11:00"]
    four, ten, empty, zero = chart.bars
    assert ten.y == pytest.approx(chart.top) and ten.y + ten.height == pytest.approx(chart.baseline)
    assert four.height == pytest.approx(ten.height * 0.4)
    assert empty.height == zero.height == 0
    assert [tick.value for tick in chart.ticks] == [0, 2, 4, 6, 8, 10]
    assert chart.left < four.x < ten.x < empty.x < zero.x and zero.x + zero.width < chart.right


def test_an_empty_chart_has_an_axis_and_no_division_by_zero():
    chart = bar_chart({})
    assert chart.bars == [] and [tick.value for tick in chart.ticks] == [0, 1]


def test_half_minutes_scale_up_to_the_next_tick():
    chart = bar_chart({"09:00": 13.5})
    assert [tick.value for tick in chart.ticks] == [0, 5, 10, 15]
    assert chart.bars[0].y > chart.top
