"""A donor for registrations made in the domain (no web), by serial number."""

from __future__ import annotations

from datetime import date

from kiosk.domain.validation import Registration


def donor(serial: int) -> Registration:
    return Registration(
        first_name="Fatima",
        last_name="Zahra",
        sex="F",
        birth_date=date(1980 + serial % 20, 1 + serial % 12, 1 + serial % 28),
        cin=f"PR{serial:06d}",
        phone=None,
        category="citizen",
    )
