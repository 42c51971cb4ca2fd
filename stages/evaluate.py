"""Stage 6, evaluate (guide 8.1.6): the campaign's own figures, and the team's lessons."""

from datetime import datetime

from musharaka.stages import analyse, announce, conduct
from musharaka.stages.common import StageModel, activity
from musharaka.stages.plans import Bilingual, CampaignPlan, Prose, Strict
from musharaka.stages.risks import Register

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
    """The team's answers to the guide's evaluation questions; any may be left out and submitted later."""

    method_understood: Prose | None = None
    participation_drivers: Prose | None = None
    channels_served: Prose | None = None
    contributions_useful: Prose | None = None
    lessons: tuple[Prose, ...] = ()
    improvements: tuple[Prose, ...] = ()


Submitted = Lessons

# The team's answers, each with the guide's question it answers; figures answer the others in part.
TEAM_QUESTIONS: dict[str, Bilingual] = {
    "method_understood": ACTIVITIES[0],
    "participation_drivers": ACTIVITIES[1],
    "channels_served": ACTIVITIES[2],
    "contributions_useful": ACTIVITIES[3],
    "lessons": ACTIVITIES[4],
    "improvements": ACTIVITIES[4],
}


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
    risks: Register | None = None  # the risk register as the evaluation runs (stages/risks.py)


class Outputs(StageModel):
    """The campaign's own figures beside the team's answers; `unanswered` names what the team has not said."""

    participants: int
    kpis: tuple[conduct.KpiProgress, ...]
    by_channel: dict[str, int]
    by_audience: dict[str, int]
    influenced_decision: bool
    timings: tuple[StageTiming, ...]
    reworks: int
    answers: dict[str, Prose | None]  # the team's answer per question id of TEAM_QUESTIONS (None: not answered)
    lessons: tuple[Prose, ...]
    improvements: tuple[Prose, ...]
    unanswered: tuple[str, ...]
    risks: Register | None = None


def run(inputs: Inputs, plan: CampaignPlan, now: datetime) -> Outputs:
    """Answer what the figures can; mark what only the team can answer and has not, rather than stop.

    The evaluation is the last stage: holding it open for an answer nobody writes would keep the
    campaign, its figures and its lessons out of the programme's record, so the gaps go to the gate.
    """
    team = inputs.lessons or Lessons()
    answers = {
        key: getattr(team, key)
        for key in ("method_understood", "participation_drivers", "channels_served", "contributions_useful")
    }
    unanswered = [key for key, answer in answers.items() if answer is None]
    unanswered += [key for key in ("lessons", "improvements") if not getattr(team, key)]
    return Outputs(
        participants=inputs.conduct.total,
        kpis=inputs.conduct.kpis,
        by_channel=inputs.conduct.by_channel,
        by_audience=inputs.conduct.by_audience,
        influenced_decision=inputs.analyse.decision.based_on_contributions,
        timings=inputs.timings,
        reworks=sum(t.attempts - 1 for t in inputs.timings),
        answers=answers,
        lessons=team.lessons,
        improvements=team.improvements,
        unanswered=tuple(unanswered),
        risks=inputs.risks,
    )
