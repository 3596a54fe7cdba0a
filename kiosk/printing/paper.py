"""Receipt paper: how many dots a line has, whether the printer cuts, whether it draws QR codes.

A python-escpos capability profile (`KIOSK_PRINTER_MODEL`, e.g. `TM-T20II`) may narrow what the
paper allows: its printable width and its features (a native QR command, a cutter) win."""

from __future__ import annotations

from dataclasses import dataclass, replace

from escpos.capabilities import CAPABILITIES, get_profile


@dataclass(frozen=True)
class Paper:
    name: str
    dots: int  # printable dots per line at 203 dpi
    cutter: bool
    native_qr: bool  # GS ( k; cheap 58 mm printers often lack it: the QR is sent as an image
    model: str = "default"  # the python-escpos capability profile


PAPERS = {
    "58mm": Paper("58mm", 384, cutter=False, native_qr=False),
    "80mm": Paper("80mm", 576, cutter=True, native_qr=True),
    # Some 80 mm printers (Epson TM-T88 and their clones) print 512 dots only.
    "80mm-512": Paper("80mm-512", 512, cutter=True, native_qr=True),
}


class PaperError(ValueError):
    pass


def paper_for(name: str, model: str = "") -> Paper:
    """The paper `name` (58mm, 80mm, 80mm-512), narrowed by the printer model if one is named."""
    paper = PAPERS.get((name or "").strip().lower())
    if paper is None:
        raise PaperError(f"KIOSK_PRINTER_PROFILE must be one of {', '.join(PAPERS)}, not {name!r}")
    model = (model or "").strip()
    if not model:
        return paper
    if model not in CAPABILITIES["profiles"]:
        raise PaperError(f"KIOSK_PRINTER_MODEL {model!r} is not a python-escpos printer profile")
    profile = get_profile(model)
    pixels = profile.profile_data.get("media", {}).get("width", {}).get("pixels")
    return replace(
        paper,
        dots=min(paper.dots, pixels) if isinstance(pixels, int) else paper.dots,
        cutter=bool(profile.supports("paperFullCut") or profile.supports("paperPartCut")),
        native_qr=bool(profile.supports("qrCode")),
        model=model,
    )
