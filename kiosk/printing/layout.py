"""What a ticket or a slip says, built once and rendered twice: the browser page and the printer.

Every text is already in the donor's language and every time already local: a print job keeps
its layout as JSON and prints it later without a request, a locale or a clock."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

KINDS = ("ticket", "deferral", "thanks", "test")
MOMENT = "d MMMM y · HH:mm"  # how a layout writes its date and time


@dataclass(frozen=True)
class Layout:
    kind: str  # ticket, deferral (slip), thanks (slip), test (page)
    language: str
    campaign: str
    site: str
    moment: str  # local date and time, formatted in the donor's language
    number_label: str
    number: int
    first_name: str = ""
    url: str = ""  # the QR code's content: the ticket's /t/<token> address; empty on slips
    lines: tuple[str, ...] = field(default_factory=tuple)  # short lines in the donor's language

    @property
    def number_text(self) -> str:
        return f"{self.number:03d}"

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Layout:
        data = json.loads(text)
        data["lines"] = tuple(data.get("lines") or ())
        return cls(**data)
