"""Text as a picture for the printer: Arabic, Tifinagh and Latin shaped and laid out by Pillow.

Printers' own character sets have no Arabic shaping and no right-to-left order, so every line is
drawn here. With raqm (HarfBuzz + FriBiDi) Pillow shapes and orders the text itself; only where
raqm is missing is the text shaped by arabic-reshaper and put in visual order by python-bidi
before a plain left-to-right drawing. Never both: that would reverse the text twice."""

from __future__ import annotations

import re
import shutil

# Reviewed (bandit B404): used only to ask fontconfig's `fc-match` for a font, fixed arguments.
import subprocess  # nosec B404
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, features

# One font with Arabic, Tifinagh and Latin glyphs: DejaVu Sans has all three.
KNOWN_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/local/share/fonts/DejaVuSans.ttf",
    "C:/Windows/Fonts/DejaVuSans.ttf",
)
FONTCONFIG_QUERY = "DejaVu Sans:charset=0627 2d30 0041"


# Rows break at ordinary spaces only: a no-break space keeps "24 février 2027" on one row.
_BREAKABLE_SPACE = re.compile(r"[ \t\r\n]+")


class FontError(RuntimeError):
    pass


@dataclass(frozen=True)
class Line:
    """One paragraph of a printed block: wrapped to the paper, centred."""

    text: str
    size: int = 28  # pixels (8 dots a millimetre: 28 is about 3.5 mm)
    bold: bool = False
    space_after: int = 6


def raqm_available() -> bool:
    return bool(features.check("raqm"))


def find_font(configured: str = "") -> str:
    """The configured font file, else DejaVu Sans where Debian (or fontconfig) puts it."""
    if configured:
        if not Path(configured).is_file():
            raise FontError(f"KIOSK_PRINTER_FONT {configured!r} is not a font file")
        return configured
    for candidate in KNOWN_FONTS:
        if Path(candidate).is_file():
            return candidate
    found = _fontconfig_match()
    if found:
        return found
    raise FontError(
        "no font with Arabic, Tifinagh and Latin glyphs: install fonts-dejavu-core "
        "or set KIOSK_PRINTER_FONT to a .ttf file"
    )


def _fontconfig_match() -> str | None:
    if shutil.which("fc-match") is None:
        return None
    # Reviewed (bandit B603): no shell, and a constant query.
    # Reviewed (bandit B607): `fc-match` is found on the PATH just above.
    result = subprocess.run(  # nosec B603 B607
        ["fc-match", "-f", "%{file}", FONTCONFIG_QUERY], capture_output=True, text=True, timeout=10
    )
    path = result.stdout.strip()
    return path if result.returncode == 0 and Path(path).is_file() else None


@lru_cache(maxsize=32)
def _font(path: str, size: int, use_raqm: bool) -> ImageFont.FreeTypeFont:
    engine = ImageFont.Layout.RAQM if use_raqm else ImageFont.Layout.BASIC
    return ImageFont.truetype(path, size, layout_engine=engine)


def _visual_order(text: str) -> str:
    """The fallback without raqm: Arabic letters joined, then the line in display order."""
    import arabic_reshaper
    from bidi import get_display

    return get_display(arabic_reshaper.reshape(text))


def render_block(
    lines: list[Line], width: int, font_path: str, use_raqm: bool | None = None
) -> Image.Image:
    """The lines, wrapped and centred on a white strip `width` dots wide, in 1-bit black."""
    use_raqm = raqm_available() if use_raqm is None else use_raqm
    rows: list[tuple[str, ImageFont.FreeTypeFont, Line]] = []
    for line in lines:
        font = _font(font_path, line.size, use_raqm)
        stroke = _stroke(line)
        measure = font.getlength if use_raqm else _fallback_measure(font)
        for row in wrap(line.text, measure, width - 2 * stroke):
            rows.append((row, font, line))
    height = sum(_row_height(font, line) for _, font, line in rows) or 1
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    top = 0
    for row, font, line in rows:
        shown = row if use_raqm else _visual_order(row)
        stroke = _stroke(line)
        draw.text(
            (width / 2, top),
            shown,
            font=font,
            fill=0,
            anchor="ma",
            stroke_width=stroke,
            stroke_fill=0,
        )
        top += _row_height(font, line)
    return image.point(lambda value: 0 if value < 128 else 255, mode="1")


def _stroke(line: Line) -> int:
    return max(1, line.size // 40) if line.bold else 0


def _row_height(font: ImageFont.FreeTypeFont, line: Line) -> int:
    ascent, descent = font.getmetrics()
    return ascent + descent + 2 * _stroke(line) + line.space_after


def _fallback_measure(font: ImageFont.FreeTypeFont):
    return lambda text: font.getlength(_visual_order(text))


def wrap(text: str, measure, width: int) -> list[str]:
    """Words in logical order, as many to a row as `measure` says fit; a word longer than a row
    is cut. Words are separated by ordinary spaces only (see _BREAKABLE_SPACE)."""
    rows: list[str] = []
    current = ""
    for word in _BREAKABLE_SPACE.split(text):
        if not word:
            continue
        candidate = f"{current} {word}" if current else word
        if measure(candidate) <= width:
            current = candidate
            continue
        if current:
            rows.append(current)
        current = word
        while measure(current) > width and len(current) > 1:
            cut = _longest_prefix(current, measure, width)
            rows.append(current[:cut])
            current = current[cut:]
    if current:
        rows.append(current)
    return rows


def _longest_prefix(word: str, measure, width: int) -> int:
    cut = len(word) - 1
    while cut > 1 and measure(word[:cut]) > width:
        cut -= 1
    return cut
