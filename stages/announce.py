"""Stage 5, announce (guide 8.1.5): tell everyone who took part what was decided, on the same channels."""

from datetime import datetime

from stages import analyse
from stages.common import StageModel, activity
from stages.plans import Bilingual, CampaignPlan, Channel

ACTIVITIES = (
    activity(
        "Inform every party that took part, the public first",
        "إبلاغ جميع الأطراف المشاركة، والجمهور أولاً",
    ),
    activity(
        "Explain the reasons, and why not every opinion could be adopted",
        "شرح الأسباب، ولماذا لم يكن ممكناً الأخذ بجميع الآراء",
    ),
    activity(
        "Announce on the same channels used to collect contributions",
        "الإعلان عبر القنوات نفسها التي جُمعت بها المساهمات",
    ),
    activity("Thank participants and announce future topics", "شكر المشاركين والإعلان عن المواضيع القادمة"),
)


class Inputs(StageModel):
    analyse: analyse.Outputs
    next_topics: tuple[Bilingual, ...] = ()


class Outputs(StageModel):
    """What the announcement says and where it goes."""

    title: Bilingual
    channels: tuple[Channel, ...]
    participants: int
    decision: Bilingual
    reasons: Bilingual
    not_adopted: Bilingual
    thanks: Bilingual
    next_topics: tuple[Bilingual, ...]


def run(inputs: Inputs, plan: CampaignPlan, now: datetime) -> Outputs:
    """Compose the announcement from the approved decision; it goes out on every collecting channel."""
    decision = inputs.analyse.decision
    count = inputs.analyse.total
    return Outputs(
        title=plan.title,
        channels=plan.channels,
        participants=count,
        decision=decision.summary,
        reasons=decision.rationale,
        not_adopted=decision.not_adopted,
        thanks=Bilingual(
            en=f"Thank you to the {count:,} people who took part.",
            ar=f"شكراً للمشاركين وعددهم {count:,} على مساهماتهم.",
        ),
        next_topics=inputs.next_topics,
    )
