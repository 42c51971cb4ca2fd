"""Plan: the implementation plan, or the list of what the plan file still lacks."""

from datetime import UTC, datetime

import pytest

from musharaka.stages import plan as plan_stage
from musharaka.stages import prepare
from musharaka.stages.common import MissingInputs
from tests.stages.plans_fixture import SATISFACTION, changed

NOW = datetime(2025, 6, 16, tzinfo=UTC)
PREPARED = prepare.run(prepare.Inputs(), SATISFACTION, NOW)


def test_complete_plan_totals_the_budget_and_orders_the_timeline() -> None:
    outputs = plan_stage.run(plan_stage.Inputs(prepare=PREPARED), SATISFACTION, NOW)
    assert outputs.budget_total == 420.0
    assert [m.on for m in outputs.timeline] == sorted(m.on for m in outputs.timeline)
    assert outputs.channels == ("website", "e-survey")


@pytest.mark.parametrize("dropped", ["budget", "slogan", "analysis_method", "reach"])
def test_each_missing_answer_is_named(dropped: str) -> None:
    section = {k: v for k, v in SATISFACTION.plan.model_dump().items() if k != dropped}
    with pytest.raises(MissingInputs) as failure:
        plan_stage.run(plan_stage.Inputs(prepare=PREPARED), changed(SATISFACTION, plan=section), NOW)
    assert [m.split(":")[0] for m in failure.value.missing] == [f"plan.{dropped}"]
