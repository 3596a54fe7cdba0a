"""The QR code of a ticket, as inline SVG (no image file, no script, prints sharply).

qrcode encodes; the SVG is drawn here from its matrix, one path segment per run of dark modules
in a row. qrcode's own SVG factories draw every module as its own rectangle: five times the
bytes and most of a ticket page's time. A given URL always gives the same code, and a ticket's
URL never changes, so codes are kept once drawn (the ticket shown again, the staff join code).
"""

from __future__ import annotations

from functools import lru_cache
from itertools import groupby

import qrcode

BORDER = 4  # the quiet zone scanners need, in modules


@lru_cache(maxsize=512)
def qr_svg(data: str) -> str:
    """SVG markup for `data`, error correction M, with the quiet zone; one millimetre a module."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=BORDER)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()  # with the quiet zone around it
    size = len(matrix)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{size}mm" '
        f'height="{size}mm" viewBox="0 0 {size} {size}" shape-rendering="crispEdges">'
        f'<path fill="#000000" d="{dark_runs_path(matrix)}"/></svg>'
    )


def dark_runs_path(matrix: list[list[bool]]) -> str:
    """`M x,y h n v1 h-n z` for each horizontal run of dark modules."""
    segments = []
    for y, row in enumerate(matrix):
        x = 0
        for dark, run in groupby(row):
            length = sum(1 for _ in run)
            if dark:
                segments.append(f"M{x},{y}h{length}v1h-{length}z")
            x += length
    return "".join(segments)
