"""What a campaign still needs before each stage can run to its gate: what is to be written in the plan file,
and what is to be submitted on the way. `musharaka validate --readiness` lists it; the stages' own checks
(prepare.QUESTIONS, plan.REQUIRED) are the same ones, so the list promises exactly what they will ask for.
"""

from typing import NamedTuple

from musharaka.stages import plan as plan_stage
from musharaka.stages import prepare
from musharaka.stages.plans import CampaignPlan, Stage


class Need(NamedTuple):
    stage: Stage
    field: str  # where it goes: a key of the plan file, or what is submitted
    what: str
    how: str  # "write" (in the plan file), "write or submit", "submit"


def needs(plan: CampaignPlan) -> list[Need]:
    """Every input the stages will ask for that the plan does not hold yet, in stage order."""
    found = [
        Need("prepare", f"prepare.readiness.{name}", question, "write or submit")
        for name, question in prepare.QUESTIONS.items()
        if getattr(plan.prepare.readiness, name) is None
    ]
    found += [
        Need("plan", f"plan.{name}", what, "write")
        for name, what in plan_stage.REQUIRED.items()
        if plan_stage.absent(getattr(plan.plan, name))
    ]
    found.append(
        Need("conduct", "contributions", "an export of the answers from the tool that collected them", "submit")
    )
    found.append(Need("analyse", "analyse.decision", "the decision taken on the analysis", "submit"))
    return found


def to_write(plan: CampaignPlan) -> list[Need]:
    """What only the plan file can give, before the campaign reaches the stage that needs it."""
    return [need for need in needs(plan) if need.how == "write"]
