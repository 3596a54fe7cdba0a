"""The journey's state machine: every allowed and every refused transition."""

from __future__ import annotations

import pytest

from kiosk.domain.journey import (
    FINAL_STAGES,
    TRANSITIONS,
    Stage,
    TransitionRefused,
    target_stage,
)

ALLOWED = [
    ("call", Stage.WAITING_INTERVIEW, Stage.INTERVIEW),
    ("call", Stage.WAITING_COLLECTION, Stage.COLLECTION),
    ("recall", Stage.INTERVIEW, Stage.INTERVIEW),
    ("recall", Stage.COLLECTION, Stage.COLLECTION),
    ("no_show", Stage.INTERVIEW, Stage.NO_SHOW),
    ("no_show", Stage.COLLECTION, Stage.NO_SHOW),
    ("accept", Stage.INTERVIEW, Stage.WAITING_COLLECTION),
    ("defer", Stage.INTERVIEW, Stage.DEFERRED),
    ("donate", Stage.COLLECTION, Stage.REST),
    ("finish", Stage.REST, Stage.DONE),
    ("put_back_interview", Stage.NO_SHOW, Stage.WAITING_INTERVIEW),
    ("put_back_collection", Stage.NO_SHOW, Stage.WAITING_COLLECTION),
] + [("leave", stage, Stage.LEFT) for stage in Stage if stage not in FINAL_STAGES]


@pytest.mark.parametrize(("action", "stage", "expected"), ALLOWED)
def test_allowed_transitions(action, stage, expected):
    assert target_stage(action, stage) == expected


REFUSED = [
    (action, stage)
    for action in TRANSITIONS
    for stage in Stage
    if (action, stage) not in {(a, s) for a, s, _ in ALLOWED}
]


@pytest.mark.parametrize(("action", "stage"), REFUSED)
def test_every_other_transition_is_refused(action, stage):
    with pytest.raises(TransitionRefused):
        target_stage(action, stage)


def test_unknown_actions_and_stages_are_refused():
    with pytest.raises(TransitionRefused):
        target_stage("teleport", Stage.WAITING_INTERVIEW)
    with pytest.raises(TransitionRefused):
        target_stage("call", "nowhere")


def test_nothing_leaves_a_final_stage():
    for stage in FINAL_STAGES:
        for action in TRANSITIONS:
            with pytest.raises(TransitionRefused):
                target_stage(action, stage)
