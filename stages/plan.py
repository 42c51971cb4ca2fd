"""Stage 2, plan (guide 8.1.2): the campaign implementation plan, with every question answered."""

from datetime import date, datetime

from pydantic import Field

from musharaka.stages import prepare
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


def run(inputs: Inputs, plan: CampaignPlan, now: datetime) -> Outputs:
    """Assemble the implementation plan; fail listing each answer the plan file still lacks."""
    section = plan.plan
    missing = [f"plan.{name}: {what}" for name, what in REQUIRED.items() if absent(getattr(section, name))]
    missing += unknown_lessons(plan, inputs.lessons)
    if missing:
        raise MissingInputs(missing)
    assert section.budget and section.slogan and section.detailed_objective
    assert section.analysis_method and section.results_communication
    return Outputs(
        goal=inputs.prepare.goal,
        detailed_objective=section.detailed_objective,
        segments=inputs.prepare.audience_segments,
        stakeholders=section.stakeholders,
        experts=section.experts,
        influencers=section.influencers,
        timeline=tuple(sorted(section.timeline, key=lambda m: m.on)),
        channels=plan.channels,
        tools=plan.tools,
        resources=section.resources,
        budget=section.budget,
        budget_total=section.budget.total,
        slogan=section.slogan,
        key_messages=section.key_messages,
        reach=section.reach,
        analysis_method=section.analysis_method,
        decision_method=plan.decision_method,
        results_communication=section.results_communication,
        window_opens=plan.window.opens,
        window_closes=plan.window.closes,
        timezone=plan.window.timezone,
        questions=len(plan.instrument),
        cited_lessons={cited: inputs.lessons[cited] for cited in section.cites_lessons},
    )


def absent(value: object) -> bool:
    if isinstance(value, str) or value is None:
        return blank(value)
    if isinstance(value, tuple):
        return not value
    return False
