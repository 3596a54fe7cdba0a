from datetime import UTC, date, datetime

import pytest

from kiosk.timezones import local_day, venue_zone


def test_the_venue_day_turns_at_local_midnight():
    # Summer 2026: Casablanca on UTC+1, so 23:30 UTC is already the next day there.
    assert local_day(datetime(2026, 8, 1, 23, 30, tzinfo=UTC), "Africa/Casablanca") == date(
        2026, 8, 2
    )
    assert local_day(datetime(2026, 8, 1, 22, 30, tzinfo=UTC), "Africa/Casablanca") == date(
        2026, 8, 1
    )


def test_the_pinned_tzdata_is_used_not_the_system_files():
    november = datetime(2026, 11, 24, 12, tzinfo=UTC).astimezone(venue_zone("Africa/Casablanca"))
    assert november.utcoffset().total_seconds() == 0


def test_an_unknown_zone_is_a_clear_error():
    with pytest.raises(ValueError, match="TIMEZONE"):
        venue_zone("Mars/Olympus")
