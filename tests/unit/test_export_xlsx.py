"""`visits.xlsx` read back with openpyxl equals `visits.json`; its summary equals the manifest's
figures; its bytes do not depend on when it was written; the manifest's figures are verified."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from kiosk.domain.exchange.columns import (
    EVENT_COLUMNS,
    EVENTS_CSV,
    MANIFEST,
    VISIT_COLUMNS,
    VISITS_JSON,
    VISITS_XLSX,
)
from kiosk.domain.exchange.figures import session_figures
from kiosk.domain.exchange.files import file_entry
from kiosk.domain.exchange.verify import verify_bundle
from kiosk.domain.exchange.xlsx import ZIP_DATE, xlsx_bytes
from tests.support.simulated_day import (
    GENERATED,
    bundle_of,
    csv_dicts,
    members,
    rezip,
)

CAMPAIGN = {
    "code": "KHE-2026-11-24",
    "name": "Don de sang",
    "site": "Khénifra",
    "date": "2026-11-24",
    "regional_centre": "CRTS Meknès",
}


def workbook_of(content: bytes):
    return load_workbook(io.BytesIO(content))


def sheet_rows(sheet) -> list[tuple]:
    return list(sheet.iter_rows(values_only=True))


def as_dicts(sheet) -> list[dict]:
    header, *rows = sheet_rows(sheet)
    return [dict(zip(header, row, strict=True)) for row in rows]


@pytest.fixture
def bundle(campaign_id):  # noqa: F811
    files = members(bundle_of(campaign_id))
    return files, workbook_of(files[VISITS_XLSX]), json.loads(files[MANIFEST])


def test_three_sheets_with_frozen_headers_and_widths(bundle):
    _, workbook, _ = bundle
    assert workbook.sheetnames == ["Visits", "Summary", "Events"]
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == "A2"
        assert all(cell.font.bold for cell in sheet[1])
        widths = [sheet.column_dimensions[cell.column_letter].width for cell in sheet[1]]
        assert all(6 <= width <= 48 for width in widths), (sheet.title, widths)
    visits = workbook["Visits"]
    assert [cell.value for cell in visits[1]] == list(VISIT_COLUMNS)
    first_name = visits.column_dimensions["H"]
    assert first_name.width == len("first_name") + 2


def test_every_sheet_prints_landscape_fit_to_width_with_its_header_on_every_page(bundle):
    _, workbook, _ = bundle
    for sheet in workbook.worksheets:
        assert sheet.print_title_rows == "$1:$1", sheet.title
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.page_setup.paperSize == int(sheet.PAPERSIZE_A4)  # 9: A4
        assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
        # One page wide, as many pages down as the rows need.
        assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)


def test_the_visits_sheet_read_back_equals_the_json(bundle):
    files, workbook, _ = bundle
    visits = json.loads(files[VISITS_JSON])["visits"]
    rows = as_dicts(workbook["Visits"])
    assert len(rows) == len(visits) == 3
    assert rows == visits
    for row, visit in zip(rows, visits, strict=True):  # the same types, not only equal values
        assert {key: type(value) for key, value in row.items()} == {
            key: int if type(value) is float and value.is_integer() else type(value)
            for key, value in visit.items()
        }


def test_whole_floats_come_back_as_numbers_equal_to_the_json(bundle):
    """68.0 kg is stored as the number 68; it reads back as 68, equal to JSON's 68.0."""
    _, workbook, _ = bundle
    fatima = as_dicts(workbook["Visits"])[0]
    assert fatima["weight_kg"] == 68.0 and fatima["hemoglobin_g_dl"] == 13.1
    assert fatima["first_time"] is True and fatima["queue_number"] == 1
    assert fatima["registered_at"] == "2026-11-24T09:31:00+00:00"  # ISO text, as the CSV
    assert fatima["phone"] == "+212612345678"  # text: the + stays


def test_the_events_sheet_equals_events_csv(bundle):
    files, workbook, _ = bundle
    sheet = workbook["Events"]
    assert [cell.value for cell in sheet[1]] == list(EVENT_COLUMNS)
    as_text = [
        {key: "" if value is None else str(value) for key, value in row.items()}
        for row in as_dicts(sheet)
    ]
    assert as_text == csv_dicts(files[EVENTS_CSV])


def test_the_summary_equals_the_manifest_figures(bundle):
    files, workbook, manifest = bundle
    rows = as_dicts(workbook["Summary"])
    campaign = {row["item"]: row["value"] for row in rows if row["section"] == "campaign"}
    assert campaign == manifest["campaign"]
    figures: dict = {}
    for row in rows:
        if row["section"] != "campaign":
            figures.setdefault(row["section"], {})[row["item"]] = row["value"]
    assert figures == manifest["figures"]
    assert list(figures) == list(manifest["figures"])
    visits = json.loads(files[VISITS_JSON])["visits"]
    assert manifest["figures"] == session_figures(visits)
    assert manifest["figures"]["visits"] == {
        "registered": 3,
        "interviewed": 2,
        "accepted": 1,
        "deferred": 1,
    }
    assert manifest["figures"]["arrivals_per_hour"] == {"09:00": 3}
    assert manifest["figures"]["median_wait_per_hour"] == {"09:00": 13.5}


def test_arabic_cells_read_right_to_left_and_others_do_not(bundle):
    _, workbook, _ = bundle
    sheet = workbook["Visits"]
    header = [cell.value for cell in sheet[1]]
    fatima = {name: cell for name, cell in zip(header, sheet[2], strict=True)}
    for name in ("first_name", "last_name"):
        assert fatima[name].alignment.readingOrder == 2
        assert fatima[name].alignment.horizontal == "right"
    assert fatima["site"].alignment.readingOrder == 0
    youssef = {name: cell for name, cell in zip(header, sheet[3], strict=True)}
    assert youssef["last_name"].value == 'Amrani, dit "Jo"'
    assert youssef["last_name"].alignment.readingOrder == 0


def test_the_same_data_gives_the_same_workbook_at_any_time(campaign_id, monkeypatch):  # noqa: F811
    morning = members(bundle_of(campaign_id, now=GENERATED))[VISITS_XLSX]
    later = GENERATED + timedelta(hours=3)
    monkeypatch.setattr("time.time", lambda: later.timestamp())  # what ZIP dates are read from
    evening = members(bundle_of(campaign_id, now=later))[VISITS_XLSX]
    assert morning == evening
    with zipfile.ZipFile(io.BytesIO(morning)) as inner:
        assert {info.date_time for info in inner.infolist()} == {ZIP_DATE}
        core = inner.read("docProps/core.xml").decode()
    assert core.count("1980-01-01T00:00:00Z") == 2  # created and modified, never now
    properties = workbook_of(morning).properties
    assert properties.creator == "Nabd"


def test_text_is_never_a_formula_and_control_characters_do_not_break_the_file():
    visit = dict.fromkeys(VISIT_COLUMNS)
    visit.update(last_name="=HYPERLINK(1)", first_name="#N/A", interviewer="dr\x07x", age=30)
    content = xlsx_bytes(CAMPAIGN, VISIT_COLUMNS, [visit], EVENT_COLUMNS, [], {})
    row = as_dicts(workbook_of(content)["Visits"])[0]
    assert row["last_name"] == "=HYPERLINK(1)" and row["first_name"] == "#N/A"
    assert row["interviewer"] == "dr\ufffdx"
    with zipfile.ZipFile(io.BytesIO(content)) as inner:
        sheet = inner.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet


def test_an_empty_day_still_has_its_headers():
    figures = session_figures([])
    content = xlsx_bytes(CAMPAIGN, VISIT_COLUMNS, [], EVENT_COLUMNS, [], figures)
    workbook = workbook_of(content)
    assert sheet_rows(workbook["Visits"]) == [tuple(VISIT_COLUMNS)]
    assert sheet_rows(workbook["Events"]) == [tuple(EVENT_COLUMNS)]
    summary = as_dicts(workbook["Summary"])
    waiting = [row for row in summary if row["section"] == "waiting"]
    assert waiting == [
        {"section": "waiting", "item": "called", "value": 0},
        {"section": "waiting", "item": "median_wait_minutes", "value": None},
    ]


# --- the manifest's figures, verified -------------------------------------------------------


def test_figures_that_disagree_with_the_visits_fail(campaign_id):  # noqa: F811
    bundle = bundle_of(campaign_id)
    manifest = json.loads(members(bundle)[MANIFEST])
    manifest["figures"]["bags"]["complete"] = 2
    report = verify_bundle(rezip(bundle, **{MANIFEST: json.dumps(manifest).encode()}))
    assert report.problems == ["the manifest's figures are not those of the visits in visits.json"]


def test_a_manifest_without_figures_still_verifies(campaign_id):  # noqa: F811
    """Bundles written before the figures came along stay readable."""
    bundle = bundle_of(campaign_id)
    manifest = json.loads(members(bundle)[MANIFEST])
    del manifest["figures"]
    assert verify_bundle(rezip(bundle, **{MANIFEST: json.dumps(manifest).encode()})).ok


def test_visits_whose_figures_cannot_be_counted_are_a_problem_not_a_crash(campaign_id):  # noqa: F811
    bundle = bundle_of(campaign_id)
    files = members(bundle)
    document = json.loads(files[VISITS_JSON])
    document["visits"][0]["registered_at"] = "not a time"
    content = json.dumps(document).encode()
    manifest = json.loads(files[MANIFEST])
    manifest["files"][VISITS_JSON] = file_entry(content)
    changed = rezip(bundle, **{VISITS_JSON: content, MANIFEST: json.dumps(manifest).encode()})
    report = verify_bundle(changed)
    assert len(report.problems) == 1
    assert report.problems[0].startswith("visits.json holds visits whose figures cannot be counted")


def test_an_older_manifest_with_fewer_sections_or_values_still_verifies(campaign_id):  # noqa: F811
    """A later Nabd may count more; what an older bundle counted must still agree."""
    bundle = bundle_of(campaign_id)
    manifest = json.loads(members(bundle)[MANIFEST])
    del manifest["figures"]["median_wait_per_hour"]
    del manifest["figures"]["adverse_events"]["allergy"]  # 0 that day: not known back then
    older = rezip(bundle, **{MANIFEST: json.dumps(manifest).encode()})
    assert verify_bundle(older).ok
    del manifest["figures"]["bags"]["complete"]  # 1 that day: a figure left out is a problem
    report = verify_bundle(rezip(bundle, **{MANIFEST: json.dumps(manifest).encode()}))
    assert report.problems == ["the manifest's figures are not those of the visits in visits.json"]


@pytest.mark.parametrize(
    "figures", [[], {"bags": []}, {"bags": {"complete": "1"}}, {"nope": {"x": 1}}]
)
def test_figures_of_the_wrong_shape_are_a_problem(campaign_id, figures):  # noqa: F811
    bundle = bundle_of(campaign_id)
    manifest = json.loads(members(bundle)[MANIFEST])
    manifest["figures"] = figures
    report = verify_bundle(rezip(bundle, **{MANIFEST: json.dumps(manifest).encode()}))
    assert report.problems == ["the manifest's figures are not those of the visits in visits.json"]
