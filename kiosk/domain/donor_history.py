"""A donor's history only grows: the latest donation, the strongest deferral. One rule for the
venue (a screening, a donation), the centre's import of bundles and the venue's import of the
centre's donor list.

Which deferral is stronger: a permanent one over any temporary one, then the later end over the
earlier. The stronger one's reason is kept (the known reason when the stronger one gives none);
on a tie the known reason stays, or the newcomer's fills a missing one. Nothing is ever lowered:
a permanent deferral is never cleared (and has no end), a temporary one's end never moves
earlier, a donation date never earlier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kiosk.models import Donor


@dataclass(frozen=True)
class Deferral:
    permanent: bool = False
    until: date | None = None  # a temporary deferral's last day
    reason: str | None = None

    @property
    def strength(self) -> tuple[bool, date]:
        return self.permanent, self.until or date.min


NO_DEFERRAL = Deferral()


def deferral_of(donor: Donor) -> Deferral:
    return Deferral(bool(donor.deferred_permanently), donor.deferred_until, donor.deferral_reason)


def stronger(ours: Deferral, theirs: Deferral) -> Deferral:
    """The deferral that results from knowing both."""
    if not theirs.permanent and theirs.until is None:
        return ours
    if theirs.strength > ours.strength:
        reason = theirs.reason or ours.reason
    else:
        reason = ours.reason or theirs.reason
    if ours.permanent or theirs.permanent:
        return Deferral(True, None, reason)  # a permanent deferral has no end
    return Deferral(False, later(ours.until, theirs.until), reason)


def later(ours: date | None, theirs: date | None) -> date | None:
    return max(filter(None, (ours, theirs)), default=None)


def add_history(
    donor: Donor, *, donated_on: date | None = None, deferral: Deferral = NO_DEFERRAL
) -> bool:
    """Adds a donation day and a deferral to what is known of the donor; whether it changed."""
    before = (donor.last_donation_on, deferral_of(donor))
    last_donation = later(donor.last_donation_on, donated_on)
    known = stronger(before[1], deferral)
    if (last_donation, known) == before:
        return False
    donor.last_donation_on = last_donation
    donor.deferred_permanently = known.permanent
    donor.deferred_until = known.until
    donor.deferral_reason = known.reason
    return True
