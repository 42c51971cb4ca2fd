"""Prepare: the four readiness answers, from the plan or a submitted file."""

from datetime import UTC, datetime

import pytest

from musharaka.stages import prepare
from musharaka.stages.common import MissingInputs
from musharaka.stages.plans import Prose, Readiness
from tests.stages.plans_fixture import SATISFACTION, changed

NOW = datetime(2025, 6, 15, tzinfo=UTC)


def test_answered_plan_gives_goal_readiness_and_segments() -> None:
    outputs = prepare.run(prepare.Inputs(), SATISFACTION, NOW)
    assert outputs.goal == SATISFACTION.objective
    assert set(outputs.readiness) == set(prepare.QUESTIONS)
    assert outputs.green_light == SATISFACTION.prepare.readiness.management_support
    assert [a.id for a in outputs.audience_segments][:2] == ["students", "researchers"]


def test_missing_answers_are_listed_exactly() -> None:
    section = SATISFACTION.prepare.model_dump()
    section["readiness"] = {"objective": "Consult", "management_support": "  "}
    plan = changed(SATISFACTION, prepare=section)
    with pytest.raises(MissingInputs) as failure:
        prepare.run(prepare.Inputs(), plan, NOW)
    assert [m.split(":")[0] for m in failure.value.missing] == [
        "prepare.readiness.management_support",
        "prepare.readiness.institutional_readiness",
        "prepare.readiness.audience_readiness",
    ]


def test_submitted_answers_take_precedence_over_the_plan() -> None:
    submitted = Readiness(management_support="The DG chairs the steering group.")
    outputs = prepare.run(prepare.Inputs(submitted=submitted), SATISFACTION, NOW)
    assert outputs.readiness["management_support"] == Prose(en="The DG chairs the steering group.")
    assert outputs.readiness["objective"] == SATISFACTION.prepare.readiness.objective
