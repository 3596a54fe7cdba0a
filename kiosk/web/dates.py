"""Dates as people type them on every page: three boxes (see templates/_date_field.html), the
month named in the page's language. Moroccan Arabic (ar_MA, the locale of every page) names the
months as Morocco writes them: يناير … ماي، يوليوز، غشت، شتنبر، نونبر، دجنبر, where Babel's `ar`
would give the Eastern names (مايو، يوليو، أغسطس …) that Moroccans read less easily."""

from __future__ import annotations

from babel.dates import get_month_names
from flask import Flask
from flask_babel import get_locale

from kiosk.domain.validation import date_boxes, date_part_names


def month_choices() -> list[tuple[int, str]]:
    """(number, "name (number)") for each month: the name in the page's language, and the number a
    CIN prints (01.12.1990), so that a donor copying it finds the month without translating."""
    names = get_month_names("wide", locale=get_locale())
    return [(number, f"{name} ({number})") for number, name in names.items()]


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        date_boxes=date_boxes, date_part_names=date_part_names, month_choices=month_choices
    )
