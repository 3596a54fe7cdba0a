"""The page `kiosk printer test` prints and `kiosk printer preview` saves: both scripts of the
kiosk and Tifinagh. Laid out in an application context, without a request."""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale, format_datetime, gettext

from kiosk.printing.layout import MOMENT, Layout


def test_page_layout(site: str, url: str, moment: datetime, language: str = "fr") -> Layout:
    lines = []
    for code in ("fr", "ar"):
        with force_locale(f"{code}_MA"):
            lines.append(gettext("Printer test page: if you can read this, tickets will print."))
    lines.append("ⴰⵣⵓⵍ · ⵜⴰⵎⴰⵣⵉⵖⵜ")
    with force_locale(f"{language}_MA"):  # no request to choose a locale from
        written = format_datetime(moment, MOMENT)
    return Layout(
        kind="test",
        language=language,
        campaign="Nabd · نبض",
        site=site,
        moment=written,
        number_label="",
        number=0,
        url=url,
        lines=tuple(lines),
    )
