"""The risk register (guide section 19) and the risk signals the engine raises from the campaign's own figures.

Four of the guide's risks of participation show in figures the engine records:

- low turnout: at mid-window, contributions below `turnout` of the target;
- an unrepresentative sample: one audience above `dominance` of the contributions;
- an organised campaign: free-text answers repeating another (word for word or nearly) above `duplicates`;
- no feedback: the decision approved, and no announcement approved within `announce_days` of it.

Each check is a function of recorded facts (contribution times and audiences, the text answers, the times
the analyse and announce gates were approved) and of `now`, so an auditor recomputes it from the log.
Shares are judged once there are `minimum` contributions (answers), so the first few never raise a signal.
"""

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from musharaka.stages.common import StageModel
from musharaka.stages.plans import CampaignPlan, Loc, Risk, RiskKind, RiskSignals

State = Literal["raised", "clear", "pending", "unmeasured"]

# The kinds the engine watches, in the order the register shows their checks.
WATCHED: tuple[RiskKind, ...] = ("low-turnout", "unrepresentative", "organised-campaign", "no-feedback")

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Facts:
    """What the checks read, as recorded: every counted contribution's time (ascending) and audience, aligned,
    the free-text answers and how many of them repeat another, and when the decision and announcement were
    approved."""

    submitted: Sequence[datetime] = ()
    audiences: Sequence[str] = ()
    answers: int = 0
    repeats: int = 0
    decided_at: datetime | None = None
    announced_at: datetime | None = None


class Check(StageModel):
    """One signal, raised or not, with the figures that decided it.

    `count` of `base` is the measured share (`share`), against `threshold`; for no-feedback `days` is how long
    the announcement took (or has been waited for) against `threshold` days. `at` is when the signal was
    raised, or when it was judged or will be."""

    kind: RiskKind
    state: State
    at: datetime | None = None
    count: int = 0
    base: int = 0
    share: float | None = None
    threshold: float
    audience: str | None = None
    days: float | None = None


class Register(StageModel):
    """The plan's risks, highest score first, and the engine's checks, as of `as_of`."""

    as_of: datetime
    risks: tuple[Risk, ...]
    checks: tuple[Check, ...]

    def raised(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.state == "raised")

    def unplanned(self) -> tuple[Check, ...]:
        """Raised signals of a kind the register names no risk of: a risk nobody planned for."""
        planned = {r.kind for r in self.risks}
        return tuple(c for c in self.raised() if c.kind not in planned)


def rating(score: int) -> Literal["low", "medium", "high"]:
    """A 5x5 matrix's bands: 1-4 low, 5-9 medium, 10-25 high."""
    return "low" if score <= 4 else "medium" if score <= 9 else "high"


def signals_of(plan: CampaignPlan) -> RiskSignals:
    """The plan's signal thresholds, or the defaults."""
    return plan.risk_signals or RiskSignals()


def target_of(plan: CampaignPlan) -> int | None:
    """The contributions expected by the close: the signals' own target, else the contributions KPI's."""
    if signals_of(plan).target is not None:
        return signals_of(plan).target
    return next((round(k.target) for k in plan.kpis if k.measure == "contributions"), None)


def midpoint(plan: CampaignPlan) -> datetime:
    """The instant halfway through the planned window (an extension does not move it)."""
    opens = plan.window.opens_at()
    return opens + (plan.window.closes_at() - opens) / 2


def register(plan: CampaignPlan, facts: Facts, now: datetime) -> Register:
    """The register as of `now`: the plan's risks and every watched signal's check."""
    risks = tuple(sorted(plan.risks, key=lambda r: -r.score))  # stable: equal scores keep plan order
    checks = (
        low_turnout(plan, facts.submitted, now),
        unrepresentative(plan, facts.submitted, facts.audiences, now),
        organised_campaign(plan, facts, now),
        no_feedback(plan, facts.decided_at, facts.announced_at, now),
    )
    return Register(as_of=now, risks=risks, checks=checks)


def low_turnout(plan: CampaignPlan, submitted: Sequence[datetime], now: datetime) -> Check:
    """Contributions submitted before mid-window against the target; judged from mid-window on."""
    signals = signals_of(plan)
    target, mid = target_of(plan), midpoint(plan)
    if target is None:
        return Check(kind="low-turnout", state="unmeasured", threshold=signals.turnout)
    if now < mid:
        return Check(kind="low-turnout", state="pending", at=mid, base=target, threshold=signals.turnout)
    count = bisect_left(submitted, mid)
    share = count / target
    state: State = "raised" if share < signals.turnout else "clear"
    return Check(
        kind="low-turnout", state=state, at=mid, count=count, base=target, share=share, threshold=signals.turnout
    )


def unrepresentative(
    plan: CampaignPlan, submitted: Sequence[datetime], audiences: Sequence[str], now: datetime
) -> Check:
    """The largest audience's share of the contributions so far; unmeasured for a campaign of one audience."""
    signals = signals_of(plan)
    if len(plan.audiences) < 2:
        return Check(kind="unrepresentative", state="unmeasured", threshold=signals.dominance)
    counted = bisect_right(submitted, now)
    if counted < signals.minimum:
        return Check(kind="unrepresentative", state="pending", base=counted, threshold=signals.dominance)
    tally = Counter(audiences[:counted])
    order = {a.id: i for i, a in enumerate(plan.audiences)}  # a tie goes to the audience the plan lists first
    top, count = min(tally.items(), key=lambda item: (-item[1], order.get(item[0], len(order)), item[0]))
    share = count / counted
    return Check(
        kind="unrepresentative",
        state="raised" if share > signals.dominance else "clear",
        at=submitted[counted - 1],
        count=count,
        base=counted,
        share=share,
        threshold=signals.dominance,
        audience=top,
    )


def organised_campaign(plan: CampaignPlan, facts: Facts, now: datetime) -> Check:
    """Free-text answers that repeat another, word for word or nearly, against all free-text answers."""
    signals = signals_of(plan)
    if not any(q.type == "text" for q in plan.instrument):
        return Check(kind="organised-campaign", state="unmeasured", threshold=signals.duplicates)
    if facts.answers < signals.minimum:
        return Check(kind="organised-campaign", state="pending", base=facts.answers, threshold=signals.duplicates)
    share = facts.repeats / facts.answers
    counted = bisect_right(facts.submitted, now)
    return Check(
        kind="organised-campaign",
        state="raised" if share > signals.duplicates else "clear",
        at=facts.submitted[counted - 1] if counted else None,
        count=facts.repeats,
        base=facts.answers,
        share=share,
        threshold=signals.duplicates,
    )


def no_feedback(plan: CampaignPlan, decided_at: datetime | None, announced_at: datetime | None, now: datetime) -> Check:
    """Days from the decision's approval to the announcement's; raised once `announce_days` pass without one.

    An announcement exactly `announce_days` after the decision is within them."""
    limit = signals_of(plan).announce_days
    if decided_at is None:
        return Check(kind="no-feedback", state="pending", threshold=limit)
    deadline = decided_at + limit * DAY
    if announced_at is not None and announced_at <= now:
        days = (announced_at - decided_at) / DAY
        late = announced_at > deadline
        return Check(
            kind="no-feedback",
            state="raised" if late else "clear",
            at=deadline if late else announced_at,
            threshold=limit,
            days=days,
        )
    state: State = "raised" if now > deadline else "pending"
    return Check(kind="no-feedback", state=state, at=deadline, threshold=limit, days=(now - decided_at) / DAY)


def repeats(texts: Sequence[str], threshold: float) -> tuple[int, int]:
    """(free-text answers given, those repeating an earlier one word for word or nearly) once normalised."""
    import pandas as pd  # loaded only where texts are counted

    from musharaka.stages.text import clusters, normalise_all

    normalised = normalise_all(pd.Series(list(texts), dtype=object))
    given = normalised[normalised != ""]
    return len(given), len(given) - clusters(given, threshold)


def risk_problems(plan: CampaignPlan) -> list[tuple[Loc, str]]:
    """Each risk's id used once. (A low-turnout risk without a target is allowed: its check says it is not
    measured, where the approvers see it.)"""
    problems: list[tuple[Loc, str]] = []
    seen: set[str] = set()
    for i, risk in enumerate(plan.risks):
        if risk.id in seen:
            problems.append((("risks", i, "id"), f"expected a unique id, found {risk.id!r} again"))
        seen.add(risk.id)
    return problems
