"""Stage 6, evaluate (guide 8.1.6): the campaign's own figures, and the team's lessons."""

from datetime import datetime

from pydantic import Field

from stages import analyse, announce, conduct
from stages.common import MissingInputs, StageModel, activity
from stages.plans import CampaignPlan, Strict

ACTIVITIES = (
    activity("Was the method complete and understood by staff?", "هل كانت المنهجية مكتملة ومفهومة للموظفين؟"),
    activity("How high was participation and what drove it?", "ما مستوى المشاركة وما الذي دفعها؟"),
    activity("Did the channels serve?", "هل خدمت القنوات الغرض؟"),
    activity(
        "Were contributions useful, and did they influence the decision?",
        "هل كانت المساهمات مفيدة، وهل أثرت في القرار؟",
    ),
    activity("What to improve next time", "ما الذي يجب تحسينه في المرة القادمة"),
)


class Lessons(Strict):
    """The team's answers to the guide's evaluation questions."""

    method_understood: str = Field(min_length=1)
    participation_drivers: str = Field(min_length=1)
    channels_served: str = Field(min_length=1)
    contributions_useful: str = Field(min_length=1)
    lessons: tuple[str, ...] = Field(min_length=1)
    improvements: tuple[str, ...] = Field(min_length=1)


Submitted = Lessons


class StageTiming(StageModel):
    stage: str
    attempts: int
    days: float


class Inputs(StageModel):
    conduct: conduct.Outputs
    analyse: analyse.Outputs
    announce: announce.Outputs
    timings: tuple[StageTiming, ...]
    lessons: Lessons | None = None


class Outputs(StageModel):
    participants: int
    kpis: tuple[conduct.KpiProgress, ...]
    by_channel: dict[str, int]
    by_audience: dict[str, int]
    influenced_decision: bool
    timings: tuple[StageTiming, ...]
    reworks: int
    lessons: Lessons


def run(inputs: Inputs, plan: CampaignPlan, now: datetime) -> Outputs:
    """Put the figures beside the team's answers; the lessons cannot be computed, so they are required."""
    if inputs.lessons is None:
        raise MissingInputs(
            [
                "evaluate.lessons: the team's answers to the guide's evaluation questions, "
                "lessons and improvement proposals (submit a lessons file)"
            ]
        )
    return Outputs(
        participants=inputs.conduct.total,
        kpis=inputs.conduct.kpis,
        by_channel=inputs.conduct.by_channel,
        by_audience=inputs.conduct.by_audience,
        influenced_decision=inputs.analyse.decision.based_on_contributions,
        timings=inputs.timings,
        reworks=sum(t.attempts - 1 for t in inputs.timings),
        lessons=inputs.lessons,
    )
