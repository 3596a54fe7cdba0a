"""The journey's state machine: every action × every stage × what the visit holds.

A visit reaches the collection line, the chair, the rest area and the end only with an eligible
screening; the rest area and the end only with a donation; a deferral only with a deferring
screening. The walk below tries every action from every stage with each combination of records,
and checks that exactly the moves of the table whose records are present are allowed.
"""

from __future__ import annotations

import itertools

import pytest

from kiosk.domain.journey import (
    FINAL_STAGES,
    TRANSITIONS,
    Records,
    Stage,
    TransitionRefused,
    target_stage,
)

NOTHING = Records()
ELIGIBLE = Records(decision="eligible")
DEFERRED_UNTIL = Records(decision="deferred_temporary")
DEFERRED_FOR_EVER = Records(decision="deferred_permanent")
DONATED = Records(decision="eligible", donation=True)
# A donation without an eligible screening cannot be made; if one were ever found, it opens nothing.
DONATION_ONLY = Records(donation=True)
DEFERRED_WITH_DONATION = Records(decision="deferred_temporary", donation=True)
ALL_RECORDS = (
    NOTHING,
    ELIGIBLE,
    DEFERRED_UNTIL,
    DEFERRED_FOR_EVER,
    DONATED,
    DONATION_ONLY,
    DEFERRED_WITH_DONATION,
)

SCREENED_ELIGIBLE = {ELIGIBLE, DONATED}
SCREENED_DEFERRING = {DEFERRED_UNTIL, DEFERRED_FOR_EVER, DEFERRED_WITH_DONATION}

# (action, from, to, the records with which the move is allowed)
ALLOWED = [
    ("call", Stage.WAITING_INTERVIEW, Stage.INTERVIEW, set(ALL_RECORDS)),
    ("call", Stage.WAITING_COLLECTION, Stage.COLLECTION, SCREENED_ELIGIBLE),
    ("recall", Stage.INTERVIEW, Stage.INTERVIEW, set(ALL_RECORDS)),
    ("recall", Stage.COLLECTION, Stage.COLLECTION, SCREENED_ELIGIBLE),
    ("no_show", Stage.INTERVIEW, Stage.NO_SHOW, set(ALL_RECORDS)),
    ("no_show", Stage.COLLECTION, Stage.NO_SHOW, set(ALL_RECORDS)),
    ("accept", Stage.INTERVIEW, Stage.WAITING_COLLECTION, SCREENED_ELIGIBLE),
    ("defer", Stage.INTERVIEW, Stage.DEFERRED, SCREENED_DEFERRING),
    ("donate", Stage.COLLECTION, Stage.REST, {DONATED}),
    ("finish", Stage.REST, Stage.DONE, {DONATED}),
    ("put_back_interview", Stage.NO_SHOW, Stage.WAITING_INTERVIEW, set(ALL_RECORDS)),
    ("put_back_collection", Stage.NO_SHOW, Stage.WAITING_COLLECTION, SCREENED_ELIGIBLE),
] + [("leave", stage, Stage.LEFT, set(ALL_RECORDS)) for stage in Stage if stage not in FINAL_STAGES]

ALLOWED_MOVES = {(action, stage): (to, records) for action, stage, to, records in ALLOWED}

WALK = list(itertools.product(TRANSITIONS, Stage, ALL_RECORDS))


@pytest.mark.parametrize(("action", "stage", "records"), WALK)
def test_every_action_from_every_stage_with_every_record(action, stage, records):
    to_stage, allowed_with = ALLOWED_MOVES.get((action, stage), (None, set()))
    if records in allowed_with:
        assert target_stage(action, stage, records) == to_stage
    else:
        with pytest.raises(TransitionRefused) as refused:
            target_stage(action, stage, records)
        # A move the table knows is refused for the record it lacks, and says which.
        assert (refused.value.missing is not None) == ((action, stage) in ALLOWED_MOVES)


@pytest.mark.parametrize(
    ("action", "stage", "records", "missing"),
    [
        ("accept", Stage.INTERVIEW, NOTHING, "eligible_screening"),
        ("accept", Stage.INTERVIEW, DEFERRED_UNTIL, "eligible_screening"),
        ("defer", Stage.INTERVIEW, NOTHING, "deferring_screening"),
        ("defer", Stage.INTERVIEW, ELIGIBLE, "deferring_screening"),
        ("donate", Stage.COLLECTION, ELIGIBLE, "donation"),
        ("donate", Stage.COLLECTION, DONATION_ONLY, "eligible_screening"),
        ("finish", Stage.REST, ELIGIBLE, "donation"),
        ("call", Stage.WAITING_COLLECTION, NOTHING, "eligible_screening"),
        ("put_back_collection", Stage.NO_SHOW, DEFERRED_FOR_EVER, "eligible_screening"),
    ],
)
def test_a_refusal_names_the_missing_record(action, stage, records, missing):
    with pytest.raises(TransitionRefused) as refused:
        target_stage(action, stage, records)
    assert refused.value.missing == missing
    assert missing.replace("_", " ") in str(refused.value)


def test_no_records_given_means_nothing_recorded():
    assert target_stage("call", Stage.WAITING_INTERVIEW) == Stage.INTERVIEW
    with pytest.raises(TransitionRefused):
        target_stage("accept", Stage.INTERVIEW)


def test_unknown_actions_and_stages_are_refused():
    with pytest.raises(TransitionRefused):
        target_stage("teleport", Stage.WAITING_INTERVIEW, DONATED)
    with pytest.raises(TransitionRefused):
        target_stage("call", "nowhere", DONATED)


def test_nothing_leaves_a_final_stage():
    for stage, action, records in itertools.product(FINAL_STAGES, TRANSITIONS, ALL_RECORDS):
        with pytest.raises(TransitionRefused):
            target_stage(action, stage, records)
