"""Stage 3, conduct (guide 8.1.3): the window runs its course; what participants contributed is counted."""

from collections import Counter
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from stages import plan as plan_stage
from stages.common import MissingInputs, NotYet, StageModel, activity
from stages.plans import Bilingual, CampaignPlan

ACTIVITIES = (
    activity("Launch on the chosen channels", "الإطلاق عبر القنوات المختارة"),
    activity("Keep the dialogue going for the planned period", "استمرار الحوار طوال المدة المخططة"),
    activity("Keep a senior-management contact informed", "إبقاء جهة اتصال في الإدارة العليا على اطلاع"),
    activity("Promote the campaign in traditional media", "الترويج للحملة في الإعلام التقليدي"),
    activity("Manage contributions carefully", "إدارة المساهمات بعناية"),
    activity("Stay flexible, e.g. extend the participation window", "المرونة، مثل تمديد فترة المشاركة"),
)

Answer = str | float | list[str] | None


class Contribution(StageModel):
    """One participant's answers, keyed by question id."""

    submitted_at: datetime
    channel: str
    audience: str
    answers: dict[str, Answer]


class KpiProgress(StageModel):
    id: str
    name: Bilingual
    target: float
    actual: float
    share: float  # actual / target, 1.0 = target met


class Inputs(StageModel):
    plan: plan_stage.Outputs
    contributions: tuple[Contribution, ...]
    extended_to: date | None = None  # a later closing date decided at the conduct gate


class Outputs(StageModel):
    """The contributions collected during the window, counted every way the plan cares about."""

    opens_at: datetime
    closes_at: datetime
    timezone: str
    total: int
    by_channel: dict[str, int]
    by_audience: dict[str, int]
    by_day: dict[str, int]
    answered: dict[str, int]
    kpis: tuple[KpiProgress, ...]


def run(inputs: Inputs, plan: CampaignPlan, now: datetime) -> Outputs:
    """Count the contributions once the window has closed; until then the stage waits."""
    closes = inputs.extended_to or inputs.plan.window_closes
    opens_at, closes_at = plan.window.opens_at(), plan.window.closes_at(closes)
    if now < opens_at:
        window = f"{plan.window.opens} to {closes}"
        raise NotYet(f"the participation window ({window}) has not opened yet", opens_at)
    if now < closes_at:
        raise NotYet("the participation window is open", closes_at)
    contributions = inputs.contributions
    if not contributions:
        raise MissingInputs(["conduct.contributions: no contributions were submitted for this campaign"])
    zone = ZoneInfo(plan.window.timezone)
    by_channel = Counter(c.channel for c in contributions)
    by_audience = Counter(c.audience for c in contributions)
    by_day = Counter(c.submitted_at.astimezone(zone).date().isoformat() for c in contributions)
    answered = Counter(
        question for c in contributions for question, value in c.answers.items() if value not in (None, "", [])
    )
    return Outputs(
        opens_at=opens_at.astimezone(UTC),
        closes_at=closes_at.astimezone(UTC),
        timezone=plan.window.timezone,
        total=len(contributions),
        by_channel=dict(sorted(by_channel.items())),
        by_audience=dict(sorted(by_audience.items())),
        by_day=dict(sorted(by_day.items())),
        answered={q.id: answered.get(q.id, 0) for q in plan.instrument},
        kpis=tuple(_progress(plan, len(contributions), by_audience, by_channel)),
    )


def _progress(plan: CampaignPlan, total: int, by_audience: Counter[str], by_channel: Counter[str]) -> list[KpiProgress]:
    progress = []
    for kpi in plan.kpis:
        if kpi.measure == "contributions":
            actual = total
        elif kpi.measure == "audience-contributions":
            actual = by_audience.get(kpi.audience or "", 0)
        else:
            actual = by_channel.get(kpi.channel or "", 0)
        progress.append(
            KpiProgress(
                id=kpi.id,
                name=kpi.name,
                target=kpi.target,
                actual=actual,
                share=round(actual / kpi.target, 4),
            )
        )
    return progress
