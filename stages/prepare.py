"""Stage 1, prepare (guide 8.1.1): state the goal, confirm readiness, get management's green light."""

from datetime import datetime

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


def run(inputs: Inputs, plan: CampaignPlan, now: datetime) -> Outputs:
    """Confirm the four readiness answers; fail with the list of those still unanswered."""
    answers: dict[str, Prose] = {}
    missing = []
    for name, question in QUESTIONS.items():  # a blank answer was read as none (plans.Answer)
        value: Prose | None = getattr(inputs.submitted, name, None) if inputs.submitted else None
        if value is None:
            value = getattr(plan.prepare.readiness, name)
        if value is None:
            missing.append(f"prepare.readiness.{name}: {question}")
        else:
            answers[name] = value
    if missing:
        raise MissingInputs(missing)
    return Outputs(
        subject=plan.prepare.subject,
        goal=plan.objective,
        level=plan.level,
        kind=plan.kind,
        readiness=answers,
        green_light=answers["management_support"],
        audience_segments=plan.audiences,
        audience_knowledge=plan.prepare.audience_knowledge,
    )
