"""The shipped sample plans, loaded once, for the pure stage tests."""

from musharaka.flows.planfiles.loading import load_plans
from musharaka.stages.plans import CampaignPlan
from musharaka.state.settings import package_folder

# read where they are installed: these tests only read them
_plans, _problems = load_plans([package_folder("musharaka.plans")])
assert not _problems, _problems
SATISFACTION: CampaignPlan = _plans.campaigns["moheri-2025-q3-satisfaction"]
VOTE: CampaignPlan = _plans.campaigns["moheri-2025-q1-chatbot-name"]


def changed(base: CampaignPlan, **updates: object) -> CampaignPlan:
    """A copy of a plan with some fields replaced, validated again."""
    return CampaignPlan.model_validate({**base.model_dump(), **updates})
