"""The bundle's CSV and XLSX opened by a real spreadsheet: LibreOffice Calc, headless.

`soffice --headless --convert-to xlsx` opens each file as Calc opens it for a clerk and saves it
as a workbook, which openpyxl reads back: a cell Calc took for a formula is saved as one. The
day has what a spreadsheet gets wrong: a desk named `=1+1`, a bag number typed `=1+1`, phones
`+212…` and a bag number with leading zeros (`0000001`).

- visits.csv and events.csv, opened with the import options docs/bundle-format.md gives the
  clerk (UTF-8, comma, every column Text, formulas not evaluated): every cell is text, exactly the
  CSV's cell, so phones keep their `+` and bag numbers their zeros; a cell Nabd escaped shows
  its quote before the value.
- The same CSV opened with no options at all (a double click): still no formula anywhere, because
  Nabd escapes every cell that starts like one (what goes wrong then is only the
  encoding and the zeros, which is why the docs give the options).
- visits.xlsx opened as it is: no formula, phones and bag numbers as text.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from kiosk import create_app
from kiosk.db import db
from kiosk.domain.campaigns import CampaignDetails, open_campaign
from kiosk.domain.exchange.bundle import build_bundle
from kiosk.domain.exchange.columns import (
    EVENT_COLUMNS,
    EVENTS_CSV,
    VISIT_COLUMNS,
    VISITS_CSV,
    VISITS_XLSX,
)
from kiosk.domain.exchange.files import csv_value
from kiosk.domain.queue import add_desk, call_next
from kiosk.domain.registration import Context, register
from tests.support.venue_day import (
    DOCTOR,
    KIOSK,
    NURSE,
    VENUE_KEY,
    ZONE,
    Clock,
    _collect,
    _interview,
    person,
)

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        SOFFICE is None,
        reason="LibreOffice is missing: `make libreoffice` (run by `make test` as root) "
        "installs Debian's libreoffice-calc-nogui",
    ),
]
DAY = date(2026, 11, 24)
DESK = "=1+1"
BAGS = {1: "0000001", 2: "=1+1", 3: "0000300"}  # queue number -> bag number as typed
KINDS = {1: "complete", 2: "complete", 3: "partial", 4: "deferred_temporary", 5: "waiting"}
DOCUMENTED_COLUMNS = 40  # the docs' command line makes columns 1 to 40 Text
CONVERT_TIMEOUT = 300  # seconds: a stuck-process guard on a loaded machine, not a timing


def calc_csv_options(columns: int) -> str:
    """The import options docs/bundle-format.md tells the clerk to choose, as Calc's CSV filter
    takes them: comma (44), double quote (34), UTF-8 (76), from line 1, every column Text (2),
    language 0, quoted fields not specially typed, no special numbers, …, formulas not
    evaluated (the 13th token)."""
    as_text = "/".join(f"{column}/2" for column in range(1, columns + 1))
    return f"CSV:44,34,76,1,{as_text},0,false,false,false,false,false,-1,false"


def convert(files: list[Path], out: Path, profile: Path, infilter: str | None = None) -> None:
    """Calc opens each file and saves it as a workbook in `out`, with a private profile."""
    command = [
        SOFFICE,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
    ]
    if infilter:
        command.append(f"--infilter={infilter}")
    command += ["--convert-to", "xlsx", "--outdir", str(out), *map(str, files)]
    done = subprocess.run(  # noqa: S603 (our own arguments)
        command, capture_output=True, text=True, timeout=CONVERT_TIMEOUT, check=False
    )
    for file in files:
        assert (out / f"{file.stem}.xlsx").exists(), (done.returncode, done.stdout, done.stderr)


def the_day(folder: Path) -> bytes:
    """A short day on a fresh venue: the interview desk is named `=1+1`, the bags typed
    `0000001`, `=1+1` and `0000300`, every donor has a phone `+2126…`."""
    clock = Clock(datetime(2026, 11, 24, 8, 0, tzinfo=UTC))
    app = create_app(
        {
            "INSTANCE": folder,
            "CLOCK": clock,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'venue.sqlite3'}",
        }
    )
    with app.app_context():
        try:
            details = CampaignDetails("Don de sang", "Khénifra", DAY, "CRTS")
            campaign = open_campaign(db.session, details, clock())
            for serial in KINDS:
                context = Context(campaign.id, DAY, clock(), "fr", KIOSK)
                register(db.session, person(serial), f"day-{serial}", context)
            interview = add_desk(db.session, DESK, "interview")
            for _ in range(len(KINDS) - 1):
                visit = call_next(db.session, campaign.id, interview, DOCTOR, clock())
                _interview(visit.id, KINDS[visit.queue_number], interview, DAY, clock)
            chair = add_desk(db.session, "+ Fauteuil 1", "collection")
            while (visit := call_next(db.session, campaign.id, chair, NURSE, clock())) is not None:
                number = visit.queue_number
                _collect(visit.id, KINDS[number], BAGS[number], DAY, clock)
            return build_bundle(db.session, campaign.id, DAY, clock(), ZONE, None, VENUE_KEY)
        finally:
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="module")
def opened(tmp_path_factory):
    """The bundle's files, and the workbooks Calc saved from them: with the docs' options
    (`calc`, `calc-xlsx`), and for the CSVs also without any (`plain`)."""
    folder = tmp_path_factory.mktemp("calc")
    (folder / "venue").mkdir()
    with zipfile.ZipFile(io.BytesIO(the_day(folder / "venue"))) as bundle:
        files = {name: bundle.read(name) for name in (VISITS_CSV, EVENTS_CSV, VISITS_XLSX)}
    for name, content in files.items():
        (folder / name).write_bytes(content)
    csvs = [folder / VISITS_CSV, folder / EVENTS_CSV]
    profile = folder / "profile"
    assert max(len(VISIT_COLUMNS), len(EVENT_COLUMNS)) <= DOCUMENTED_COLUMNS
    options = calc_csv_options(DOCUMENTED_COLUMNS)
    convert(csvs, folder / "calc", profile, options)
    convert([folder / VISITS_XLSX], folder / "calc-xlsx", profile)
    convert(csvs, folder / "plain", profile)
    return files, folder


def cells(path: Path) -> dict[str, list[list]]:
    """Every sheet's rows of cells (not values: a cell says whether it is a formula)."""
    workbook = load_workbook(path)
    return {sheet.title: [list(row) for row in sheet.iter_rows()] for sheet in workbook}


def csv_cells(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


# Calc keeps a TRUE/FALSE cell as a number shown as a boolean, and writes it to a workbook as
# the formula TRUE() or FALSE() with its value: Calc's way to store a boolean, not our data.
CALC_BOOLEANS = {"=TRUE()": True, "=FALSE()": False}


def no_formula(rows: list[list], booleans: bool = False) -> None:
    """No cell is a formula (but, where `booleans`, Calc's own TRUE() and FALSE())."""
    formulas = [
        (cell.coordinate, cell.value)
        for row in rows
        for cell in row
        if cell.data_type == "f" and not (booleans and cell.value in CALC_BOOLEANS)
    ]
    assert formulas == []


def value(cell):
    return CALC_BOOLEANS[cell.value] if cell.data_type == "f" else cell.value


@pytest.mark.parametrize("name", [VISITS_CSV, EVENTS_CSV])
def test_the_csv_opened_as_the_docs_say_is_text_cell_for_cell(opened, name):
    files, folder = opened
    (rows,) = cells(folder / "calc" / f"{Path(name).stem}.xlsx").values()
    no_formula(rows)
    assert all(cell.data_type == "s" or cell.value is None for row in rows for cell in row)
    shown = [[cell.value if cell.value is not None else "" for cell in row] for row in rows]
    expected = csv_cells(files[name])
    # Calc leaves trailing empty cells out: compare each row padded to the header's width.
    shown = [row + [""] * (len(expected[0]) - len(row)) for row in shown]
    assert shown == expected


def test_phones_and_bag_numbers_keep_their_plus_and_zeros(opened):
    _, folder = opened
    (rows,) = cells(folder / "calc" / "visits.xlsx").values()
    header = [cell.value for cell in rows[0]]
    visits = [dict(zip(header, [cell.value for cell in row], strict=False)) for row in rows[1:]]
    phones = [csv_value(visit["phone"]) for visit in visits]
    assert phones == [f"+2126{serial:08d}" for serial in KINDS]
    assert [visit["phone"] for visit in visits][0] == "'+212600000001"  # Nabd's escape, shown
    bags = [visit["bag_number"] for visit in visits if visit["bag_number"]]
    assert bags == ["0000001", "1+1", "0000300"]  # a scanned "=" is not part of the number


def test_the_desk_named_like_a_formula_stays_text(opened):
    _, folder = opened
    for kind in ("calc", "plain"):
        (rows,) = cells(folder / kind / "events.xlsx").values()
        header = [cell.value for cell in rows[0]]
        desks = {row[header.index("desk")].value for row in rows[1:]}
        assert "'=1+1" in desks, kind
        assert 2 not in desks and "=1+1" not in desks


@pytest.mark.parametrize("name", [VISITS_CSV, EVENTS_CSV])
def test_the_csv_opened_with_no_options_has_no_formula_either(opened, name):
    """A double click: Calc guesses. The escape keeps every cell from being a formula; the
    options of the docs are what keeps the zeros and the letters."""
    _, folder = opened
    (rows,) = cells(folder / "plain" / f"{Path(name).stem}.xlsx").values()
    no_formula(rows)
    values = [cell.value for row in rows for cell in row]
    assert "'+212600000001" in values or name == EVENTS_CSV
    if name == VISITS_CSV:  # what the docs' options are for
        assert 1 in values and "0000001" not in values


def test_the_xlsx_opened_as_it_is_keeps_every_value(opened):
    _, folder = opened
    original = cells_of_bytes(opened[0][VISITS_XLSX])
    saved = cells(folder / "calc-xlsx" / "visits.xlsx")
    for rows in saved.values():
        no_formula(rows, booleans=True)
    visits = saved["Visits"]
    header = [cell.value for cell in visits[0]]
    phones = [row[header.index("phone")] for row in visits[1:]]
    assert [(cell.value, cell.data_type) for cell in phones] == [
        (f"+2126{serial:08d}", "s") for serial in KINDS
    ]
    bags = [row[header.index("bag_number")].value for row in visits[1:]]
    assert [bag for bag in bags if bag] == ["0000001", "1+1", "0000300"]
    events = saved["Events"]
    desk = [cell.value for cell in events[0]].index("desk")
    assert DESK in {row[desk].value for row in events[1:] if len(row) > desk}
    assert values_of(saved) == values_of(original)


def cells_of_bytes(content: bytes) -> dict[str, list[list]]:
    workbook = load_workbook(io.BytesIO(content))
    return {sheet.title: [list(row) for row in sheet.iter_rows()] for sheet in workbook}


def values_of(sheets: dict[str, list[list]]) -> dict[str, list[list]]:
    """Each sheet's values, trailing empty cells left out (Calc does not write them)."""
    found = {}
    for title, rows in sheets.items():
        values = []
        for row in rows:
            row_values = [value(cell) for cell in row]
            while row_values and row_values[-1] is None:
                row_values.pop()
            values.append(row_values)
        found[title] = values
    return found


def test_the_options_are_those_the_docs_give():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "bundle-format.md").read_text("utf-8")
    as_text = "/".join(f"{column}/2" for column in range(1, DOCUMENTED_COLUMNS + 1))
    assert f'--infilter="{calc_csv_options(DOCUMENTED_COLUMNS).replace(as_text, "$text")}"' in docs
    assert f"seq -s/ 1 {DOCUMENTED_COLUMNS} |" in docs
