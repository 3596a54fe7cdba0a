"""`visits.xlsx` of the end-of-day bundle: the visits, the day's figures and the audit log, as a
workbook a clerk opens in Excel or LibreOffice.

Cells hold what `visits.json` holds: numbers as numbers, `first_time` as TRUE/FALSE, an empty cell
for null, and every date and time as the same ISO 8601 text as the CSV (a spreadsheet date has no
UTC offset, so text keeps the exact moment). Text is always text: a name starting with "=" is never
a formula. Cells with Arabic letters read right to left.

The same data gives the same bytes: the workbook's own dates and its inner ZIP's dates are fixed.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

VISITS_SHEET = "Visits"
SUMMARY_SHEET = "Summary"
EVENTS_SHEET = "Events"
SUMMARY_COLUMNS = ("section", "item", "value")
CAMPAIGN_SECTION = "campaign"
WORKBOOK_DATE = datetime(1980, 1, 1)  # as the bundle's ZIP dates: the same bytes every time
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
AUTHOR = "Nabd"
MIN_WIDTH, MAX_WIDTH = 6, 48  # characters
REPLACEMENT = "\ufffd"  # for the control characters a worksheet cannot hold

_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
RIGHT_TO_LEFT = Alignment(horizontal="right", readingOrder=2)
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E8E8E8")

Value = str | int | float | bool | None


def xlsx_bytes(
    campaign: Mapping[str, str],
    visit_columns: Sequence[str],
    visits: Iterable[Mapping[str, Value]],
    event_columns: Sequence[str],
    events: Iterable[Mapping[str, Value]],
    figures: Mapping[str, Mapping[str, Value]],
) -> bytes:
    workbook = Workbook()
    workbook.properties.creator = workbook.properties.lastModifiedBy = AUTHOR
    workbook.properties.created = workbook.properties.modified = WORKBOOK_DATE
    workbook.properties.title = f"{campaign['code']} {campaign['date']}"
    _fill(workbook.active, VISITS_SHEET, visit_columns, visits)
    _fill(workbook.create_sheet(), SUMMARY_SHEET, SUMMARY_COLUMNS, summary_rows(campaign, figures))
    _fill(workbook.create_sheet(), EVENTS_SHEET, event_columns, events)
    saved = io.BytesIO()
    # ExcelWriter, not workbook.save(): save() stamps the workbook as modified now.
    with zipfile.ZipFile(saved, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).save()
    return _with_fixed_dates(saved.getvalue())


def summary_rows(
    campaign: Mapping[str, str], figures: Mapping[str, Mapping[str, Value]]
) -> list[dict[str, Value]]:
    """The campaign, then every figure: one row per (section, item)."""
    sections = {CAMPAIGN_SECTION: campaign, **figures}
    return [
        {"section": section, "item": item, "value": value}
        for section, items in sections.items()
        for item, value in items.items()
    ]


def _fill(
    sheet: Worksheet, title: str, columns: Sequence[str], rows: Iterable[Mapping[str, Value]]
) -> None:
    sheet.title = title
    sheet.append(columns)
    for cell in sheet[1]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    widths = [len(column) for column in columns]
    for number, row in enumerate(rows, start=2):
        for index, column in enumerate(columns):
            cell = _put(sheet.cell(number, index + 1), row[column])
            widths[index] = max(widths[index], len(str(cell.value or "")))
    for cell, width in zip(sheet[1], widths, strict=True):
        sheet.column_dimensions[cell.column_letter].width = min(
            max(width + 2, MIN_WIDTH), MAX_WIDTH
        )
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions


def _put(cell: Cell, value: Value) -> Cell:
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub(REPLACEMENT, value)
        cell.value = value
        cell.data_type = "s"  # never a formula ("=…") nor an error code ("#N/A")
        if _ARABIC.search(value):
            cell.alignment = RIGHT_TO_LEFT
    else:
        cell.value = value
    return cell


def _with_fixed_dates(workbook: bytes) -> bytes:
    """The same members in the same order, each dated ZIP_DATE rather than now."""
    fixed = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(workbook)) as original,
        zipfile.ZipFile(fixed, "w") as copy,
    ):
        for info in original.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.create_system = 3  # Unix, whatever system writes it
            member.external_attr = 0o600 << 16
            copy.writestr(member, original.read(info))
    return fixed.getvalue()
