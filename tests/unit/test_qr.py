"""The ticket's QR code: drawn from qrcode's matrix as runs of dark modules, read back by a
scanner library, and drawn once per URL."""

from __future__ import annotations

import re

import pytest

from kiosk.printing.qr import BORDER, dark_runs_path, qr_svg

_RUN = re.compile(r"M(\d+),(\d+)h(\d+)v1h-(\d+)z")
URL = "http://192.168.1.20:5000/t/AbCdEfGhIjKlMnOpQrStUvWxYz012345"


def dark_modules(svg: str) -> tuple[int, set[tuple[int, int]]]:
    size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    path = re.search(r' d="([^"]*)"', svg).group(1)
    runs = _RUN.findall(path)
    assert "".join(f"M{x},{y}h{n}v1h-{m}z" for x, y, n, m in runs) == path
    cells = set()
    for x, y, length, back in runs:
        assert length == back
        cells |= {(int(x) + i, int(y)) for i in range(int(length))}
    return size, cells


@pytest.mark.parametrize(
    ("matrix", "path"),
    [
        ([[False, False], [False, False]], ""),
        ([[True, True, False, True]], "M0,0h2v1h-2zM3,0h1v1h-1z"),
        ([[False], [True]], "M0,1h1v1h-1z"),
    ],
)
def test_each_run_of_dark_modules_is_one_segment(matrix, path):
    assert dark_runs_path(matrix) == path


def test_the_svg_is_a_scannable_code_of_the_url_with_its_quiet_zone():
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    size, cells = dark_modules(qr_svg.__wrapped__(URL))
    assert all(BORDER <= x < size - BORDER and BORDER <= y < size - BORDER for x, y in cells)
    scale = 8
    image = Image.new("L", (size * scale, size * scale), 255)
    for x, y in cells:
        image.paste(0, (x * scale, y * scale, (x + 1) * scale, (y + 1) * scale))
    assert [code.text for code in zxingcpp.read_barcodes(image)] == [URL]


def test_a_url_is_drawn_once():
    qr_svg.cache_clear()
    first = qr_svg(URL)
    assert qr_svg(URL) is first
    assert qr_svg.cache_info().hits == 1
    assert qr_svg(URL + "x") != first
