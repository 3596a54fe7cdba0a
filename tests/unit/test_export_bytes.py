"""The fast ways of writing the bundle write the bytes the plain ways wrote: `json_bytes` (orjson)
those of `json.dumps(…, indent=2)`, `fhir_json` (entry by entry) those of the whole Bundle
dumped at once, `xlsx_bytes` (a write-only workbook) those of the workbook held in memory. The
references are the plain ways themselves, kept here, so any difference shows."""

from __future__ import annotations

import io
import json
import zipfile

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.writer.excel import ExcelWriter

from kiosk.db import db
from kiosk.domain.exchange import xlsx as export_xlsx
from kiosk.domain.exchange.columns import (
    EVENT_COLUMNS,
    FHIR_JSON,
    MANIFEST,
    VISIT_COLUMNS,
    VISITS_XLSX,
)
from kiosk.domain.exchange.fhir import count_resources, fhir_bundle, fhir_json
from kiosk.domain.exchange.figures import session_figures
from kiosk.domain.exchange.files import floats_written_alike, json_bytes
from kiosk.domain.exchange.rows import campaign_summary, event_rows, visit_rows
from kiosk.models import Campaign
from tests.support.factories import CAMPAIGN_DAY
from tests.support.simulated_day import ZONE, bundle_of, members


def dumped(data) -> bytes:
    """How the bundle's JSON files were written before orjson."""
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()  # beyond 64 bits too
    | st.floats()  # NaN, infinities, 5e-324, 1e-05: where orjson writes otherwise
    | st.floats(min_value=30, max_value=250)  # the measurements
    | st.text(),  # control characters, quotes, backslashes, Arabic, U+2028
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_json_bytes_are_those_of_json_dumps(data):
    assert json_bytes(data) == dumped(data)


@given(st.dictionaries(st.integers() | st.booleans() | st.none(), st.integers(), min_size=1))
def test_keys_that_are_not_strings_are_written_as_json_dumps_writes_them(data):
    assert json_bytes(data) == dumped(data)


def test_which_floats_orjson_writes_alike():
    assert floats_written_alike({"a": [55.5, 12.0, 1e15, 0.0001, 0, "1e-05", None]})
    assert not floats_written_alike({"a": [55.5, {"b": 1e-05}]})
    assert not floats_written_alike([float("nan")])
    assert not floats_written_alike((float("inf"),))


def test_fhir_json_is_the_whole_bundle_dumped_at_once(app, answered_day):
    campaign_id, _ = answered_day
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        rows = visit_rows(db.session, campaign, CAMPAIGN_DAY, ZONE)
        whole = fhir_bundle(db.session, campaign_id, CAMPAIGN_DAY, rows, ZONE)
        content, types = fhir_json(db.session, campaign_id, CAMPAIGN_DAY, rows, ZONE)
        assert content == dumped(whole)
        assert types == count_resources(whole)
        assert "QuestionnaireResponse" in types  # Fatima's answers are in it
        files = members(bundle_of(campaign_id))
    assert files[FHIR_JSON] == content
    assert json.loads(files[MANIFEST])["counts"]["fhir_resources"] == types


def test_fhir_json_of_a_day_without_visits(app, answered_day):
    campaign_id, _ = answered_day
    with app.app_context():
        whole = fhir_bundle(db.session, campaign_id, CAMPAIGN_DAY, [], ZONE)
        content, types = fhir_json(db.session, campaign_id, CAMPAIGN_DAY, [], ZONE)
    assert content == dumped(whole)
    assert types == {}


# --- visits.xlsx: written row by row, the bytes of the workbook held whole in memory ------------


def workbook_held_in_memory(campaign, visit_columns, visit_list, event_columns, events, figures):
    """How visits.xlsx was written before the write-only workbook: every cell in memory."""
    workbook = Workbook()
    workbook.properties.creator = workbook.properties.lastModifiedBy = export_xlsx.AUTHOR
    workbook.properties.created = workbook.properties.modified = export_xlsx.WORKBOOK_DATE
    workbook.properties.title = f"{campaign['code']} {campaign['date']}"
    summary = export_xlsx.summary_rows(campaign, figures)
    fill_in_memory(workbook.active, "Visits", visit_columns, visit_list)
    fill_in_memory(workbook.create_sheet(), "Summary", export_xlsx.SUMMARY_COLUMNS, summary)
    fill_in_memory(workbook.create_sheet(), "Events", event_columns, events)
    saved = io.BytesIO()
    with zipfile.ZipFile(saved, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).save()
    return export_xlsx._with_fixed_dates(saved.getvalue())


def fill_in_memory(sheet, title, columns, rows):
    sheet.title = title
    sheet.append(columns)
    for cell in sheet[1]:
        cell.font, cell.fill = export_xlsx.HEADER_FONT, export_xlsx.HEADER_FILL
    widths = [len(column) for column in columns]
    for number, row in enumerate(rows, start=2):
        for index, column in enumerate(columns):
            cell = sheet.cell(number, index + 1)
            value = row[column]
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub(export_xlsx.REPLACEMENT, value)
                cell.value = value
                cell.data_type = "s"
                if export_xlsx._ARABIC.search(value):
                    cell.alignment = export_xlsx.RIGHT_TO_LEFT
            else:
                cell.value = value
            widths[index] = max(widths[index], len(str(cell.value or "")))
    for cell, width in zip(sheet[1], widths, strict=True):
        sheet.column_dimensions[cell.column_letter].width = min(max(width + 2, 6), 48)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    export_xlsx._print_settings(sheet)


CAMPAIGN = {"code": "KHE-2026-11-24", "date": "2026-11-24", "site": "Khénifra"}


def test_the_workbook_of_a_day_is_the_one_held_in_memory(app, answered_day):
    campaign_id, _ = answered_day
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        rows = visit_rows(db.session, campaign, CAMPAIGN_DAY, ZONE)
        events = event_rows(db.session, campaign_id, CAMPAIGN_DAY, ZONE)
        summary = campaign_summary(campaign, CAMPAIGN_DAY)
        content = members(bundle_of(campaign_id))[VISITS_XLSX]
    arguments = (summary, VISIT_COLUMNS, rows, EVENT_COLUMNS, events, session_figures(rows))
    assert content == export_xlsx.xlsx_bytes(*arguments)
    assert content == workbook_held_in_memory(*arguments)


def test_awkward_cells_are_written_as_in_memory():
    awkward = [
        "=HYPERLINK(1)",
        "=",
        "#N/A",
        "#DIV/0!",
        "dr\x07x",
        "فاطمة",
        "Zahra العلوي",
        "x" * 60,
        "",
        " padded ",
        "a\nb",
        None,
        0,
        0.0,
        55.5,
        -3,
        True,
        False,
    ]
    awkward_visits = [
        {
            column: awkward[(number + index) % len(awkward)]
            for index, column in enumerate(VISIT_COLUMNS)
        }
        for number in range(len(awkward))
    ]
    events = [dict.fromkeys(EVENT_COLUMNS), *[dict(zip(EVENT_COLUMNS, awkward, strict=False))]]
    figures = {"visits": {"registered": 3, "median": 7.5}, "waiting": {"median_wait_minutes": None}}
    arguments = (CAMPAIGN, VISIT_COLUMNS, awkward_visits, EVENT_COLUMNS, events, figures)
    assert export_xlsx.xlsx_bytes(*arguments) == workbook_held_in_memory(*arguments)
    empty = (CAMPAIGN, VISIT_COLUMNS, [], EVENT_COLUMNS, iter([]), {})
    assert export_xlsx.xlsx_bytes(*empty) == workbook_held_in_memory(*empty)
