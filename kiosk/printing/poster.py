"""The A4 poster inviting donors to register on their own phones: in each language a title and the
three steps, then one large QR code to the phone registration, its address and the venue Wi-Fi's
name. Drawn with the thermal tickets' text renderer (Arabic shaped, Tifinagh, Latin) and saved as
a one-page PDF that any printer at the prefecture can print."""

from __future__ import annotations

import io
from dataclasses import dataclass

import qrcode
from PIL import Image

from kiosk.printing.text import Line, render_block

DPI = 150
A4 = (1240, 1754)  # 210 × 297 mm at 150 dots per inch
MARGIN = 90
GAP = 40
SMALLEST_QR = 360


@dataclass(frozen=True)
class PosterText:
    """One language's words on the poster."""

    title: str
    steps: tuple[str, ...]


def poster_pdf(texts: list[PosterText], url: str, wifi_line: str, font_path: str) -> bytes:
    buffer = io.BytesIO()
    poster_image(texts, url, wifi_line, font_path).save(buffer, "PDF", resolution=DPI)
    return buffer.getvalue()


def poster_image(texts: list[PosterText], url: str, wifi_line: str, font_path: str) -> Image.Image:
    page = Image.new("1", A4, 255)
    width = A4[0] - 2 * MARGIN
    blocks = [render_block(_lines(text), width, font_path) for text in texts]
    footer_lines = [Line(url, size=34, space_after=10)]
    if wifi_line:
        footer_lines.append(Line(wifi_line, size=48, bold=True))
    footer = render_block(footer_lines, width, font_path)
    room = A4[1] - 2 * MARGIN - sum(b.height + GAP for b in blocks) - footer.height - GAP
    code = _qr(url, max(SMALLEST_QR, min(width, room)))
    top = MARGIN
    for part in [*blocks, code, footer]:
        page.paste(part, ((A4[0] - part.width) // 2, top))
        top += part.height + GAP
    return page


def _lines(text: PosterText) -> list[Line]:
    return [Line(text.title, size=50, bold=True, space_after=14)] + [
        Line(step, size=34, space_after=8) for step in text.steps
    ]


def _qr(url: str, side: int) -> Image.Image:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    code.add_data(url)
    code.make(fit=True)
    code.box_size = max(4, side // (code.modules_count + 4))
    return code.make_image().get_image().convert("1")
