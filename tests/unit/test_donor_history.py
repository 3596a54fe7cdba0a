"""A donor's history only grows (kiosk/domain/donor_history.py): one rule for the venue's
screening and donation, the centre's import and the venue's import of the donor list."""

from datetime import date

import pytest

from kiosk.domain.donor_history import NO_DEFERRAL, Deferral, add_history, stronger
from kiosk.models import Donor

JAN, MAR, JUN = date(2026, 1, 31), date(2026, 3, 31), date(2026, 6, 30)
PERMANENT = Deferral(True, None, "infection_risk")


@pytest.mark.parametrize(
    ("ours", "theirs", "expected"),
    [
        # nothing known, nothing new
        (NO_DEFERRAL, NO_DEFERRAL, NO_DEFERRAL),
        (
            NO_DEFERRAL,
            Deferral(False, MAR, "low_hemoglobin"),
            Deferral(False, MAR, "low_hemoglobin"),
        ),
        # a temporary deferral with no end says nothing
        (Deferral(False, MAR, "a"), Deferral(False, None, "b"), Deferral(False, MAR, "a")),
        # later end over earlier, both ways
        (Deferral(False, MAR, "a"), Deferral(False, JUN, "b"), Deferral(False, JUN, "b")),
        (Deferral(False, JUN, "a"), Deferral(False, MAR, "b"), Deferral(False, JUN, "a")),
        # equal ends: the known reason stays; a missing one is filled
        (Deferral(False, MAR, "a"), Deferral(False, MAR, "b"), Deferral(False, MAR, "a")),
        (Deferral(False, MAR, None), Deferral(False, MAR, "b"), Deferral(False, MAR, "b")),
        # permanent over temporary, both ways; a permanent deferral has no end
        (Deferral(False, JUN, "a"), PERMANENT, PERMANENT),
        (PERMANENT, Deferral(False, JUN, "b"), PERMANENT),
        # two permanent ones: the known reason stays
        (PERMANENT, Deferral(True, None, "other"), PERMANENT),
        # the stronger one without a reason keeps the known reason
        (Deferral(False, MAR, "a"), Deferral(False, JUN, None), Deferral(False, JUN, "a")),
        # a permanent deferral is never cleared, not even by "no deferral"
        (PERMANENT, NO_DEFERRAL, PERMANENT),
    ],
)
def test_the_stronger_deferral_wins(ours, theirs, expected):
    assert stronger(ours, theirs) == expected


def donor(**known) -> Donor:
    fields = {
        "last_donation_on": None,
        "deferred_until": None,
        "deferred_permanently": False,
        "deferral_reason": None,
    }
    return Donor(**(fields | known))


@pytest.mark.parametrize(
    ("known", "donated_on", "expected", "changed"),
    [
        (None, None, None, False),
        (None, MAR, MAR, True),
        (MAR, JAN, MAR, False),
        (MAR, MAR, MAR, False),
        (MAR, JUN, JUN, True),
    ],
)
def test_the_latest_donation_is_kept(known, donated_on, expected, changed):
    person = donor(last_donation_on=known)
    assert add_history(person, donated_on=donated_on) is changed
    assert person.last_donation_on == expected


def test_an_import_never_clears_a_permanent_deferral():
    person = donor(deferred_permanently=True, deferral_reason="infection_risk")
    assert add_history(person, donated_on=JAN, deferral=Deferral(False, MAR, "low_hemoglobin"))
    assert (person.deferred_permanently, person.deferral_reason) == (True, "infection_risk")
    assert person.deferred_until is None
    assert person.last_donation_on == JAN
    assert not add_history(person, deferral=NO_DEFERRAL)
    assert person.deferred_permanently


def test_a_stronger_deferral_brings_its_reason():
    person = donor(deferred_until=MAR, deferral_reason="low_hemoglobin")
    assert add_history(person, deferral=Deferral(False, JUN, "tattoo"))
    assert (person.deferred_until, person.deferral_reason) == (JUN, "tattoo")
    assert not add_history(person, deferral=Deferral(False, MAR, "travel"))
    assert person.deferral_reason == "tattoo"
