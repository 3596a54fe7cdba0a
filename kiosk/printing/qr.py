"""The QR code of a ticket, as inline SVG (no image file, no script, prints sharply)."""

from __future__ import annotations

import qrcode
from qrcode.image.svg import SvgPathImage


def qr_svg(data: str) -> str:
    """SVG markup for `data`, error correction M, with the quiet zone scanners need."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(data)
    code.make(fit=True)
    return code.make_image(image_factory=SvgPathImage).to_string(encoding="unicode")
