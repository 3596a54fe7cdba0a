"""The bundle's files as bytes: CSV a clerk opens in Excel, JSON a machine reads, and the ZIP
that holds them (plain, or AES-256 encrypted).

The same data gives the same bytes: members in a fixed order with a fixed date.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
import pyzipper
from pyzipper.zipfile_aes import AESZipInfo

from kiosk.domain.exchange.columns import Value

ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest a ZIP can hold: the same bytes every time
PASSPHRASE_MIN_LENGTH = 8


# What makes a spreadsheet (LibreOffice Calc, Excel) read a cell as a formula (OWASP's CSV
# injection guidance): such a text cell is written with a single quote before it.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"


def csv_cell(value: Value) -> str:
    """A value as a CSV cell: a text that a spreadsheet would take for a formula (a name
    `=1+1`, a phone `+212…`) gets a single quote before it, as does a text that starts with a
    quote before such a character, so that `csv_value` gives back exactly the stored text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return escape_cell(value)
    return str(value)


def escape_cell(text: str) -> str:
    if text.startswith(FORMULA_STARTS) or (
        text.startswith(ESCAPE) and text[1:2] and text[1:].startswith((*FORMULA_STARTS, ESCAPE))
    ):
        return ESCAPE + text
    return text


def csv_value(cell: str) -> str:
    """The text a cell written by `csv_cell` holds: its added quote taken off, only there."""
    if cell.startswith(ESCAPE) and cell[1:].startswith((*FORMULA_STARTS, ESCAPE)):
        return cell[1:]
    return cell


def csv_bytes(columns: Sequence[str], rows: Iterable[Mapping[str, Value]]) -> bytes:
    """UTF-8 with a BOM (Excel then reads Arabic names right), RFC 4180 quoting and line ends."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    writer.writerows([csv_cell(row[column]) for column in columns] for row in rows)
    return text.getvalue().encode("utf-8-sig")


def json_bytes(data: Any, *, floats_alike: bool | None = None) -> bytes:
    """`json.dumps(data, ensure_ascii=False, indent=2)` and a newline, in UTF-8: made by orjson,
    20 times faster and with no text copy, wherever its bytes are the same. They are but for
    floats Python writes with an exponent (below 1e-4) or not as a number (NaN, infinities),
    keys that are not strings and integers beyond 64 bits; then the json module writes them.
    `floats_alike`: the caller has already checked the floats with `floats_written_alike`."""
    if floats_alike is None:
        floats_alike = floats_written_alike(data)
    if floats_alike:
        try:
            return orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"
        except TypeError:  # orjson.JSONEncodeError: a key that is not a string, a huge integer
            pass
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def floats_written_alike(data: Any) -> bool:
    """Every float in `data` is one orjson and the json module write alike: finite, and written
    without an exponent."""
    if isinstance(data, float):
        return math.isfinite(data) and "e" not in repr(data)
    if isinstance(data, dict):
        return all(map(floats_written_alike, data.values()))
    if isinstance(data, list | tuple):
        return all(map(floats_written_alike, data))
    return True


def file_entry(content: bytes) -> dict[str, Any]:
    return {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}


def zip_bytes(files: Mapping[str, bytes], passphrase: str | None = None) -> bytes:
    """A plain ZIP, or with a passphrase one whose every member is AES-256 encrypted."""
    if passphrase is None:
        return _plain_zip(files)
    if len(passphrase) < PASSPHRASE_MIN_LENGTH:
        raise ValueError(f"a passphrase has at least {PASSPHRASE_MIN_LENGTH} characters")
    buffer = io.BytesIO()
    with pyzipper.AESZipFile(buffer, "w", encryption=pyzipper.WZ_AES) as bundle:
        bundle.setpassword(passphrase.encode("utf-8"))
        bundle.setencryption(pyzipper.WZ_AES, nbits=256)
        for name, content in files.items():
            bundle.writestr(_member_info(AESZipInfo, name), content)
    return buffer.getvalue()


def _plain_zip(files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, content in files.items():
            bundle.writestr(_member_info(zipfile.ZipInfo, name), content)
    return buffer.getvalue()


def _member_info(info_class: type[zipfile.ZipInfo], name: str) -> zipfile.ZipInfo:
    member = info_class(name, date_time=ZIP_DATE)
    member.compress_type = zipfile.ZIP_DEFLATED
    member.create_system = 3  # Unix, whatever system writes it
    member.external_attr = 0o600 << 16  # health data: readable by its owner only
    return member
