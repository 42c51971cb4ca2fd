"""Stage 6, evaluate (guide 8.1.6): the campaign's own figures, and the team's lessons."""

from datetime import datetime

from musharaka.stages import analyse, announce, conduct
from musharaka.stages.activities import Activity, Perform, Run, StageDefinition, directly
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


class Given(Run):
    inputs: Inputs

    @property
    def team(self) -> Lessons:
        return self.inputs.lessons or Lessons()


class Method(StageModel):
    understood: Prose | None
    timings: tuple[StageTiming, ...]
    reworks: int


class Participation(StageModel):
    participants: int
    kpis: tuple[conduct.KpiProgress, ...]
    drivers: Prose | None


class Channels(StageModel):
    by_channel: dict[str, int]
    by_audience: dict[str, int]
    served: Prose | None


class Usefulness(StageModel):
    influenced_decision: bool
    useful: Prose | None


class Improvements(StageModel):
    lessons: tuple[Prose, ...]
    improvements: tuple[Prose, ...]
    risks: Register | None  # the register and the signals the campaign's figures raised: what to do otherwise


def review_method(given: Given) -> Method:
    timings = given.inputs.timings
    return Method(
        understood=given.team.method_understood, timings=timings, reworks=sum(t.attempts - 1 for t in timings)
    )


def review_participation(given: Given) -> Participation:
    conducted = given.inputs.conduct
    return Participation(participants=conducted.total, kpis=conducted.kpis, drivers=given.team.participation_drivers)


def review_channels(given: Given) -> Channels:
    conducted = given.inputs.conduct
    return Channels(
        by_channel=conducted.by_channel, by_audience=conducted.by_audience, served=given.team.channels_served
    )


def review_usefulness(given: Given) -> Usefulness:
    return Usefulness(
        influenced_decision=given.inputs.analyse.decision.based_on_contributions,
        useful=given.team.contributions_useful,
    )


def learn(given: Given) -> Improvements:
    return Improvements(lessons=given.team.lessons, improvements=given.team.improvements, risks=given.inputs.risks)


TEAM = Bilingual(en="the team's answers to the evaluation's questions", ar="إجابات الفريق عن أسئلة التقييم")
METHOD = Activity("evaluate.method", ACTIVITIES[0], review_method, waits_for=TEAM)
PARTICIPATION = Activity("evaluate.participation", ACTIVITIES[1], review_participation, waits_for=TEAM)
CHANNELS = Activity("evaluate.channels", ACTIVITIES[2], review_channels, waits_for=TEAM)
USEFULNESS = Activity("evaluate.contributions", ACTIVITIES[3], review_usefulness, waits_for=TEAM)
LEARN = Activity("evaluate.improvements", ACTIVITIES[4], learn, waits_for=TEAM)


def run(inputs: Inputs, plan: CampaignPlan, now: datetime, perform: Perform = directly) -> Outputs:
    """Answer what the figures can; mark what only the team can answer and has not, rather than stop.

    The evaluation is the last stage: holding it open for an answer nobody writes would keep the
    campaign, its figures and its lessons out of the programme's record, so the gaps go to the gate.
    """
    given = Given(inputs=inputs, plan=plan, now=now)
    method = perform(METHOD, given)
    participation = perform(PARTICIPATION, given)
    channels = perform(CHANNELS, given)
    usefulness = perform(USEFULNESS, given)
    learnt = perform(LEARN, given)
    answers = {
        "method_understood": method.understood,
        "participation_drivers": participation.drivers,
        "channels_served": channels.served,
        "contributions_useful": usefulness.useful,
    }
    unanswered = [key for key, answer in answers.items() if answer is None]
    unanswered += [key for key in ("lessons", "improvements") if not getattr(learnt, key)]
    return Outputs(
        participants=participation.participants,
        kpis=participation.kpis,
        by_channel=channels.by_channel,
        by_audience=channels.by_audience,
        influenced_decision=usefulness.influenced_decision,
        timings=method.timings,
        reworks=method.reworks,
        answers=answers,
        lessons=learnt.lessons,
        improvements=learnt.improvements,
        unanswered=tuple(unanswered),
        risks=learnt.risks,
    )


STAGE = StageDefinition(
    name="evaluate",
    inputs=Inputs,
    outputs=Outputs,
    submitted=Lessons,
    activities=(METHOD, PARTICIPATION, CHANNELS, USEFULNESS, LEARN),
    run=run,
)
