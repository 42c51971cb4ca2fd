"""The plan files as typed models: a campaign plan, the annual programme, the approvers registry.

Unknown keys are rejected everywhere, so a misspelt key is an error rather than a silent default.
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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


Loc = tuple[str | int, ...]
