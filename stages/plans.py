"""The plan files as typed models: a campaign plan, the annual programme, the approvers registry.

Unknown keys are rejected everywhere, so a misspelt key is an error rather than a silent default.
"""

import difflib
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

Stage = Literal["prepare", "plan", "conduct", "analyse", "announce", "evaluate"]
STAGES: tuple[Stage, ...] = ("prepare", "plan", "conduct", "analyse", "announce", "evaluate")

Level = Literal["information", "consultation", "decision-making"]
LEVELS: tuple[Level, ...] = ("information", "consultation", "decision-making")
# The sectors the UN e-participation survey asks about (guide section 9), and a few more a ministry names.
Sector = Literal[
    "education",
    "health",
    "finance",
    "social-welfare",
    "labour",
    "environment",
    "justice",
    "transport",
    "housing",
    "culture",
    "economy",
    "other",
]
Kind = Literal[
    "survey",
    "public-consultation",
    "vote",
    "participatory-budget",
    "dialogue-session",
    "idea-collection",
    "hackathon",
    "complaints-and-suggestions",
]
Channel = Literal[
    "website",
    "social-media",
    "e-survey",
    "x",
    "facebook",
    "instagram",
    "live-stream",
    "virtual-workshop",
    "blog",
    "email",
    "sms",
    "in-person",
]
Tool = Literal[
    "e-questionnaire",
    "listening-sessions",
    "behaviour-analytics",
    "live-stream",
    "workshop",
    "e-voting",
    "comment-form",
]
DecisionMethod = Literal["public-vote", "agency-decides"]
QuestionType = Literal["single", "multiple", "likert", "number", "text", "ballot"]

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", min_length=1, max_length=80)]
Text = Annotated[str, Field(min_length=1)]
QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


class Strict(BaseModel):
    """Base for every plan model: unknown keys are an error and values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Bilingual(Strict):
    """A text every reader gets in their language."""

    ar: Text
    en: Text


class Audience(Strict):
    id: Id
    name: Bilingual
    traits: str | None = None


class Window(Strict):
    """The participation window: whole days, inclusive, in the campaign's time zone."""

    opens: date
    closes: date
    timezone: str = "Asia/Muscat"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"expected a time zone name such as Asia/Muscat, found {value!r}") from None
        return value

    def opens_at(self) -> datetime:
        """The first instant of the window, in UTC."""
        return local_midnight(self.opens, self.timezone)

    def closes_at(self, closes: date | None = None) -> datetime:
        """The first instant after the window (midnight after the closing day), in UTC."""
        return local_midnight((closes or self.closes) + timedelta(days=1), self.timezone)

    def state_at(self, moment: datetime) -> Literal["upcoming", "open", "closed"]:
        """Whether the window is still to come, open or over at `moment`."""
        return "upcoming" if moment < self.opens_at() else "open" if moment < self.closes_at() else "closed"


def local_midnight(day: date, zone: str) -> datetime:
    """Midnight at the start of `day` in `zone`, as a UTC instant."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


class Option(Strict):
    id: Id
    label: Bilingual
    cost: float | None = Field(default=None, gt=0, description="a participatory-budget project's cost")


class Question(Strict):
    id: Id
    type: QuestionType
    title: Bilingual
    options: tuple[Option, ...] = ()
    scale: int = Field(default=5, ge=2, le=11, description="points on a likert scale")
    required: bool = True
    columns: tuple[str, ...] = Field(
        default=(), description="headers that hold this question in exported files, when they differ from its title"
    )
    minimum: float | None = Field(default=None, description="the smallest answer a number question accepts")
    maximum: float | None = Field(default=None, description="the largest answer a number question accepts")


class Kpi(Strict):
    """A campaign KPI the engine can measure from contributions."""

    id: Id
    name: Bilingual
    measure: Literal["contributions", "audience-contributions", "channel-contributions"]
    target: float = Field(gt=0)
    audience: Id | None = None
    channel: Channel | None = None


class Segment(Strict):
    """A participant field kept for cross-tabs (governorate, age band…), read from the named columns."""

    id: Id
    columns: tuple[Text, ...] = Field(min_length=1, description="headers that hold it, in any language")


class IngestSection(Strict):
    """How exported files map onto the campaign: channel and audience of rows, the form's zone, people's data."""

    channel: Channel | None = Field(default=None, description="the channel of rows whose file names none")
    audience: Id | None = Field(default=None, description="the audience of every row, when the form asks none")
    audience_question: Id | None = Field(
        default=None, description="a single-choice question whose option ids are audience ids"
    )
    timezone: str | None = Field(default=None, description="the form's zone for times written without one")
    identity: tuple[Text, ...] = Field(
        default=(), description="more headers that identify people: pseudonymised, never stored raw"
    )
    segments: tuple[Segment, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else Window._known_zone(value)


class VoteRule(Strict):
    """Which question is the vote, who may vote, and how a tie for first place is settled."""

    question: Id
    eligible: int | None = Field(default=None, gt=0, description="people entitled to vote: turnout's base")
    ties: Literal["declare", "plan-order", "lot"] = Field(
        default="declare",
        description="declare: no winner, the tie is reported; plan-order: the tied option listed first in the "
        "plan wins; lot: drawn by a generator seeded with the campaign id (the same draw every time)",
    )


class BudgetRule(Strict):
    """A participatory budget: the ballot question (its options are the projects, with costs) and the rule."""

    question: Id
    total: float = Field(gt=0)
    currency: str = Field(default="OMR", min_length=1, max_length=8)
    vote_type: Literal["approval", "choose-1", "ordinal", "cumulative", "scoring"] = "approval"
    rule: Literal["greedy", "equal-shares"] = "equal-shares"


class Theme(Strict):
    """A theme of free-text answers, found by its keywords (Arabic or English, matched after normalisation)."""

    id: Id
    name: Bilingual
    keywords: tuple[Text, ...] = Field(min_length=1)


class AnalysisSection(Strict):
    """What the analyse stage computes beyond the per-question distributions."""

    satisfaction: tuple[Id, ...] = Field(
        default=(), description="likert questions whose mean, rescaled to 0-100, is the satisfaction index"
    )
    vote: VoteRule | None = None
    budget: BudgetRule | None = None
    segments: tuple[Id, ...] = Field(
        default=(), description="segment fields to cross-tabulate by, besides the audience"
    )
    themes: tuple[Theme, ...] = ()
    stop_words: tuple[Text, ...] = Field(default=(), description="more words left out of the frequent terms")
    top_terms: int = Field(default=15, ge=1, le=100)
    near_duplicate: float = Field(
        default=0.8, gt=0, le=1, description="Jaccard similarity of 4-gram sets from which two texts nearly repeat"
    )


class Readiness(Strict):
    """The guide's four preparation questions (8.1.1); unanswered ones stop the prepare stage."""

    objective: str | None = None
    management_support: str | None = None
    institutional_readiness: str | None = None
    audience_readiness: str | None = None


class PrepareSection(Strict):
    subject: Bilingual
    audience_knowledge: str | None = None
    readiness: Readiness = Readiness()


class Party(Strict):
    name: Text
    kind: Literal["agency", "media", "private-sector", "civil-society", "academia", "internal"]
    role: str | None = None


class Expert(Strict):
    name: Text
    field: Text


class Influencer(Strict):
    name: Text
    platform: Text


class Milestone(Strict):
    milestone: Text
    on: date


class Resource(Strict):
    role: Text
    count: int = Field(ge=1)


class BudgetItem(Strict):
    item: Text
    amount: float = Field(ge=0)


class Budget(Strict):
    currency: str = Field(default="OMR", pattern=r"^[A-Z]{3}$")
    items: tuple[BudgetItem, ...] = Field(min_length=1)

    @property
    def total(self) -> float:
        return sum(item.amount for item in self.items)


class PlanSection(Strict):
    """The guide's detailed plan (8.1.2); the plan stage lists whichever answers are missing."""

    detailed_objective: str | None = None
    stakeholders: tuple[Party, ...] = ()
    experts: tuple[Expert, ...] = ()
    influencers: tuple[Influencer, ...] = ()
    timeline: tuple[Milestone, ...] = ()
    resources: tuple[Resource, ...] = ()
    budget: Budget | None = None
    slogan: Bilingual | None = None
    key_messages: tuple[Bilingual, ...] = ()
    reach: tuple[str, ...] = ()
    analysis_method: str | None = None
    results_communication: str | None = None
    cites_lessons: tuple[Id, ...] = Field(
        default=(), description="ids from the lessons register (musharaka lessons) this plan builds on"
    )


class GatePolicy(Strict):
    """Who may sign a stage's gate off, how many must, and within how many days.

    The gate passes when `quorum` different people holding any of `roles` have approved and, for
    each role in `all_of`, another different person holding it has too. After the due date a
    holder of an `escalation` role may decide alone.
    """

    roles: tuple[Id, ...] = ()
    quorum: int = Field(default=1, ge=1)
    all_of: tuple[Id, ...] = ()
    escalation: tuple[Id, ...] = ()
    due_days: int = Field(default=5, ge=1)
    days: Literal["calendar", "working"] = "calendar"

    @model_validator(mode="after")
    def _someone_decides(self) -> "GatePolicy":
        if not self.roles and not self.all_of:
            raise ValueError("expected `roles` or `all_of` to name who approves, found neither")
        return self

    def named_roles(self) -> tuple[str, ...]:
        """Every role the policy names, in order, once."""
        return tuple(dict.fromkeys((*self.roles, *self.all_of, *self.escalation)))


class Gates(Strict):
    """A policy per stage; stages not named take `default`."""

    default: GatePolicy
    prepare: GatePolicy | None = None
    plan: GatePolicy | None = None
    conduct: GatePolicy | None = None
    analyse: GatePolicy | None = None
    announce: GatePolicy | None = None
    evaluate: GatePolicy | None = None

    def for_stage(self, stage: Stage) -> GatePolicy:
        policy: GatePolicy | None = getattr(self, stage)
        return policy or self.default


class CampaignPlan(Strict):
    """One campaign, declared: what it asks, of whom, when, and who signs each stage off."""

    id: Id
    title: Bilingual
    level: Level
    sector: Sector
    kind: Kind
    owner: Id
    quarter: str = Field(pattern=QUARTER.pattern)
    window: Window
    audiences: tuple[Audience, ...] = Field(min_length=1)
    channels: tuple[Channel, ...] = Field(min_length=1)
    tools: tuple[Tool, ...] = ()
    objective: Bilingual
    decision_method: DecisionMethod
    instrument: tuple[Question, ...] = Field(min_length=1)
    kpis: tuple[Kpi, ...] = ()
    prepare: PrepareSection
    plan: PlanSection = PlanSection()
    gates: Gates
    ingest: IngestSection = IngestSection()
    analysis: AnalysisSection = AnalysisSection()


class ProgrammeEntry(Strict):
    campaign: Id
    quarter: str = Field(pattern=QUARTER.pattern)


class Indicator(Strict):
    """A line of the ministry's half-yearly measurement table."""

    id: Id
    name: Bilingual
    target: float = Field(ge=0)
    unit: Literal["count", "percent"]


class Programme(Strict):
    """The annual programme: campaigns by quarter and the half-yearly indicators."""

    id: Id
    year: int = Field(ge=2000, le=2100)
    ministry: Bilingual
    title: Bilingual
    campaigns: tuple[ProgrammeEntry, ...] = Field(min_length=1)
    indicators: tuple[Indicator, ...] = ()


PUBLIC_KEY = r"^ed25519:[A-Za-z0-9+/]{43}=$"


class PublicKey(Strict):
    """One of an approver's signing keys, valid from a time until it expires or is revoked."""

    id: Id
    public: str = Field(pattern=PUBLIC_KEY, description="ed25519: and the raw key in base64")
    valid_from: AwareDatetime
    valid_until: AwareDatetime | None = None
    revoked_at: AwareDatetime | None = None

    def in_force(self, moment: datetime) -> bool:
        """Whether the key may sign at `moment`."""
        ends = [t for t in (self.valid_until, self.revoked_at) if t is not None]
        return self.valid_from <= moment and all(moment < t for t in ends)


class Approver(Strict):
    id: Id
    name: Bilingual
    roles: tuple[Id, ...] = Field(min_length=1)
    keys: tuple[PublicKey, ...] = ()


class Delegation(Strict):
    """An approver's authority lent to another for a time (leave, travel); recorded with the registry."""

    delegator: Id
    delegate: Id
    starts: AwareDatetime
    ends: AwareDatetime
    roles: tuple[Id, ...] = Field(default=(), description="which of the delegator's roles; all if empty")
    reason: Text

    def in_force(self, moment: datetime) -> bool:
        return self.starts <= moment < self.ends


class ApproversRegistry(Strict):
    approvers: tuple[Approver, ...] = Field(min_length=1)
    delegations: tuple[Delegation, ...] = ()

    def get(self, approver_id: str) -> Approver | None:
        return next((a for a in self.approvers if a.id == approver_id), None)


Loc = tuple[str | int, ...]


def quarter_bounds(quarter: str) -> tuple[date, date]:
    """First and last day of a quarter written `2025-Q3`."""
    match = QUARTER.match(quarter)
    if not match:
        raise ValueError(f"a quarter like 2025-Q3, found {quarter!r}")
    year, q = int(match[1]), int(match[2])
    first = date(year, 3 * q - 2, 1)
    last = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return first, last - timedelta(days=1)


def campaign_problems(plan: CampaignPlan) -> list[tuple[Loc, str]]:
    """Rules that span fields of one plan, each as (location, what was expected and found)."""
    problems: list[tuple[Loc, str]] = []
    if plan.window.closes < plan.window.opens:
        problems.append(
            (
                ("window", "closes"),
                f"expected a closing date on or after the opening {plan.window.opens}, found {plan.window.closes}",
            )
        )
    first, last = quarter_bounds(plan.quarter)
    if not first <= plan.window.opens <= last:
        problems.append(
            (
                ("window", "opens"),
                f"expected an opening date within {plan.quarter} ({first} to {last}), found {plan.window.opens}",
            )
        )
    problems += _duplicates(plan.audiences, ("audiences",))
    problems += _duplicates(plan.instrument, ("instrument",))
    problems += _duplicates(plan.kpis, ("kpis",))
    audience_ids = {a.id for a in plan.audiences}
    for i, question in enumerate(plan.instrument):
        loc: Loc = ("instrument", i)
        problems += _duplicates(question.options, (*loc, "options"))
        if question.type in ("single", "multiple", "ballot") and not question.options:
            problems.append(((*loc, "options"), f"expected options for a {question.type} question, found none"))
        if question.type not in ("single", "multiple", "ballot") and question.options:
            problems.append(((*loc, "options"), f"expected no options for a {question.type} question"))
    problems += _ingest_problems(plan)
    problems += _analysis_problems(plan)
    for i, kpi in enumerate(plan.kpis):
        if kpi.measure == "audience-contributions" and kpi.audience not in audience_ids:
            problems.append(
                (
                    ("kpis", i, "audience"),
                    f"expected one of the campaign's audiences {sorted(audience_ids)}, found {kpi.audience!r}",
                )
            )
        if kpi.measure == "channel-contributions" and kpi.channel not in plan.channels:
            problems.append(
                (
                    ("kpis", i, "channel"),
                    f"expected one of the campaign's channels {list(plan.channels)}, found {kpi.channel!r}",
                )
            )
    return problems


def _ingest_problems(plan: CampaignPlan) -> list[tuple[Loc, str]]:
    """The ingest section must name the plan's own channels, audiences and questions."""
    ingest = plan.ingest
    problems: list[tuple[Loc, str]] = []
    audience_ids = sorted(a.id for a in plan.audiences)
    questions = {q.id: q for q in plan.instrument}
    if ingest.channel is not None and ingest.channel not in plan.channels:
        problems.append(
            (
                ("ingest", "channel"),
                f"expected one of the campaign's channels {list(plan.channels)}, found {ingest.channel!r}",
            )
        )
    if ingest.audience is not None and ingest.audience not in audience_ids:
        problems.append(
            (("ingest", "audience"), f"expected one of the audiences {audience_ids}, found {ingest.audience!r}")
        )
    if ingest.audience is not None and ingest.audience_question is not None:
        problems.append(
            (("ingest", "audience_question"), "expected either `audience` or `audience_question`, found both")
        )
    if ingest.audience_question is not None:
        question = questions.get(ingest.audience_question)
        if question is None or question.type != "single":
            problems.append(
                (
                    ("ingest", "audience_question"),
                    f"expected the id of a single-choice question, found {ingest.audience_question!r}",
                )
            )
        else:
            strays = sorted({o.id for o in question.options} - set(audience_ids))
            if strays:
                problems.append(
                    (
                        ("ingest", "audience_question"),
                        f"expected options that are audience ids {audience_ids}, found {strays}",
                    )
                )
    problems += _duplicates(ingest.segments, ("ingest", "segments"))
    for i, question in enumerate(plan.instrument):
        if question.type != "number" and (question.minimum is not None or question.maximum is not None):
            problems.append(
                ((("instrument", i, "minimum")), f"expected a range only on a number question, found {question.type}")
            )
        if question.minimum is not None and question.maximum is not None and question.maximum < question.minimum:
            problems.append(
                (
                    ("instrument", i, "maximum"),
                    f"expected at least the minimum {question.minimum}, found {question.maximum}",
                )
            )
    return problems


def _duplicates(items: tuple[BaseModel, ...], loc: Loc) -> list[tuple[Loc, str]]:
    seen: set[str] = set()
    problems: list[tuple[Loc, str]] = []
    for i, item in enumerate(items):
        item_id = getattr(item, "id", None)
        if item_id is None:
            continue
        if item_id in seen:
            problems.append(((*loc, i, "id"), f"expected a unique id, found {item_id!r} again"))
        seen.add(item_id)
    return problems


def registry_problems(registry: ApproversRegistry) -> list[tuple[Loc, str]]:
    """Unique approver and key ids; keys that end after they start; delegations between known people."""
    problems = _duplicates(registry.approvers, ("approvers",))
    seen_keys: set[str] = set()
    for i, approver in enumerate(registry.approvers):
        for k, key in enumerate(approver.keys):
            loc: Loc = ("approvers", i, "keys", k)
            if key.id in seen_keys:
                problems.append(((*loc, "id"), f"expected a unique key id, found {key.id!r} again"))
            seen_keys.add(key.id)
            for end in ("valid_until", "revoked_at"):
                moment = getattr(key, end)
                if moment is not None and moment <= key.valid_from:
                    problems.append(((*loc, end), f"expected a time after valid_from {key.valid_from}, found {moment}"))
    people = {a.id: a for a in registry.approvers}
    for i, delegation in enumerate(registry.delegations):
        loc = ("delegations", i)
        for party in ("delegator", "delegate"):
            if getattr(delegation, party) not in people:
                problems.append(((*loc, party), f"expected an approver id, found {getattr(delegation, party)!r}"))
        if delegation.delegator == delegation.delegate:
            problems.append(((*loc, "delegate"), "expected someone other than the delegator"))
        if delegation.ends <= delegation.starts:
            problems.append(
                ((*loc, "ends"), f"expected a time after starts {delegation.starts}, found {delegation.ends}")
            )
        delegator = people.get(delegation.delegator)
        lent = set(delegation.roles) - set(delegator.roles if delegator else ())
        if delegator and lent:
            problems.append(((*loc, "roles"), f"expected roles {delegation.delegator} holds, found {sorted(lent)}"))
    return problems


def _analysis_problems(plan: CampaignPlan) -> list[tuple[Loc, str]]:
    """The analysis section must name the plan's own questions, of the types its figures need."""
    analysis = plan.analysis
    questions: dict[str, Question] = {}
    for question in plan.instrument:  # a repeated id is reported once, as a duplicate, not here again
        questions.setdefault(question.id, question)
    problems: list[tuple[Loc, str]] = []

    def expect(loc: Loc, qid: str, types: tuple[str, ...]) -> Question | None:
        question = questions.get(qid)
        wanted = " or ".join(types)
        if question is None:
            close = difflib.get_close_matches(qid, sorted(questions), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append((loc, f"expected the id of a {wanted} question of the instrument{hint}, found {qid!r}"))
        elif question.type not in types:
            problems.append((loc, f"expected a {wanted} question, found {qid!r} of type {question.type}"))
            return None
        return question

    for i, qid in enumerate(analysis.satisfaction):
        expect(("analysis", "satisfaction", i), qid, ("likert",))
    if analysis.vote is not None:
        expect(("analysis", "vote", "question"), analysis.vote.question, ("single",))
    if analysis.budget is not None:
        ballot = expect(("analysis", "budget", "question"), analysis.budget.question, ("ballot",))
        for j, option in enumerate(ballot.options if ballot else ()):
            if option.cost is None:
                problems.append(
                    (("analysis", "budget", "question"), f"expected a cost for project {option.id!r} (option {j})")
                )
    if plan.kind == "vote" and analysis.vote is None:
        problems.append((("analysis", "vote"), "expected the vote question and tie rule of a vote campaign"))
    if plan.kind == "participatory-budget" and analysis.budget is None:
        problems.append((("analysis", "budget"), "expected the ballot question, total and rule of a budget"))
    fields = {s.id for s in plan.ingest.segments}
    for i, field in enumerate(analysis.segments):
        if field not in fields:
            problems.append(
                (
                    ("analysis", "segments", i),
                    f"expected a segment field of ingest.segments {sorted(fields)}, found {field!r}",
                )
            )
    return problems
