"""What a visit's end gives the donor on paper: which slip (a deferral slip, or a thank-you slip
with the first day they may give again), and that day. The ticket's status page and the printer
ask the same questions here; the words are theirs."""

from __future__ import annotations

from datetime import date

from kiosk.domain.eligibility import next_donation_date
from kiosk.domain.journey import Stage
from kiosk.domain.medical import NOT_A_DONATION, table_for
from kiosk.models import Visit

DEFERRAL_SLIP = "deferral"
THANKS_SLIP = "thanks"


def next_donation_for(visit: Visit) -> date | None:
    """After a donation that gave blood: the first day the donor may give again; else None."""
    donation = visit.donation
    if donation is None or donation.outcome == NOT_A_DONATION:
        return None
    return next_donation_date(visit.queue_day, visit.donor.sex, table_for(visit.campaign))


def slip_kind(visit: Visit) -> str | None:
    """The slip the visit calls for: a deferral slip once deferred at the interview, a thank-you
    slip once blood was given; None otherwise."""
    if visit.stage == Stage.DEFERRED and visit.screening is not None:
        return DEFERRAL_SLIP
    if next_donation_for(visit) is not None:
        return THANKS_SLIP
    return None


def reason_the_donor_may_read(visit: Visit) -> str | None:
    """The deferral's reason code when the doctor let the donor read it (on the slip and the
    ticket's page); None otherwise, and for every visit not deferred."""
    screening = visit.screening
    if slip_kind(visit) != DEFERRAL_SLIP or not screening.tell_reason:
        return None
    return screening.deferral_reason


# Reasons whose advice may show on the ticket's public page: "your body is not ready today"
# reasons that tell a stranger nothing they should not know. The reason itself never shows there.
PUBLIC_ADVICE_REASONS = frozenset(
    {"low_hemoglobin", "low_weight", "blood_pressure", "recent_donation"}
)


def reason_for_public_advice(visit: Visit) -> str | None:
    """The reason code whose advice the ticket's public page may give; None otherwise."""
    reason = reason_the_donor_may_read(visit)
    return reason if reason in PUBLIC_ADVICE_REASONS else None
