"""Stage 1, prepare (guide 8.1.1): state the goal, confirm readiness, get management's green light."""

from datetime import datetime

from musharaka.stages.activities import Activity, Missing, Perform, Run, StageDefinition, directly
from musharaka.stages.common import MissingInputs, StageModel, activity
from musharaka.stages.plans import Audience, Bilingual, CampaignPlan, Kind, Level, Prose, Readiness

ACTIVITIES = (
    activity("State the campaign's objective", "تحديد هدف الحملة"),
    activity("Gauge senior management's support", "قياس مدى دعم الإدارة العليا"),
    activity(
        "Check institutional readiness: people, budget, procedures and law",
        "التأكد من الجاهزية المؤسسية: الأفراد والميزانية والإجراءات والتشريعات",
    ),
    activity(
        "Check the target audience's understanding and readiness",
        "التأكد من فهم الجمهور المستهدف وجاهزيته",
    ),
)

QUESTIONS = {
    "objective": "What is the campaign's objective?",
    "management_support": "How far does senior management support it?",
    "institutional_readiness": "Is the agency ready: people, budget, procedures, law?",
    "audience_readiness": "Does the target audience understand the topic and can it take part?",
}

Submitted = Readiness


class Inputs(StageModel):
    """The readiness answers a team submitted, which take precedence over the plan's."""

    submitted: Readiness | None = None


class Outputs(StageModel):
    subject: Bilingual
    goal: Bilingual
    level: Level
    kind: Kind
    readiness: dict[str, Prose]
    green_light: Prose
    audience_segments: tuple[Audience, ...]
    audience_knowledge: Prose | None


class Given(Run):
    inputs: Inputs


class Answer(StageModel):
    """One readiness question answered, by the team's submission or else by the plan."""

    question: str
    answer: Prose


class Objective(StageModel):
    answer: Answer
    subject: Bilingual
    goal: Bilingual
    level: Level
    kind: Kind


class AudienceReadiness(StageModel):
    answer: Answer
    segments: tuple[Audience, ...]
    knowledge: Prose | None


def state_objective(given: Given) -> Objective:
    plan = given.plan
    return Objective(
        answer=_answer(given, "objective"),
        subject=plan.prepare.subject,
        goal=plan.objective,
        level=plan.level,
        kind=plan.kind,
    )


def _answer(given: Given, name: str) -> Answer:
    """The team's answer to one question (a blank answer was read as none: plans.Answer), else the plan's."""
    submitted = given.inputs.submitted
    value: Prose | None = getattr(submitted, name) if submitted else None
    if value is None:
        value = getattr(given.plan.prepare.readiness, name)
    if value is None:
        raise MissingInputs([f"prepare.readiness.{name}: {QUESTIONS[name]}"])
    return Answer(question=name, answer=value)


def gauge_support(given: Given) -> Answer:
    return _answer(given, "management_support")


def check_institution(given: Given) -> Answer:
    return _answer(given, "institutional_readiness")


def check_audience(given: Given) -> AudienceReadiness:
    return AudienceReadiness(
        answer=_answer(given, "audience_readiness"),
        segments=given.plan.audiences,
        knowledge=given.plan.prepare.audience_knowledge,
    )


TEAM = Bilingual(en="the campaign team's readiness answers", ar="إجابات فريق الحملة عن الجاهزية")
OBJECTIVE = Activity("prepare.objective", ACTIVITIES[0], state_objective, waits_for=TEAM)
SUPPORT = Activity("prepare.management-support", ACTIVITIES[1], gauge_support, waits_for=TEAM)
INSTITUTION = Activity("prepare.institutional-readiness", ACTIVITIES[2], check_institution, waits_for=TEAM)
AUDIENCE = Activity("prepare.audience-readiness", ACTIVITIES[3], check_audience, waits_for=TEAM)


def run(inputs: Inputs, plan: CampaignPlan, now: datetime, perform: Perform = directly) -> Outputs:
    """Confirm the four readiness answers; fail with the list of those still unanswered."""
    given = Given(inputs=inputs, plan=plan, now=now)
    missing = Missing(perform)
    objective = missing.attempt(OBJECTIVE, given)
    support = missing.attempt(SUPPORT, given)
    institution = missing.attempt(INSTITUTION, given)
    audience = missing.attempt(AUDIENCE, given)
    missing.raise_if_any()
    assert objective and support and institution and audience  # raise_if_any: each was answered
    return Outputs(
        subject=objective.subject,
        goal=objective.goal,
        level=objective.level,
        kind=objective.kind,
        readiness={a.question: a.answer for a in (objective.answer, support, institution, audience.answer)},
        green_light=support.answer,
        audience_segments=audience.segments,
        audience_knowledge=audience.knowledge,
    )


STAGE = StageDefinition(
    name="prepare",
    inputs=Inputs,
    outputs=Outputs,
    submitted=Readiness,
    activities=(OBJECTIVE, SUPPORT, INSTITUTION, AUDIENCE),
    run=run,
)
