"""A layout as ESC/POS bytes (python-escpos's Dummy printer builds them) and as the same picture
in one PNG-able image, for looking at and for the tests.

Text goes as raster images (see kiosk.printing.text); the QR code goes as the printer's own
command where the paper profile has it, else as a raster image. Nothing is wider than the paper."""

from __future__ import annotations

import copy

import qrcode
from escpos.constants import QR_ECLEVEL_M
from escpos.printer import Dummy
from PIL import Image, ImageOps

from kiosk.printing.layout import Layout
from kiosk.printing.paper import Paper
from kiosk.printing.text import Line, render_block

QR_BORDER_MODULES = 4
QR_SHARE_OF_WIDTH = 0.55  # about 40 mm on 80 mm paper, 26 mm on 58 mm: easy for phones
FEED_LINES_WITHOUT_CUTTER = 4  # past the tear bar


def header_lines(layout: Layout) -> list[Line]:
    lines = [
        Line(layout.campaign, size=30, bold=True),
        # Apart, so each keeps its own direction (a Latin site, an Arabic date).
        Line(layout.site, size=24, space_after=0),
        Line(layout.moment, size=24, space_after=14),
    ]
    if layout.number:  # a test page has none
        lines.append(Line(layout.number_label, size=26, space_after=0))
        lines.append(Line(layout.number_text, size=150, bold=True, space_after=4))
    if layout.first_name:
        lines.append(Line(layout.first_name, size=40, bold=True, space_after=12))
    return lines


def footer_lines(layout: Layout) -> list[Line]:
    return [Line(text, size=26, space_after=8) for text in layout.lines]


def qr_module_size(url: str, paper: Paper) -> int:
    """Dots per QR module: as large as fits in the share of the paper kept for the code."""
    modules = _qr(url).modules_count + 2 * QR_BORDER_MODULES
    return max(1, min(16, int(paper.dots * QR_SHARE_OF_WIDTH) // modules))


def _qr(url: str) -> qrcode.QRCode:
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=QR_BORDER_MODULES
    )
    code.add_data(url)
    code.make(fit=True)
    return code


def qr_image(url: str, paper: Paper) -> Image.Image:
    """The QR code drawn by us, centred on a strip as wide as the paper."""
    code = _qr(url)
    code.box_size = qr_module_size(url, paper)
    picture = code.make_image().get_image().convert("1")
    strip = Image.new("1", (paper.dots, picture.height), 255)
    strip.paste(picture, ((paper.dots - picture.width) // 2, 0))
    return strip


def blocks(layout: Layout, paper: Paper, font_path: str, use_raqm: bool | None = None):
    header = render_block(header_lines(layout), paper.dots, font_path, use_raqm)
    footer = render_block(footer_lines(layout), paper.dots, font_path, use_raqm)
    return header, footer


def ticket_image(
    layout: Layout, paper: Paper, font_path: str, use_raqm: bool | None = None
) -> Image.Image:
    """The whole ticket as one picture (the QR as an image), what the paper shows."""
    header, footer = blocks(layout, paper, font_path, use_raqm)
    parts = [header] + ([qr_image(layout.url, paper)] if layout.url else []) + [footer]
    image = Image.new("1", (paper.dots, sum(part.height for part in parts)), 255)
    top = 0
    for part in parts:
        image.paste(part, (0, top))
        top += part.height
    return image


def escpos_bytes(
    layout: Layout, paper: Paper, font_path: str, use_raqm: bool | None = None
) -> bytes:
    printer = _dummy_for(paper)
    printer.hw("INIT")
    printer.set(align="center")  # the printer centres each image, trimmed to its ink
    for line in header_lines(layout):
        _print_trimmed(printer, render_block([line], paper.dots, font_path, use_raqm))
    if layout.url:
        if paper.native_qr:
            printer.qr(
                layout.url, ec=QR_ECLEVEL_M, size=qr_module_size(layout.url, paper), native=True
            )
            printer.ln()
        else:
            _print_trimmed(printer, qr_image(layout.url, paper))
    for line in footer_lines(layout):
        _print_trimmed(printer, render_block([line], paper.dots, font_path, use_raqm))
    if paper.cutter:
        printer.cut()
    else:
        printer.ln(FEED_LINES_WITHOUT_CUTTER)
    return printer.output


def _print_trimmed(printer: Dummy, strip: Image.Image) -> None:
    """A text strip without its blank sides: a big number or a short name sends half the
    bytes, which matters on a 9600-baud serial or Bluetooth printer."""
    ink = ImageOps.invert(strip.convert("L")).getbbox()
    if ink is None:
        return
    left = ink[0] // 8 * 8
    right = min(strip.width, -(-ink[2] // 8) * 8)
    printer.image(strip.crop((left, 0, right, strip.height)), impl="bitImageRaster")


def _dummy_for(paper: Paper) -> Dummy:
    """A Dummy printer whose profile knows the paper's width: python-escpos then refuses any
    image wider than the paper instead of letting the printer cut it off."""
    printer = Dummy(profile=paper.model)
    data = copy.deepcopy(printer.profile.profile_data)
    data.setdefault("media", {})["width"] = {"mm": "Unknown", "pixels": paper.dots}
    printer.profile.profile_data = data
    return printer
