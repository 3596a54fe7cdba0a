"""The bundle's columns are named once (columns.py), for the writer and the reader alike."""

import pytest

from kiosk.domain.exchange import columns


@pytest.mark.parametrize(
    "named",
    [
        columns.DATES,
        columns.TIMES,
        columns.WHOLE,
        columns.DECIMAL,
        columns.FLAGS,
        tuple(columns.CHOICES),
        columns.REQUIRED,
        columns.SCREENING_NEEDS,
        columns.DONATION_NEEDS,
    ],
)
def test_every_column_a_kind_names_is_a_visit_column(named):
    assert set(named) <= set(columns.VISIT_COLUMNS)


def test_a_column_has_one_kind():
    kinds = [*columns.DATES, *columns.TIMES, *columns.WHOLE, *columns.DECIMAL, *columns.FLAGS]
    assert len(kinds) == len(set(kinds))
    assert columns.kind_of("birth_date") == "date"
    assert columns.kind_of("registered_at") == "time"
    assert columns.kind_of("queue_number") == "whole"
    assert columns.kind_of("weight_kg") == "decimal"
    assert columns.kind_of("first_time") == "flag"
    assert columns.kind_of("last_name") == "text"


@pytest.mark.parametrize(
    ("version", "problem"),
    [
        (1, None),
        (2, None),
        (0, "visits.json has no valid schema_version"),
        (True, "visits.json has no valid schema_version"),
        ("1", "visits.json has no valid schema_version"),
        (None, "visits.json has no valid schema_version"),
        (3, "visits.json: schema version 3 is newer than this Nabd reads (2)"),
    ],
)
def test_one_schema_version_check(version, problem):
    assert columns.schema_version_problem(version, "visits.json") == problem


def test_every_visit_column_points_to_the_venue_rule_that_checks_it():
    assert set(columns.VENUE_RULE) == set(columns.VISIT_COLUMNS)
    assert set(columns.VISIT_COLUMNS) <= set(columns.WHAT)
    assert set(columns.EVENT_COLUMNS) - {"campaign_date", "queue_number"} <= set(columns.WHAT)


def test_the_actions_the_centre_takes_are_those_a_venue_writes():
    from kiosk.domain.journey import TRANSITIONS

    assert set(TRANSITIONS) <= columns.EVENT_ACTIONS
    assert {"register", "correct_donation", "export", "reprint_ticket"} <= columns.EVENT_ACTIONS
    assert "staff_add" not in columns.EVENT_ACTIONS  # an account change is no campaign's
