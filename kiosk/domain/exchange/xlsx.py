"""`visits.xlsx` of the end-of-day bundle: the visits, the day's figures and the audit log, as a
workbook a clerk opens in Excel or LibreOffice.

Cells hold what `visits.json` holds: numbers as numbers, `first_time` as TRUE/FALSE, an empty cell
for null, and every date and time as the same ISO 8601 text as the CSV (a spreadsheet date has no
UTC offset, so text keeps the exact moment). Text is always text: a name starting with "=" is never
a formula. Cells with Arabic letters read right to left.

Printed, every sheet is A4 landscape and fits the page's width (as many pages down as it takes),
with its header row repeated at the top of every page.

The same data gives the same bytes: the workbook's own dates and its inner ZIP's dates are fixed.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
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
    # Write-only: each row goes to the sheet's file as it is added, and no cell stays in memory.
    workbook = Workbook(write_only=True)
    workbook.properties.creator = workbook.properties.lastModifiedBy = AUTHOR
    workbook.properties.created = workbook.properties.modified = WORKBOOK_DATE
    workbook.properties.title = f"{campaign['code']} {campaign['date']}"
    _fill(workbook.create_sheet(VISITS_SHEET), visit_columns, visits)
    _fill(workbook.create_sheet(SUMMARY_SHEET), SUMMARY_COLUMNS, summary_rows(campaign, figures))
    _fill(workbook.create_sheet(EVENTS_SHEET), event_columns, events)
    saved = io.BytesIO()
    # ExcelWriter, not workbook.save(): save() stamps the workbook as modified now. Stored, not
    # compressed: _with_fixed_dates compresses every member anyway.
    with zipfile.ZipFile(saved, "w", zipfile.ZIP_STORED) as archive:
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
    sheet: WriteOnlyWorksheet,
    columns: Sequence[str],
    rows: Iterable[Mapping[str, Value]],
) -> None:
    """Widths, frozen header, size, filter and print settings are set before the first row: a
    write-only sheet writes its top part then."""
    rows = rows if isinstance(rows, Sequence) else list(rows)
    for letter, width in zip(_letters(len(columns)), _widths(columns, rows), strict=True):
        sheet.column_dimensions[letter].width = min(max(width + 2, MIN_WIDTH), MAX_WIDTH)
    sheet.freeze_panes = "A2"
    dimension = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
    # The <dimension> element a sheet held in memory writes from its cells: the writer writes it
    # for any sheet that can tell it.
    sheet.calculate_dimension = lambda: dimension
    sheet.auto_filter.ref = dimension
    _print_settings(sheet)
    sheet.append([_header_cell(sheet, column) for column in columns])
    for row in rows:
        sheet.append([_cell(sheet, row[column]) for column in columns])


def _print_settings(sheet: WriteOnlyWorksheet) -> None:
    """A4 landscape, the width of one page (fitToHeight 0: as many pages down as the rows need),
    the header row printed at the top of every page."""
    sheet.print_title_rows = "1:1"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4  # Morocco's paper, whatever the locale
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def _letters(count: int) -> list[str]:
    return [get_column_letter(index) for index in range(1, count + 1)]


def _widths(columns: Sequence[str], rows: Sequence[Mapping[str, Value]]) -> list[int]:
    """The longest text of each column (a 0, FALSE or empty cell counts as none)."""
    return [
        max([len(column), *(len(str(row[column] or "")) for row in rows)]) for column in columns
    ]


def _header_cell(sheet: WriteOnlyWorksheet, column: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, column)
    cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    return cell


def _cell(sheet: WriteOnlyWorksheet, value: Value) -> Value | WriteOnlyCell:
    """The value itself where the sheet writes it as we want; else a cell that says how."""
    if value is None:
        return WriteOnlyCell(sheet)  # an empty <c/>, not a missing one: the cells of every row
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub(REPLACEMENT, value)
    arabic = _ARABIC.search(value)
    if not (arabic or value.startswith("=") or value in ERROR_CODES):
        return value
    cell = WriteOnlyCell(sheet, value)
    cell.data_type = "s"  # never a formula ("=…") nor an error code ("#N/A")
    if arabic:
        cell.alignment = RIGHT_TO_LEFT
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
