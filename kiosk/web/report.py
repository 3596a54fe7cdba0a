"""The coordinator's session report: the day's figures as tables and two bar charts, for the
screen and for A4 paper.

The figures come from `session_figures` over the export's own visit rows, so the page says what
the bundle's manifest and `visits.xlsx` say. The charts are SVG drawn here: no chart library.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, current_app, render_template, request
from flask_babel import format_decimal, gettext
from flask_babel import lazy_gettext as _l

from kiosk.db import db
from kiosk.domain.exchange.bundle import campaign_to_export, default_day
from kiosk.domain.exchange.figures import UNKNOWN, Figures, session_figures
from kiosk.domain.exchange.rows import visit_rows
from kiosk.timezones import venue_zone
from kiosk.web.auth import current_staff, staff_required
from kiosk.web.context import venue_today
from kiosk.web.messages import (
    ADVERSE_EVENT_LABELS,
    CATEGORY_LABELS,
    DEFERRAL_REASON_LABELS,
    DONATION_OUTCOME_LABELS,
    SEX_LABELS,
)

bp = Blueprint("report", __name__, url_prefix="/staff")

SECTION_TITLES = {
    "visits": _l("The day"),
    "deferred_by_reason": _l("Deferrals by reason"),
    "bags": _l("Bags collected"),
    "adverse_events": _l("Adverse reactions"),
    "donors": _l("First time or repeat"),
    "sex": _l("By sex"),
    "age_band": _l("By age"),
    "category": _l("By group"),
    "declared_blood_group": _l("Declared blood group"),
    "waiting": _l("Waiting for the interview"),
}
ITEM_LABELS = {
    "visits": {
        "registered": _l("Donors registered"),
        "interviewed": _l("Seen by a doctor"),
        "accepted": _l("Accepted for donation"),
        "deferred": _l("Donors deferred"),
    },
    "deferred_by_reason": DEFERRAL_REASON_LABELS,
    "bags": DONATION_OUTCOME_LABELS,
    "adverse_events": ADVERSE_EVENT_LABELS,
    "donors": {"first_time": _l("First-time donors"), "repeat": _l("Repeat donors")},
    "sex": SEX_LABELS,
    "category": CATEGORY_LABELS,
    "waiting": {
        "called": _l("Called to the interview"),
        "median_wait_minutes": _l("Median wait (minutes)"),
    },
}
NOT_KNOWN = _l("Not known")
NO_VALUE = "—"


@bp.get("/report")
@staff_required("report")
def show():
    campaign = campaign_to_export(db.session)
    if campaign is None:
        return render_template("staff/report.html", staff=current_staff(), campaign=None)
    days = _days_of(campaign)
    day = default_day(campaign, venue_today())
    message, status = None, 200
    asked = request.args.get("date")
    if asked:
        if asked in days:
            day = days[asked]
        else:
            message, status = gettext("This campaign has no such day."), 400
    zone = venue_zone(current_app.config["TIMEZONE"])
    figures = session_figures(visit_rows(db.session, campaign, day, zone))
    page = render_template(
        "staff/report.html",
        staff=current_staff(),
        campaign=campaign,
        day=day,
        days=list(days.values()),
        message=message,
        figures=figures,
        tables=_tables(figures),
        hours=_hours(figures),
        arrivals_chart=bar_chart(figures["arrivals_per_hour"]),
        wait_chart=bar_chart(figures["median_wait_per_hour"]),
        figure=format_figure,
    )
    return page, status


def _days_of(campaign) -> dict[str, date]:
    span = (campaign.ends_on - campaign.starts_on).days
    days = (campaign.starts_on + timedelta(days=offset) for offset in range(span + 1))
    return {day.isoformat(): day for day in days}


def format_figure(value) -> str:
    return NO_VALUE if value is None else format_decimal(value)


@dataclass(frozen=True)
class Line:
    key: str  # section.item: what tests and readers of the markup match on
    label: str
    value: int | float | None
    is_code: bool = False  # a label that is the value itself ("O+", "65+"): read left to right


def _tables(figures: Figures) -> list[tuple[str, list[Line]]]:
    return [
        (
            str(title),
            [
                Line(f"{section}.{item}", label, value, label == item)
                for item, value in figures[section].items()
                for label in [_item_label(section, item)]
            ],
        )
        for section, title in SECTION_TITLES.items()
    ]


def _item_label(section: str, item: str) -> str:
    if item == UNKNOWN:
        return str(NOT_KNOWN)
    return str(ITEM_LABELS.get(section, {}).get(item, item))


def _hours(figures: Figures) -> list[tuple[str, int, int | float | None]]:
    waits = figures["median_wait_per_hour"]
    return [(hour, n, waits[hour]) for hour, n in figures["arrivals_per_hour"].items()]


# --- the charts ---------------------------------------------------------------------------------

CHART_WIDTH, CHART_HEIGHT = 640, 280
MARGIN_START, MARGIN_END, MARGIN_TOP, MARGIN_BOTTOM = 48, 12, 44, 56
BAR_SHARE = 0.7  # of each hour's band; the rest is the gap between bars


@dataclass(frozen=True)
class Bar:
    label: str
    value: int | float | None
    x: float
    y: float
    width: float
    height: float

    @property
    def middle(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    ticks: list[Tick]
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    left: float = MARGIN_START
    right: float = CHART_WIDTH - MARGIN_END
    top: float = MARGIN_TOP
    baseline: float = CHART_HEIGHT - MARGIN_BOTTOM


def nice_step(maximum: float) -> int:
    """The step of at most five ticks above 0: 1, 2 or 5 times a power of ten."""
    if maximum <= 5:
        return 1
    rough = maximum / 5
    power = 10 ** math.floor(math.log10(rough))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= rough)


def bar_chart(values: Mapping[str, int | float | None]) -> Chart:
    """A bar per label, left to right in the order given; an empty value has no bar."""
    top, baseline = MARGIN_TOP, CHART_HEIGHT - MARGIN_BOTTOM
    numbers = [value for value in values.values() if value is not None]
    step = nice_step(max(numbers, default=0))
    scale_top = max(step, math.ceil(max(numbers, default=0) / step) * step)
    per_unit = (baseline - top) / scale_top
    band = (CHART_WIDTH - MARGIN_END - MARGIN_START) / max(len(values), 1)
    bars = [
        Bar(
            label,
            value,
            x=MARGIN_START + band * index + band * (1 - BAR_SHARE) / 2,
            y=baseline - (value or 0) * per_unit,
            width=band * BAR_SHARE,
            height=(value or 0) * per_unit,
        )
        for index, (label, value) in enumerate(values.items())
    ]
    ticks = [Tick(value, baseline - value * per_unit) for value in range(0, scale_top + 1, step)]
    return Chart(bars, ticks)
