"""The venue's time zone, read from the `tzdata` package the project pins.

Not the tablet's own zone files: Morocco's rules changed in 2026 (Casablanca is back on UTC+0 from
October 2026 in tzdata 2026), and an older system database would print tickets an hour off. Every
tablet running the same Nabd then agrees on the time.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@lru_cache(maxsize=8)
def venue_zone(name: str) -> ZoneInfo:
    try:
        with resources.files("tzdata.zoneinfo").joinpath(*name.split("/")).open("rb") as data:
            return ZoneInfo.from_file(data, key=name)
    except (FileNotFoundError, IsADirectoryError, ValueError, ModuleNotFoundError):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r} (TIMEZONE setting)") from None


def local_day(moment: datetime, zone_name: str):
    return moment.astimezone(venue_zone(zone_name)).date()
