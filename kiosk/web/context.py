"""What a view needs to know about the moment and the device: the injected clock, the venue's day."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, request


def now() -> datetime:
    return current_app.config["CLOCK"]()


def venue_today() -> date:
    return now().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


def device() -> str:
    """The device in the audit log: its address on the venue network."""
    return request.remote_addr or "unknown"


def public_base_url() -> str:
    """Where phones reach this server: the configured LAN address, else the address asked."""
    return current_app.config["BASE_URL"] or request.host_url.rstrip("/")
