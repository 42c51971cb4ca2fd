"""Stage 4, analyse (guide 8.1.4): results per question, and a clear decision formally taken."""

import difflib
from collections import Counter
from datetime import datetime

from pydantic import Field

from stages import conduct
from stages.common import MissingInputs, StageModel, activity
from stages.conduct import Contribution
from stages.plans import Bilingual, CampaignPlan, DecisionMethod, Loc, Question, QuestionType, Strict

ACTIVITIES = (
    activity("Apply the planned analysis method and tools", "تطبيق منهجية التحليل وأدواته المخططة"),
    activity("Take the decision as the plan says", "اتخاذ القرار وفق الآلية المخططة"),
    activity("Weigh the decision's impact on each group", "تقدير أثر القرار على كل فئة"),
    activity(
        "Always reach a clear decision: closing without one harms trust",
        "الوصول دائماً إلى قرار واضح: الإغلاق دون قرار يضر بالثقة",
    ),
    activity("Have management approve the decision formally", "اعتماد القرار رسمياً من الإدارة"),
    activity("State the expected impact in facts and figures", "بيان الأثر المتوقع بالحقائق والأرقام"),
)


class GroupImpact(Strict):
    audience: str
    impact: str = Field(min_length=1)


class Decision(Strict):
    """The decision the team submits: what was decided, why, and what could not be adopted."""

    summary: Bilingual
    rationale: Bilingual
    not_adopted: Bilingual
    based_on_contributions: bool
    impact: tuple[GroupImpact, ...] = ()
    expected_impact: str | None = None


Submitted = Decision


class QuestionResult(StageModel):
    id: str
    type: QuestionType
    title: Bilingual
    answered: int
    counts: dict[str, int]  # option id (or scale point) -> contributions choosing it
    labels: dict[str, Bilingual] = Field(default_factory=dict)  # option id -> label, for documents
    mean: float | None = None


class Inputs(StageModel):
    conduct: conduct.Outputs
    contributions: tuple[Contribution, ...]
    decision: Decision | None = None


class Outputs(StageModel):
    total: int
    results: tuple[QuestionResult, ...]
    kpis: tuple[conduct.KpiProgress, ...]
    decision_method: DecisionMethod
    decision: Decision


def submission_problems(decision: Decision, plan: CampaignPlan) -> list[tuple[Loc, str]]:
    """A decision's impact must name the plan's own audiences."""
    audiences = sorted(a.id for a in plan.audiences)
    problems: list[tuple[Loc, str]] = []
    for i, impact in enumerate(decision.impact):
        if impact.audience not in audiences:
            close = difflib.get_close_matches(impact.audience, audiences, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(
                (
                    ("impact", i, "audience"),
                    f"expected one of the plan's audiences {audiences}{hint}, found {impact.audience!r}",
                )
            )
    return problems


def run(inputs: Inputs, plan: CampaignPlan, now: datetime) -> Outputs:
    """Tally every question; without a submitted decision the stage cannot close (guide 8.1.4)."""
    if inputs.decision is None:
        raise MissingInputs(
            [
                "analyse.decision: the decision taken, its rationale and why not every opinion "
                "could be adopted (submit a decision file)"
            ]
        )
    audiences = {a.id for a in plan.audiences}
    unknown = [i.audience for i in inputs.decision.impact if i.audience not in audiences]
    if unknown:
        raise MissingInputs([f"analyse.decision.impact: an audience of the plan {sorted(audiences)}, found {unknown}"])
    return Outputs(
        total=inputs.conduct.total,
        results=tuple(_tally(question, inputs.contributions) for question in plan.instrument),
        kpis=inputs.conduct.kpis,
        decision_method=plan.decision_method,
        decision=inputs.decision,
    )


def _tally(question: Question, contributions: tuple[Contribution, ...]) -> QuestionResult:
    values = [c.answers.get(question.id) for c in contributions]
    given = [v for v in values if v not in (None, "", [])]
    counts: Counter[str] = Counter()
    mean = None
    if question.type in ("single", "multiple"):
        counts.update({o.id: 0 for o in question.options})
        for value in given:
            counts.update(value if isinstance(value, list) else [str(value)])
    elif question.type == "likert":
        counts.update({str(point): 0 for point in range(1, question.scale + 1)})
        counts.update(str(int(float(str(v)))) for v in given)
    if question.type in ("likert", "number") and given:
        mean = round(sum(float(str(v)) for v in given) / len(given), 3)
    return QuestionResult(
        id=question.id,
        type=question.type,
        title=question.title,
        answered=len(given),
        counts=dict(counts),
        labels={o.id: o.label for o in question.options},
        mean=mean,
    )
