"""Stage 2, plan (guide 8.1.2): the campaign implementation plan, with every question answered."""

from datetime import date, datetime

from pydantic import Field

from musharaka.stages import prepare
from musharaka.stages.activities import Activity, Missing, Perform, Run, StageDefinition, directly
from musharaka.stages.common import MissingInputs, StageModel, activity, blank
from musharaka.stages.plans import (
    Audience,
    Bilingual,
    Budget,
    CampaignPlan,
    Channel,
    DecisionMethod,
    Expert,
    Influencer,
    Milestone,
    Party,
    Prose,
    Resource,
    Tool,
)

ACTIVITIES = (
    activity("Detail the objective and the target segments", "تفصيل الهدف والفئات المستهدفة"),
    activity(
        "Name stakeholders, experts and influencers",
        "تحديد الجهات المعنية والخبراء والمؤثرين",
    ),
    activity("Set the timeline, tools, people and budget", "تحديد الجدول الزمني والأدوات والأفراد والميزانية"),
    activity("Write the slogan and key messages", "صياغة الشعار والرسائل الرئيسية"),
    activity("Plan reach, analysis and how the decision is taken", "تخطيط الوصول والتحليل وآلية اتخاذ القرار"),
    activity("Plan how results will be communicated", "تخطيط آلية إعلان النتائج"),
)

REQUIRED = {
    "detailed_objective": "the detailed objective",
    "timeline": "a timeline with at least one milestone",
    "resources": "the people who will run it",
    "budget": "a budget with its items",
    "slogan": "a slogan in Arabic and English",
    "key_messages": "at least one key message",
    "reach": "how participants are attracted and reach is made broad",
    "analysis_method": "how ideas are collected and analysed",
    "results_communication": "how the results will be communicated",
}


class Inputs(StageModel):
    prepare: prepare.Outputs
    # the lessons register: id -> lesson or improvement proposal
    lessons: dict[str, Prose] = Field(default_factory=dict)


class Outputs(StageModel):
    """The campaign implementation plan."""

    goal: Bilingual
    detailed_objective: Prose
    segments: tuple[Audience, ...]
    stakeholders: tuple[Party, ...]
    experts: tuple[Expert, ...]
    influencers: tuple[Influencer, ...]
    timeline: tuple[Milestone, ...]
    channels: tuple[Channel, ...]
    tools: tuple[Tool, ...]
    resources: tuple[Resource, ...]
    budget: Budget
    budget_total: float
    slogan: Bilingual
    key_messages: tuple[Bilingual, ...]
    reach: tuple[Prose, ...]
    analysis_method: Prose
    decision_method: DecisionMethod
    results_communication: Prose
    window_opens: date
    window_closes: date
    timezone: str
    questions: int
    cited_lessons: dict[str, Prose] = Field(default_factory=dict)  # id -> text, from the lessons register


def unknown_lessons(plan: CampaignPlan, register: dict[str, Prose]) -> list[str]:
    """The plan's cited lesson ids the register does not hold, each as what was expected and found."""
    return [
        f"plan.cites_lessons: expected an id from the lessons register (musharaka lessons), found {cited!r}"
        for cited in plan.plan.cites_lessons
        if cited not in register
    ]


class Given(Run):
    inputs: Inputs


class Objective(StageModel):
    goal: Bilingual
    detailed_objective: Prose
    segments: tuple[Audience, ...]
    cited_lessons: dict[str, Prose]


class People(StageModel):
    stakeholders: tuple[Party, ...]
    experts: tuple[Expert, ...]
    influencers: tuple[Influencer, ...]


class Means(StageModel):
    timeline: tuple[Milestone, ...]
    channels: tuple[Channel, ...]
    tools: tuple[Tool, ...]
    resources: tuple[Resource, ...]
    budget: Budget
    window_opens: date
    window_closes: date
    timezone: str


class Messages(StageModel):
    slogan: Bilingual
    key_messages: tuple[Bilingual, ...]


class Method(StageModel):
    reach: tuple[Prose, ...]
    analysis_method: Prose
    decision_method: DecisionMethod
    questions: int


class ResultsPlan(StageModel):
    results_communication: Prose


def _require(plan: CampaignPlan, *names: str) -> None:
    """Fail naming each of these answers the plan file still lacks."""
    missing = [f"plan.{name}: {REQUIRED[name]}" for name in names if absent(getattr(plan.plan, name))]
    if missing:
        raise MissingInputs(missing)


def detail_objective(given: Given) -> Objective:
    plan, section = given.plan, given.plan.plan
    lacking = unknown_lessons(plan, given.inputs.lessons)
    try:
        _require(plan, "detailed_objective")
    except MissingInputs as missing:
        lacking = missing.missing + lacking
    if lacking:
        raise MissingInputs(lacking)
    assert section.detailed_objective  # _require
    return Objective(
        goal=given.inputs.prepare.goal,
        detailed_objective=section.detailed_objective,
        segments=given.inputs.prepare.audience_segments,
        cited_lessons={cited: given.inputs.lessons[cited] for cited in section.cites_lessons},
    )


def name_people(given: Given) -> People:
    section = given.plan.plan
    return People(stakeholders=section.stakeholders, experts=section.experts, influencers=section.influencers)


def set_means(given: Given) -> Means:
    plan, section = given.plan, given.plan.plan
    _require(plan, "timeline", "resources", "budget")
    assert section.budget  # _require
    return Means(
        timeline=tuple(sorted(section.timeline, key=lambda m: m.on)),
        channels=plan.channels,
        tools=plan.tools,
        resources=section.resources,
        budget=section.budget,
        window_opens=plan.window.opens,
        window_closes=plan.window.closes,
        timezone=plan.window.timezone,
    )


def write_messages(given: Given) -> Messages:
    section = given.plan.plan
    _require(given.plan, "slogan", "key_messages")
    assert section.slogan  # _require
    return Messages(slogan=section.slogan, key_messages=section.key_messages)


def plan_method(given: Given) -> Method:
    plan, section = given.plan, given.plan.plan
    _require(plan, "reach", "analysis_method")
    assert section.analysis_method  # _require
    return Method(
        reach=section.reach,
        analysis_method=section.analysis_method,
        decision_method=plan.decision_method,
        questions=len(plan.instrument),
    )


def plan_results(given: Given) -> ResultsPlan:
    section = given.plan.plan
    _require(given.plan, "results_communication")
    assert section.results_communication  # _require
    return ResultsPlan(results_communication=section.results_communication)


PLANNERS = Bilingual(en="the planning department's plan file", ar="ملف خطة إدارة التخطيط")
OBJECTIVE = Activity("plan.objective-and-segments", ACTIVITIES[0], detail_objective, waits_for=PLANNERS)
PEOPLE = Activity("plan.stakeholders", ACTIVITIES[1], name_people)
MEANS = Activity("plan.timeline-and-means", ACTIVITIES[2], set_means, waits_for=PLANNERS)
MESSAGES = Activity("plan.slogan-and-messages", ACTIVITIES[3], write_messages, waits_for=PLANNERS)
METHOD = Activity("plan.reach-and-method", ACTIVITIES[4], plan_method, waits_for=PLANNERS)
RESULTS = Activity("plan.results-communication", ACTIVITIES[5], plan_results, waits_for=PLANNERS)


def run(inputs: Inputs, plan: CampaignPlan, now: datetime, perform: Perform = directly) -> Outputs:
    """Assemble the implementation plan; fail listing each answer the plan file still lacks."""
    given = Given(inputs=inputs, plan=plan, now=now)
    missing = Missing(perform)
    objective = missing.attempt(OBJECTIVE, given)
    people = perform(PEOPLE, given)
    means = missing.attempt(MEANS, given)
    messages = missing.attempt(MESSAGES, given)
    method = missing.attempt(METHOD, given)
    results = missing.attempt(RESULTS, given)
    missing.raise_if_any()
    assert objective and means and messages and method and results  # raise_if_any: each was done
    return Outputs(
        **dict(objective),
        **dict(people),
        **dict(means),
        budget_total=means.budget.total,
        **dict(messages),
        **dict(method),
        **dict(results),
    )


def absent(value: object) -> bool:
    if isinstance(value, str) or value is None:
        return blank(value)
    if isinstance(value, tuple):
        return not value
    return False


STAGE = StageDefinition(
    name="plan",
    inputs=Inputs,
    outputs=Outputs,
    submitted=None,
    activities=(OBJECTIVE, PEOPLE, MEANS, MESSAGES, METHOD, RESULTS),
    run=run,
)
