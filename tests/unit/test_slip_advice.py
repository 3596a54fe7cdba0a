"""What a deferred donor may read about their deferral: on the printed slip when the doctor
allows it, and on the ticket's public page only advice that tells a stranger nothing."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from kiosk.domain.medical import DEFERRAL_REASONS
from kiosk.domain.slips import (
    PUBLIC_ADVICE_REASONS,
    reason_for_public_advice,
    reason_the_donor_may_read,
)
from kiosk.web.messages import DEFERRAL_ADVICE


def deferred(reason: str, tell_reason: bool = True, stage: str = "deferred"):
    screening = SimpleNamespace(deferral_reason=reason, tell_reason=tell_reason)
    return SimpleNamespace(stage=stage, screening=screening, donation=None)


def test_the_slip_gives_the_reason_only_when_the_doctor_allows_it():
    assert reason_the_donor_may_read(deferred("low_hemoglobin")) == "low_hemoglobin"
    assert reason_the_donor_may_read(deferred("low_hemoglobin", tell_reason=False)) is None


def test_a_visit_not_deferred_has_no_reason_to_read():
    assert reason_the_donor_may_read(deferred("low_hemoglobin", stage="interview")) is None


@pytest.mark.parametrize("reason", DEFERRAL_REASONS)
def test_the_public_page_advises_only_on_harmless_reasons(reason):
    shown = reason_for_public_advice(deferred(reason))
    assert shown == (reason if reason in PUBLIC_ADVICE_REASONS else None)
    assert reason_for_public_advice(deferred(reason, tell_reason=False)) is None


def test_every_advice_is_for_a_known_reason_and_every_public_reason_has_advice():
    assert set(DEFERRAL_ADVICE) <= set(DEFERRAL_REASONS)
    assert PUBLIC_ADVICE_REASONS <= set(DEFERRAL_ADVICE)
    for sensitive in ("infection_risk", "malaria_risk", "pregnancy", "medication", "infection"):
        assert sensitive not in PUBLIC_ADVICE_REASONS
