"""Reading back the ESC/POS bytes a printer is sent."""

from __future__ import annotations

GS_V0 = b"\x1dv0"  # raster image


def raster_widths(data: bytes) -> list[int]:
    """The width in dots of every GS v 0 image of the stream, skipping each image's data."""
    widths, position = [], 0
    while (start := data.find(GS_V0, position)) >= 0:
        width_bytes = int.from_bytes(data[start + 4 : start + 6], "little")
        height = int.from_bytes(data[start + 6 : start + 8], "little")
        widths.append(width_bytes * 8)
        position = start + 8 + width_bytes * height
    return widths
