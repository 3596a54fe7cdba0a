"""Thermal printing without a server: paper profiles, printer settings, the ESC/POS byte stream,
the text drawn for the printer (against reference images) and the QR code on the ticket.

The reference images live in tests/unit/printing_reference/. After a deliberate change of the
drawing (font, sizes), regenerate them and look at them before committing:

    KIOSK_REGENERATE_PRINT_REFERENCES=1 .venv/bin/python -m pytest tests/unit/test_printing.py
"""

from __future__ import annotations

import os
import re
import socket
import threading
from datetime import datetime
from pathlib import Path

import pytest
import zxingcpp
from babel.dates import format_datetime
from babel.support import Translations
from escpos.exceptions import ImageWidthError
from PIL import Image, ImageChops, ImageOps, ImageStat

from kiosk.config import CHECKOUT
from kiosk.printing.connection import PrinterSpecError, parse_printer, send, status_line
from kiosk.printing.escpos_ticket import _dummy_for, escpos_bytes, qr_image, ticket_image
from kiosk.printing.layout import MOMENT, Layout
from kiosk.printing.paper import PaperError, paper_for
from kiosk.printing.text import FontError, Line, find_font, raqm_available, render_block, wrap
from tests.support.escpos import GS_V0, raster_widths

REFERENCES = Path(__file__).parent / "printing_reference"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "printing"
REGENERATE = os.environ.get("KIOSK_REGENERATE_PRINT_REFERENCES") == "1"
# Share of the strip's pixels allowed to differ from the reference (anti-aliasing at the edges
# of glyphs may move between FreeType versions; a wrong glyph or order moves far more).
PIXEL_TOLERANCE = 0.01

URL = "http://192.168.1.20:5000/t/" + "Xy3_" * 8
ARABIC_LINE = "امسح الرمز لمتابعة مكانك في الطابور."
FRENCH_LINE = "Scannez pour suivre votre place dans la file."
TIFINAGH_LINE = "ⴰⵣⵓⵍ ⴼⵍⴰⵡⵏ"
# The Tamazight ticket's own words, from the zgh catalogue (kiosk/web/printing.py's msgids).
ZGH = Translations.load(str(CHECKOUT / "kiosk/translations"), ["zgh"])
ZGH_NUMBER_LABEL = ZGH.gettext("Your number")
ZGH_LINE = ZGH.gettext(
    "Scan to follow your place in the queue. Keep this ticket until the end of your visit."
)
ZGH_MOMENT = format_datetime(datetime(2026, 11, 24, 9, 30), MOMENT, locale="zgh")

GS_K_QR_STORE = b"\x1d(k"  # native 2D code
CUTS = (b"\x1dV\x00", b"\x1dV\x01", b"\x1dVA", b"\x1dVB")


def layout(language: str = "ar", url: str = URL, **changes) -> Layout:
    texts = {
        "ar": ("رقمك", "فاطمة", "24 نونبر 2026 · 09:30", ARABIC_LINE),
        "fr": ("Votre numéro", "Fatima", "24 novembre 2026 · 09:30", FRENCH_LINE),
        "zgh": (ZGH_NUMBER_LABEL, "ⴼⴰⵟⵉⵎⴰ", ZGH_MOMENT, ZGH_LINE),
    }[language]
    values = dict(
        kind="ticket",
        language=language,
        campaign="Collecte de sang · حملة التبرع بالدم",
        site="Khénifra",
        moment=texts[2],
        number_label=texts[0],
        number=7,
        first_name=texts[1],
        url=url,
        lines=(texts[3],),
    )
    return Layout(**{**values, **changes})


@pytest.fixture(scope="module")
def font() -> str:
    try:
        return find_font()
    except FontError as error:
        pytest.skip(f"{error} (make printing-deps installs it)")


def raster_images(data: bytes) -> list[Image.Image]:
    """The GS v 0 images of the stream as pictures (in ESC/POS a set bit is a black dot)."""
    images, position = [], 0
    while (start := data.find(GS_V0, position)) >= 0:
        width_bytes = int.from_bytes(data[start + 4 : start + 6], "little")
        height = int.from_bytes(data[start + 6 : start + 8], "little")
        body = data[start + 8 : start + 8 + width_bytes * height]
        images.append(ImageOps.invert(Image.frombytes("1", (width_bytes * 8, height), body)))
        position = start + 8 + width_bytes * height
    return images


def printed_paper(data: bytes, dots: int) -> Image.Image:
    """What a printer centring each image would put on the paper."""
    images = raster_images(data)
    paper = Image.new("L", (dots, sum(image.height for image in images)), 255)
    top = 0
    for image in images:
        paper.paste(image.convert("L"), ((dots - image.width) // 2, top))
        top += image.height
    return paper


class TestPaper:
    @pytest.mark.parametrize(
        ("name", "dots", "cutter", "native_qr"),
        [("58mm", 384, False, False), ("80mm", 576, True, True), ("80mm-512", 512, True, True)],
    )
    def test_the_three_papers(self, name, dots, cutter, native_qr):
        paper = paper_for(name)
        assert (paper.dots, paper.cutter, paper.native_qr) == (dots, cutter, native_qr)

    def test_a_printer_model_narrows_the_paper_and_brings_its_features(self):
        assert paper_for("80mm", "TM-T88V").dots == 512
        cheap = paper_for("58mm", "POS-5890")
        assert (cheap.dots, cheap.cutter, cheap.native_qr) == (384, False, False)
        assert paper_for("80MM ").name == "80mm"

    @pytest.mark.parametrize(("name", "model"), [("60mm", ""), ("", ""), ("80mm", "Nope-1")])
    def test_unknown_papers_and_models_are_refused_by_name(self, name, model):
        with pytest.raises(PaperError, match="KIOSK_PRINTER"):
            paper_for(name, model)


class TestPrinterSetting:
    @pytest.mark.parametrize("text", [None, "", "none", " NONE "])
    def test_no_printer(self, text):
        assert parse_printer(text) is None

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("usb:04b8:0e15", {"kind": "usb", "vendor": 0x04B8, "product": 0x0E15}),
            ("usb:0x0416:0x5011", {"kind": "usb", "vendor": 0x0416, "product": 0x5011}),
            (
                "network:192.168.1.50:9100",
                {"kind": "network", "host": "192.168.1.50", "port": 9100},
            ),
            ("network:printer.local", {"kind": "network", "host": "printer.local", "port": 9100}),
            (
                "serial:/dev/rfcomm0:9600",
                {"kind": "serial", "device": "/dev/rfcomm0", "baud": 9600},
            ),
            ("serial:COM3:115200", {"kind": "serial", "device": "COM3", "baud": 115200}),
            ("file:/dev/usb/lp0", {"kind": "file", "device": "/dev/usb/lp0"}),
            ("file:C:\\tickets\\out.bin", {"kind": "file", "device": "C:\\tickets\\out.bin"}),
            ("cups:Receipt", {"kind": "cups", "device": "Receipt"}),
        ],
    )
    def test_each_connection(self, text, expected):
        spec = parse_printer(text)
        assert {key: getattr(spec, key) for key in expected} == expected
        assert str(spec) == text

    @pytest.mark.parametrize(
        "text",
        [
            "lpt1",
            "usb:",
            "usb:04b8",
            "usb:zz:0e15",
            "usb:04b8:10000",
            "usb:0:0e15",
            "network::9100",
            "network:host:http",
            "network:host:70000",
            "serial:/dev/ttyUSB0:1234",
            "serial::9600",
            "file:",
            "bluetooth:aa:bb",
        ],
    )
    def test_bad_settings_are_refused_with_the_setting_named(self, text):
        with pytest.raises(PrinterSpecError, match="KIOSK_PRINTER"):
            parse_printer(text)


class TestByteStream:
    def test_80mm_uses_the_printers_qr_command_and_cuts(self, font):
        data = escpos_bytes(layout(), paper_for("80mm"), font)
        assert data.startswith(b"\x1b@")  # initialised
        assert GS_K_QR_STORE + (len(URL) + 3).to_bytes(2, "little") + b"1P0" + URL.encode() in data
        assert any(cut in data for cut in CUTS)
        widths = raster_widths(data)
        assert len(widths) == 7  # campaign, site, time, label, number, name, the donor's line
        assert max(widths) <= 576

    def test_58mm_sends_the_qr_as_an_image_and_feeds_instead_of_cutting(self, font):
        data = escpos_bytes(layout(), paper_for("58mm"), font)
        assert GS_K_QR_STORE not in data
        assert not any(cut in data for cut in CUTS)
        widths = raster_widths(data)
        assert len(widths) == 8  # the same seven lines and the QR code
        assert max(widths) <= 384

    def test_a_512_dot_printer_gets_nothing_wider(self, font):
        data = escpos_bytes(layout("fr"), paper_for("80mm", "TM-T88V"), font)
        assert max(raster_widths(data)) <= 512

    def test_a_slip_has_no_qr_code(self, font):
        slip = layout("fr", url="", kind="thanks", lines=("Merci !", "À bientôt."))
        data = escpos_bytes(slip, paper_for("80mm"), font)
        assert GS_K_QR_STORE not in data
        assert len(raster_widths(data)) == 8  # six header lines and two lines of thanks

    def test_the_printer_refuses_an_image_wider_than_the_paper(self):
        printer = _dummy_for(paper_for("58mm"))
        with pytest.raises(ImageWidthError):
            printer.image(Image.new("1", (392, 8), 1))

    def test_a_long_name_or_line_wraps_within_the_paper(self, font):
        long = layout("fr", first_name="Anticonstitutionnellement" * 3, lines=("mot " * 80,))
        for name in ("58mm", "80mm"):
            image = ticket_image(long, paper_for(name), font)
            assert image.width == paper_for(name).dots


class TestQrCode:
    @pytest.mark.parametrize("paper", ["58mm", "80mm", "80mm-512"])
    @pytest.mark.parametrize("language", ["ar", "fr", "zgh"])
    def test_the_rendered_ticket_decodes_to_its_address(self, font, paper, language):
        image = ticket_image(layout(language), paper_for(paper), font)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        image.save(ARTIFACTS / f"ticket-{language}-{paper}.png")
        found = zxingcpp.read_barcodes(image.convert("L"))
        assert [code.text for code in found] == [URL]

    @pytest.mark.parametrize("language", ["ar", "zgh"])
    def test_the_qr_sent_as_an_image_decodes_from_the_bytes_themselves(self, font, language):
        data = escpos_bytes(layout(language), paper_for("58mm"), font)
        paper = printed_paper(data, 384)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        paper.save(ARTIFACTS / f"bytes-{language}-58mm.png")
        assert [code.text for code in zxingcpp.read_barcodes(paper)] == [URL]

    def test_the_qr_image_fits_the_paper_with_its_quiet_zone(self):
        for name in ("58mm", "80mm"):
            image = qr_image(URL, paper_for(name))
            assert image.width == paper_for(name).dots
            assert image.getpixel((0, 0)) == 255  # white margin around the code


def _compare_with_reference(image: Image.Image, name: str) -> None:
    path = REFERENCES / f"{name}.png"
    if REGENERATE or not path.exists():
        assert REGENERATE, f"{path} is missing: regenerate the references (see the docstring)"
        image.save(path)
    reference = Image.open(path).convert("1")
    assert reference.size == image.size, f"{name}: size {image.size} != {reference.size}"
    different = ImageChops.difference(reference.convert("L"), image.convert("L"))
    changed = sum(1 for value in different.get_flattened_data() if value)
    assert changed <= PIXEL_TOLERANCE * image.width * image.height, f"{name}: {changed} pixels"


@pytest.mark.skipif(not raqm_available(), reason="Pillow has no raqm layout here")
class TestTextImages:
    @pytest.mark.parametrize(
        ("name", "text"),
        [
            ("arabic-line", ARABIC_LINE),
            ("french-line", FRENCH_LINE),
            ("tifinagh-line", TIFINAGH_LINE),
            ("tamazight-ticket-lines", f"{ZGH_NUMBER_LABEL} · {ZGH_MOMENT} · {ZGH_LINE}"),
        ],
    )
    def test_lines_match_their_reference_image(self, font, name, text):
        _compare_with_reference(render_block([Line(text)], 576, font), name)

    def test_tifinagh_letters_are_drawn_not_boxes(self, font):
        drawn = render_block([Line(TIFINAGH_LINE)], 576, font)
        missing = render_block([Line("\ue000" * len(TIFINAGH_LINE))], 576, font)
        assert ImageChops.difference(drawn.convert("L"), missing.convert("L")).getbbox()

    def test_the_tamazight_ticket_prints_in_tifinagh_decoded_from_its_bytes(self, font):
        """The zgh ticket as the printer gets it (ESC/POS raster images): its Tifinagh strips
        match the same text drawn alone (the words, not boxes), and the QR reads back."""
        ticket = layout("zgh")
        data = escpos_bytes(ticket, paper_for("80mm"), font)
        strips = raster_images(data)
        label = render_block([Line(ticket.number_label, size=26, space_after=0)], 576, font)
        ink = ImageOps.invert(label.convert("L")).getbbox()
        assert any(
            strip.size == (-(-ink[2] // 8) * 8 - ink[0] // 8 * 8, label.height)
            and not ImageChops.difference(
                strip.convert("L"),
                label.crop((ink[0] // 8 * 8, 0, -(-ink[2] // 8) * 8, label.height)).convert("L"),
            ).getbbox()
            for strip in strips
        ), "the Tamazight number label is not among the printed strips"
        paper = printed_paper(escpos_bytes(ticket, paper_for("58mm"), font), 384)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        paper.save(ARTIFACTS / "bytes-zgh-58mm.png")
        assert [code.text for code in zxingcpp.read_barcodes(paper)] == [URL]

    def test_every_tifinagh_letter_of_the_catalogue_has_a_glyph_in_the_printer_font(self, font):
        texts = (CHECKOUT / "kiosk/translations/zgh/LC_MESSAGES/messages.po").read_text()
        letters = sorted(set(re.findall(r"[\u2D30-\u2D7F]", texts)))
        assert len(letters) > 25
        missing = render_block([Line("\ue000")], 96, font)
        boxes = [
            letter
            for letter in letters
            if not ImageChops.difference(
                render_block([Line(letter)], 96, font).convert("L"), missing.convert("L")
            ).getbbox()
        ]
        assert boxes == []

    def test_without_raqm_the_fallback_orders_arabic_once(self, font):
        """reshaper + bidi, then a plain drawing: close to raqm's picture. The same text put in
        visual order *and* laid out by raqm (the mistake) comes out reversed: far from it."""
        import arabic_reshaper
        from bidi import get_display

        raqm = render_block([Line(ARABIC_LINE)], 576, font, use_raqm=True)
        fallback = render_block([Line(ARABIC_LINE)], 576, font, use_raqm=False)
        twice = render_block(
            [Line(get_display(arabic_reshaper.reshape(ARABIC_LINE)))], 576, font, use_raqm=True
        )
        assert _blurred_distance(raqm, fallback) < 8
        assert _blurred_distance(raqm, twice) > 12


def _blurred_distance(first: Image.Image, second: Image.Image) -> float:
    """Mean difference of the two strips seen from afar: glyph order, not anti-aliasing."""

    def blur(image):
        return image.convert("L").resize((image.width // 12, max(1, image.height // 6)))

    return ImageStat.Stat(ImageChops.difference(blur(first), blur(second))).mean[0]


class TestWrap:
    def test_rows_never_exceed_the_width(self, font):
        from PIL import ImageFont

        measure = ImageFont.truetype(font, 28).getlength
        rows = wrap("Une ligne " * 20 + "Anticonstitutionnellement" * 4, measure, 300)
        assert len(rows) > 3
        assert all(measure(row) <= 300 for row in rows)
        assert "".join(rows).replace(" ", "") == ("Uneligne" * 20 + "Anticonstitutionnellement" * 4)


class TestConnections:
    def test_a_file_printer_keeps_every_job(self, tmp_path):
        spec = parse_printer(f"file:{tmp_path / 'tickets.bin'}")
        send(spec, b"first")
        send(spec, b"second")
        assert (tmp_path / "tickets.bin").read_bytes() == b"firstsecond"
        assert status_line(spec) == "status not reported over this connection"

    def test_a_missing_device_raises(self, tmp_path):
        with pytest.raises(Exception, match="cannot open"):
            send(parse_printer(f"file:{tmp_path / 'no' / 'lp0'}"), b"x")

    def test_a_network_printer_gets_the_bytes(self, font):
        received = bytearray()
        with socket.create_server(("127.0.0.1", 0)) as server:
            port = server.getsockname()[1]

            def serve():
                connection, _ = server.accept()
                with connection:
                    while chunk := connection.recv(65536):
                        received.extend(chunk)

            thread = threading.Thread(target=serve)
            thread.start()
            data = escpos_bytes(layout(), paper_for("80mm"), font)
            send(parse_printer(f"network:127.0.0.1:{port}"), data)
            thread.join(timeout=10)
        assert bytes(received) == data

    def test_a_network_printer_that_is_off_raises(self):
        with socket.create_server(("127.0.0.1", 0)) as server:
            port = server.getsockname()[1]
        with pytest.raises(Exception, match="no answer from 127.0.0.1"):
            send(parse_printer(f"network:127.0.0.1:{port}"), b"x")
