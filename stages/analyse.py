"""Stage 4, analyse (guide 8.1.4): results per question, and a clear decision formally taken."""

import difflib
import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, NamedTuple, cast

import pandas as pd
from pydantic import ConfigDict, Field

from musharaka.stages import budget as budget_rules
from musharaka.stages import conduct, frame, stats, text
from musharaka.stages.activities import Activity, Perform, Run, StageDefinition, directly, gate_approval, leave_waiting
from musharaka.stages.common import MissingInputs, StageModel, activity
from musharaka.stages.plans import (
    Bilingual,
    BudgetRule,
    CampaignPlan,
    DecisionMethod,
    Kind,
    Loc,
    Option,
    Prose,
    Question,
    QuestionType,
    Strict,
    VoteRule,
)

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
    impact: Prose


class Decision(Strict):
    """The decision the team submits: what was decided, why, and what could not be adopted."""

    summary: Bilingual
    rationale: Bilingual
    not_adopted: Bilingual
    based_on_contributions: bool
    impact: tuple[GroupImpact, ...] = ()
    expected_impact: Prose | None = None


Submitted = Decision


class Interval(StageModel):
    """A 95% confidence interval; `method` is "t" (Student's t, for a mean) or "wilson" (for a proportion)."""

    low: float
    high: float
    method: Literal["t", "wilson"]


class CrossTab(StageModel):
    """A question's answers split by a segment: per segment value, respondents choosing each option.

    Segment values come in the plan's order of its audiences (for the audience), else in alphabetical order,
    with "" (no value given) last."""

    by: str  # "audience" or a segment field
    respondents: dict[str, int]  # segment value -> respondents who answered
    counts: dict[str, dict[str, int]]  # segment value -> option id (or scale point) -> respondents
    means: dict[str, float] = Field(default_factory=dict)  # likert and number: segment value -> mean
    name: Bilingual | None = None  # a segment field's name, from its headers in the plan; None for the audience


class QuestionResult(StageModel):
    id: str
    type: QuestionType
    title: Bilingual
    answered: int
    counts: dict[str, int]  # option id (or scale point) -> contributions choosing it
    labels: dict[str, Bilingual] = Field(default_factory=dict)  # option id -> label, for documents
    mean: float | None = None
    shares: dict[str, float] = Field(default_factory=dict)  # option -> share of those who answered
    mean_interval: Interval | None = None
    top2: float | None = None  # likert: share answering one of the two highest points
    top2_interval: Interval | None = None
    crosstabs: tuple[CrossTab, ...] = ()


class Satisfaction(StageModel):
    """Each respondent's mean over the plan's satisfaction questions, rescaled to 0-100, averaged."""

    index: float
    interval: Interval | None
    respondents: int
    questions: tuple[str, ...]


class VoteResult(StageModel):
    question: str
    tally: dict[str, int]  # option id -> votes, in the plan's order
    labels: dict[str, Bilingual]
    cast: int
    eligible: int | None  # the turnout's base: the plan's eligible count, else its contributions target
    turnout: float | None
    tied: tuple[str, ...]  # the options sharing the most votes, when more than one does
    tie_rule: Literal["declare", "plan-order", "lot"]
    winner: str | None  # None when a tie is declared
    # under the lot rule: the draw's seed (`lot_seed`), stated whether or not there was a tie to draw
    lot_seed: str | None = None


class ProjectResult(StageModel):
    id: str
    label: Bilingual
    cost: float
    supporters: int  # ballots that include it
    points: float  # points given to it (= supporters for approval ballots; by rank for ordinal ones)
    greedy: bool
    equal_shares: bool
    area: str | None = None
    category: str | None = None
    description: Bilingual | None = None


class AreaResult(StageModel):
    """One area's budget, ballots and outcomes; its ballots are the voters' choices among its projects."""

    area: str
    name: Bilingual
    total: float
    max_projects: int | None
    ballots: int
    projects: tuple[ProjectResult, ...]
    greedy: tuple[str, ...]
    equal_shares: tuple[str, ...]
    greedy_cost: float
    equal_shares_cost: float
    outcome: tuple[str, ...]


class BudgetResult(StageModel):
    question: str
    total: float  # the plan's total (the areas' budgets, when it has areas, are in `areas`)
    currency: str
    vote_type: str
    rule: budget_rules.Rule
    ties: Literal["cheaper", "plan-order"] = "cheaper"
    ballots: int
    projects: tuple[ProjectResult, ...]
    greedy: tuple[str, ...]  # funded by the plan's greedy rule (plain greedy under equal shares), in funding order
    equal_shares: tuple[str, ...]  # funded by the method of equal shares (add1 completion)
    greedy_cost: float
    equal_shares_cost: float
    outcome: tuple[str, ...]  # funded under the plan's rule (every area's, when the plan has areas)
    areas: tuple[AreaResult, ...] = ()


class TextResult(StageModel):
    id: str
    title: Bilingual
    answered: int
    themes: dict[str, int]  # theme id -> answers mentioning any of its keywords
    theme_names: dict[str, Bilingual]
    exact_duplicates: int  # answers repeating an earlier one word for word once normalised
    repeated_texts: int  # distinct texts given more than once
    near_duplicates: int  # answers nearly repeating another (not counting exact repeats)
    near_groups: int
    # term, in the spelling used most (grouped by its normalised form) -> answers using it, most frequent first
    terms_ar: dict[str, int]
    terms_en: dict[str, int]


class Inputs(StageModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    conduct: conduct.Outputs
    contributions: pd.DataFrame  # columns as `stages.frame` documents
    decision: Decision | None = None
    lot_seed: str = ""  # the seed of a tie-breaking lot (`lot_seed`), fixed once the window closed


class Analysis(StageModel):
    """The figures of the contributions, without the decision (what `analysis` computes)."""

    results: tuple[QuestionResult, ...]
    kpis: tuple[conduct.KpiProgress, ...]
    kind: Kind | None = None
    by_channel: dict[str, int] = Field(default_factory=dict)
    by_day: dict[str, int] = Field(default_factory=dict)
    satisfaction: Satisfaction | None = None
    vote: VoteResult | None = None
    budget: BudgetResult | None = None
    texts: tuple[TextResult, ...] = ()


class Outputs(Analysis):
    """The figures, the total and the decision taken on them."""

    total: int
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


class Given(Run):
    inputs: Inputs


class Method(StageModel):
    """How the plan says the decision is taken, on how many contributions."""

    decision_method: DecisionMethod
    total: int


class Impact(StageModel):
    impact: tuple[GroupImpact, ...]


class Expected(StageModel):
    expected_impact: Prose | None
    kpis: tuple[conduct.KpiProgress, ...]


class Decided(StageModel):
    given: Given
    decision: Decision


def apply_method(given: Given) -> Analysis:
    inputs = given.inputs
    return analysis(inputs.contributions, given.plan, inputs.conduct, lot_seed=inputs.lot_seed)


def take_decision(given: Given) -> Method:
    return Method(decision_method=given.plan.decision_method, total=given.inputs.conduct.total)


def weigh_impact(decided: Decided) -> Impact:
    audiences = {a.id for a in decided.given.plan.audiences}
    unknown = [i.audience for i in decided.decision.impact if i.audience not in audiences]
    if unknown:
        raise MissingInputs([f"analyse.decision.impact: an audience of the plan {sorted(audiences)}, found {unknown}"])
    return Impact(impact=decided.decision.impact)


def clear_decision(given: Given) -> Decision:
    """The team's decision, as submitted: without one the stage cannot close (guide 8.1.4)."""
    if given.inputs.decision is None:
        raise MissingInputs(
            [
                "analyse.decision: the decision taken, its rationale and why not every opinion "
                "could be adopted (submit a decision file)"
            ]
        )
    return given.inputs.decision


def approve(given: Given) -> None:
    gate_approval(given, "analyse")


def expected_impact(decided: Decided) -> Expected:
    return Expected(expected_impact=decided.decision.expected_impact, kpis=decided.given.inputs.conduct.kpis)


TEAM = Bilingual(en="the team's decision file", ar="ملف القرار من الفريق")
MANAGEMENT = Bilingual(en="management's approval at the analyse gate", ar="اعتماد الإدارة عند بوابة التحليل")
APPLY = Activity("analyse.analysis", ACTIVITIES[0], apply_method)
TAKE = Activity("analyse.decision-method", ACTIVITIES[1], take_decision)
WEIGH = Activity("analyse.impact-on-groups", ACTIVITIES[2], weigh_impact)
CLEAR = Activity("analyse.decision", ACTIVITIES[3], clear_decision, waits_for=TEAM)
APPROVE = Activity("analyse.formal-approval", ACTIVITIES[4], approve, waits_for=MANAGEMENT)
EXPECT = Activity("analyse.expected-impact", ACTIVITIES[5], expected_impact)


def run(inputs: Inputs, plan: CampaignPlan, now: datetime, perform: Perform = directly) -> Outputs:
    """Analyse the contributions as the plan's kind and questions ask, and record the decision on them.

    Without a submitted decision the stage cannot close (guide 8.1.4); the figures are not computed
    until there is one, so a stage waiting for its decision costs nothing on each sweep."""
    given = Given(inputs=inputs, plan=plan, now=now)
    decision = perform(CLEAR, given)
    method = perform(TAKE, given)
    decided = Decided(given=given, decision=decision)
    perform(WEIGH, decided)
    figures = perform(APPLY, given)
    perform(EXPECT, decided)
    leave_waiting(perform, APPROVE, given)  # the gate that opens when this run ends
    return Outputs(total=method.total, decision_method=method.decision_method, decision=decision, **dict(figures))


def analysis(
    contributions: pd.DataFrame, plan: CampaignPlan, conducted: conduct.Outputs, *, lot_seed: str = ""
) -> Analysis:
    """Every figure the plan's kind and questions call for, computed on the contributions frame.

    `lot_seed` draws a vote's tie under the lot rule (see `lot_seed`); a tie to draw without one is refused."""
    segments = [_audience(plan), *(_segment(plan, f) for f in plan.analysis.segments)]
    results = tuple(_question(q, contributions, segments) for q in plan.instrument)
    return Analysis(
        results=results,
        kpis=conducted.kpis,
        kind=plan.kind,
        by_channel=conducted.by_channel,
        by_day=conducted.by_day,
        satisfaction=_satisfaction(contributions, plan),
        vote=_vote(contributions, plan, plan.analysis.vote, lot_seed) if plan.analysis.vote else None,
        budget=_budget(contributions, plan, plan.analysis.budget) if plan.analysis.budget else None,
        texts=tuple(_text(q, contributions, plan) for q in plan.instrument if q.type == "text"),
    )


class _By(NamedTuple):
    """A column to cross-tabulate by, its name for readers and the order of its values the plan gives."""

    column: str
    name: Bilingual | None
    order: tuple[str, ...] = ()


def _audience(plan: CampaignPlan) -> _By:
    return _By("audience", None, tuple(a.id for a in plan.audiences))


def _segment(plan: CampaignPlan, field: str) -> _By:
    """A segment field named by its headers in the plan: the first in Arabic script for Arabic readers, the
    first in Latin script for English ones, else its id."""
    headers = next((s.columns for s in plan.ingest.segments if s.id == field), ())
    arabic = next((h for h in headers if text.is_arabic(h)), field)
    latin = next((h for h in headers if text.is_latin(h) and not text.is_arabic(h)), field)
    return _By(frame.SEGMENT + field, Bilingual(ar=arabic, en=latin))


def _interval(bounds: tuple[float, float] | None, method: Literal["t", "wilson"], digits: int = 4) -> Interval | None:
    return Interval(low=round(bounds[0], digits), high=round(bounds[1], digits), method=method) if bounds else None


def _question(question: Question, contributions: pd.DataFrame, segments: list[_By]) -> QuestionResult:
    values = frame.answers(contributions, question.id)
    mask = frame.given(values)
    answered = int(mask.sum())
    given = values[mask]
    labels = {o.id: o.label for o in question.options}
    result: dict[str, Any] = {}
    counts: dict[str, int] = {}
    if question.type in ("single", "multiple", "ballot"):
        chosen = given.explode() if question.type != "single" else given
        if question.type == "ballot":  # cumulative ballots are {project: points}: count the projects
            chosen = given.map(lambda v: list(v) if isinstance(v, dict) else v).explode()
        tally = chosen.astype(str).value_counts()
        counts = {o.id: int(tally.get(o.id, 0)) for o in question.options}
        result["shares"] = {k: round(v / answered, 4) if answered else 0.0 for k, v in counts.items()}
        result["crosstabs"] = tuple(_crosstab(contributions, chosen.astype(str), by, counts) for by in segments)
    elif question.type in ("likert", "number"):
        numbers = pd.to_numeric(given, errors="coerce").dropna().astype(float)
        n = len(numbers)
        if n:
            mean, sd = float(numbers.mean()), float(numbers.std(ddof=1)) if n > 1 else 0.0
            result["mean"] = round(mean, 3)
            result["mean_interval"] = _interval(stats.mean_interval(mean, sd, n), "t", 3)
        if question.type == "likert":
            points = numbers.round().astype(int).value_counts()
            counts = {str(p): int(points.get(p, 0)) for p in range(1, question.scale + 1)}
            top = int((numbers >= question.scale - 1).sum())
            if n:
                result["top2"] = round(top / n, 4)
                result["top2_interval"] = _interval(stats.wilson(top, n), "wilson")
            result["crosstabs"] = tuple(
                _crosstab(contributions, numbers.round().astype(int).astype(str), by, counts, numbers)
                for by in segments
            )
    return QuestionResult(
        id=question.id,
        type=question.type,
        title=question.title,
        answered=answered,
        counts=counts,
        labels=labels,
        **result,
    )


def _crosstab(
    contributions: pd.DataFrame, chosen: pd.Series, by: _By, options: dict[str, int], numbers: pd.Series | None = None
) -> CrossTab:
    """`chosen` holds one row per choice, indexed like `contributions` (repeated for multi-select)."""
    name = by.column.removeprefix(frame.SEGMENT)
    if by.column not in contributions.columns:
        return CrossTab(by=name, respondents={}, counts={}, name=by.name)
    column = contributions[by.column].fillna("").astype(str)
    group = column.loc[chosen.index]
    # pairs counted as arrays: a multi-select repeats a respondent's index, which pandas will not align on
    pairs = pd.DataFrame({"group": group.to_numpy(), "option": chosen.to_numpy()}).value_counts()
    table: dict[str, dict[str, int]] = {}
    for key, n in pairs.items():
        value, option = cast(tuple[str, str], key)  # the (group, option) pair of the two-column count
        table.setdefault(str(value), {})[str(option)] = int(n)
    respondents = column.loc[chosen.index.unique()].value_counts()
    rank = {value: i for i, value in enumerate(by.order)}
    values = sorted(table, key=lambda v: (v == "", rank.get(v, len(rank)), v))
    counts = {value: {o: table[value].get(o, 0) for o in options} for value in values}
    means = {}
    if numbers is not None:
        mean = numbers.groupby(group).mean()
        means = {value: round(float(mean[value]), 3) for value in values if value in mean.index}
    return CrossTab(
        by=name,
        respondents={value: int(respondents[value]) for value in values if value in respondents.index},
        counts=counts,
        means=means,
        name=by.name,
    )


def _satisfaction(contributions: pd.DataFrame, plan: CampaignPlan) -> Satisfaction | None:
    questions = [q for q in plan.instrument if q.id in plan.analysis.satisfaction]
    if not questions:
        return None
    rescaled = pd.concat(
        [
            (pd.to_numeric(frame.answers(contributions, q.id), errors="coerce") - 1) / (q.scale - 1) * 100
            for q in questions
        ],
        axis=1,
    )
    scores = rescaled.mean(axis=1, skipna=True).dropna()  # a respondent's mean over the questions answered
    n = len(scores)
    if not n:
        return Satisfaction(index=0.0, interval=None, respondents=0, questions=tuple(q.id for q in questions))
    mean, sd = float(scores.mean()), float(scores.std(ddof=1)) if n > 1 else 0.0
    bounds = stats.mean_interval(mean, sd, n)
    return Satisfaction(
        index=round(mean, 2),
        interval=_interval((max(bounds[0], 0.0), min(bounds[1], 100.0)) if bounds else None, "t", 2),
        respondents=n,
        questions=tuple(q.id for q in questions),
    )


def lot_seed(rows_digests: Sequence[str]) -> str:
    """The seed of a tie-breaking lot: the SHA-256 (hex) of the rows digests of the campaign's ingested batches,
    in the order they were ingested, one per line (joined by a line feed, none at the end).

    A voter cannot know it before the window closes (the last ballots are in it), yet anyone holding the log can
    recompute it, and the draw from it, afterwards."""
    return hashlib.sha256("\n".join(rows_digests).encode()).hexdigest()


def drawn(tied: Sequence[str], seed: str) -> str:
    """The lot's winner: of the tied options in the order of their ids, the one at (seed as a number) mod their
    count, counting from 0: a draw any auditor redoes by hand, in any language."""
    ordered = sorted(tied)
    return ordered[int(seed, 16) % len(ordered)]


def _vote(contributions: pd.DataFrame, plan: CampaignPlan, rule: VoteRule, seed: str = "") -> VoteResult:
    question = next(q for q in plan.instrument if q.id == rule.question)
    values = frame.answers(contributions, question.id)
    votes = values[frame.given(values)].astype(str).value_counts()
    tally = {o.id: int(votes.get(o.id, 0)) for o in question.options}
    cast = sum(tally.values())
    eligible = rule.eligible or next((int(k.target) for k in plan.kpis if k.measure == "contributions"), None)
    top = max(tally.values()) if cast else 0
    leaders = [o for o, n in tally.items() if n == top] if cast else []
    winner: str | None = leaders[0] if len(leaders) == 1 else None
    if len(leaders) > 1 and rule.ties == "plan-order":
        winner = leaders[0]  # tally keeps the plan's order
    elif len(leaders) > 1 and rule.ties == "lot":
        if not seed:
            raise MissingInputs(["analyse.lot_seed: the seed of the tie-breaking lot, from the ingested batches"])
        winner = drawn(leaders, seed)
    return VoteResult(
        question=question.id,
        tally=tally,
        labels={o.id: o.label for o in question.options},
        cast=cast,
        eligible=eligible,
        turnout=round(cast / eligible, 4) if eligible else None,
        tied=tuple(leaders) if len(leaders) > 1 else (),
        tie_rule=rule.ties,
        winner=winner,
        lot_seed=(seed or None) if rule.ties == "lot" else None,
    )


def ballots_of(values: pd.Series, ranked: bool = False) -> list[dict[str, float]]:
    """Ballots as {project: utility}: the points of a {project: points} ballot, else for a list of projects
    1 each, or by rank when `ranked` (ordinal ballots: of k ranked, the first gets k points, the last 1)."""
    return [
        {str(k): float(v) for k, v in value.items()}
        if isinstance(value, dict)
        else budget_rules.ordinal_points([str(p) for p in value])
        if ranked
        else dict.fromkeys(map(str, value), 1.0)
        for value in values[frame.given(values)]
    ]


class _Outcome(NamedTuple):
    ballots: int
    projects: tuple[ProjectResult, ...]
    greedy: list[str]
    shares: list[str]
    outcome: list[str]
    costs: tuple[float, float]

    def shown(self) -> dict[str, Any]:
        """The figures a budget's result and an area's result both report."""
        return {
            "ballots": self.ballots,
            "projects": self.projects,
            "greedy": tuple(self.greedy),
            "equal_shares": tuple(self.shares),
            "greedy_cost": self.costs[0],
            "equal_shares_cost": self.costs[1],
            "outcome": tuple(self.outcome),
        }


def _budget(contributions: pd.DataFrame, plan: CampaignPlan, rule: BudgetRule) -> BudgetResult:
    question = next(q for q in plan.instrument if q.id == rule.question)
    ballots = ballots_of(frame.answers(contributions, question.id), ranked=rule.vote_type == "ordinal")
    options = budget_rules.Options(
        ties=rule.ties,
        threshold=rule.threshold,
        exclusive=tuple(frozenset(group) for group in rule.exclusive),
        stretch=rule.stretch,
        cost_utilities=rule.vote_type not in ("cumulative", "scoring", "ordinal"),
    )
    common = {"question": question.id, "currency": rule.currency, "vote_type": rule.vote_type, "rule": rule.rule}
    if not rule.areas:
        whole = _outcome(question.options, ballots, rule.total, rule, options)
        return BudgetResult(**common, ties=rule.ties, total=rule.total, **whole.shown())
    areas = []
    for area in rule.areas:
        projects = [o for o in question.options if o.area == area.id]
        ids = {o.id for o in projects}
        # a voter's ballot in the area: their choices among its projects; a voter who chose none there is not
        # one of its voters (each voter has an equal share of the area's budget under equal shares)
        local = [b for b in ({k: v for k, v in ballot.items() if k in ids} for ballot in ballots) if b]
        found = _outcome(tuple(projects), local, area.total, rule, options)
        areas.append(
            AreaResult(
                area=area.id,
                name=area.name,
                total=area.total,
                max_projects=area.max_projects or rule.max_projects,
                **found.shown(),
            )
        )
    return BudgetResult(
        **common,
        ties=rule.ties,
        total=rule.total,
        ballots=len(ballots),
        projects=tuple(p for a in areas for p in a.projects),
        greedy=tuple(p for a in areas for p in a.greedy),
        equal_shares=tuple(p for a in areas for p in a.equal_shares),
        greedy_cost=sum(a.greedy_cost for a in areas),
        equal_shares_cost=sum(a.equal_shares_cost for a in areas),
        outcome=tuple(p for a in areas for p in a.outcome),
        areas=tuple(areas),
    )


def _outcome(
    options: tuple[Option, ...],
    ballots: list[dict[str, float]],
    total: float,
    rule: BudgetRule,
    settings: budget_rules.Options,
) -> _Outcome:
    """Both rules' outcomes over some projects and the ballots among them; `greedy` is the plan's greedy variant."""
    projects = [budget_rules.Project(o.id, float(o.cost or 0)) for o in options]
    supporters, points = budget_rules.support(projects, ballots)
    by_shares = rule.rule in ("equal-shares", "equal-shares-comparison")
    variant = "greedy" if rule.rule == "equal-shares" or rule.rule == "equal-shares-comparison" else rule.rule
    greedy = budget_rules.greedy(projects, ballots, total, variant, settings)
    shares = budget_rules.equal_shares(
        projects, ballots, total, cost_utilities=settings.cost_utilities, ties=settings.ties
    )
    cost = {p.id: p.cost for p in projects}
    return _Outcome(
        ballots=len(ballots),
        projects=tuple(
            ProjectResult(
                id=o.id,
                label=o.label,
                cost=cost[o.id],
                supporters=supporters[o.id],
                points=points[o.id],
                greedy=o.id in greedy,
                equal_shares=o.id in shares,
                area=o.area,
                category=o.category,
                description=o.description,
            )
            for o in options
        ),
        greedy=greedy,
        shares=shares,
        outcome=_chosen(rule.rule, greedy, shares, ballots) if by_shares else greedy,
        costs=(sum(cost[p] for p in greedy), sum(cost[p] for p in shares)),
    )


def _chosen(rule: str, greedy: list[str], shares: list[str], ballots: list[dict[str, float]]) -> list[str]:
    """Equal shares' outcome; with the comparison step, greedy's when more voters prefer it."""
    if rule == "equal-shares-comparison" and budget_rules.prefer(greedy, shares, ballots):
        return greedy
    return shares


def _text(question: Question, contributions: pd.DataFrame, plan: CampaignPlan) -> TextResult:
    values = frame.answers(contributions, question.id)
    given = values[frame.given(values)]
    normalised = text.normalise_all(given)
    normalised = normalised[normalised != ""]
    settings = plan.analysis
    shown = text.spellings(given.loc[normalised.index])
    arabic, english = text.terms(normalised, settings.stop_words, settings.top_terms, shown)
    exact, repeated = text.exact_duplicates(normalised)
    near, groups = text.near_duplicates(normalised, settings.near_duplicate)
    return TextResult(
        id=question.id,
        title=question.title,
        answered=len(normalised),
        themes=text.themes(normalised, {t.id: t.keywords for t in settings.themes}),
        theme_names={t.id: t.name for t in settings.themes},
        exact_duplicates=exact,
        repeated_texts=repeated,
        near_duplicates=near,
        near_groups=groups,
        terms_ar=dict(arabic.most_common()),
        terms_en=dict(english.most_common()),
    )


STAGE = StageDefinition(
    name="analyse",
    inputs=Inputs,
    outputs=Outputs,
    submitted=Decision,
    activities=(APPLY, TAKE, WEIGH, CLEAR, APPROVE, EXPECT),
    run=run,
    submission_problems=submission_problems,
)
