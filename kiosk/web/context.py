"""What a view needs to know of the moment and the device: the injected clock, the venue day."""

from __future__ import annotations

import time
from datetime import date, datetime

from flask import current_app, request

from kiosk.timezones import local_day


def now() -> datetime:
    return current_app.config["CLOCK"]()


def venue_today() -> date:
    return local_day(now(), current_app.config["TIMEZONE"])


def device() -> str:
    """The device in the audit log: its address on the venue network."""
    return request.remote_addr or "unknown"


def public_base_url() -> str:
    """Where phones reach this server: the configured LAN address, else the address asked."""
    return current_app.config["BASE_URL"] or request.host_url.rstrip("/")


def pause(seconds: float) -> None:
    """The throttles' slow-down; tests put a recorder in SLEEP instead of waiting."""
    current_app.config.get("SLEEP", time.sleep)(seconds)
