"""The shipped sample plans, loaded once, for the pure stage tests."""

from flows.planfiles import load_plans
from stages.plans import CampaignPlan
from state.settings import PROJECT_ROOT

_plans, _problems = load_plans([PROJECT_ROOT / "plans"])
assert not _problems, _problems
SATISFACTION: CampaignPlan = _plans.campaigns["moheri-2025-q3-satisfaction"]
VOTE: CampaignPlan = _plans.campaigns["moheri-2025-q1-chatbot-name"]


def changed(base: CampaignPlan, **updates: object) -> CampaignPlan:
    """A copy of a plan with some fields replaced, validated again."""
    return CampaignPlan.model_validate({**base.model_dump(), **updates})
