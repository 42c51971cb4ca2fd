"""The plan files as typed models: a campaign plan, the annual programme, the approvers registry.

Unknown keys are rejected everywhere, so a misspelt key is an error rather than a silent default.
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    SerializerFunctionWrapHandler,
    StringConstraints,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

Stage = Literal["prepare", "plan", "conduct", "analyse", "announce", "evaluate"]


STAGES: tuple[Stage, ...] = ("prepare", "plan", "conduct", "analyse", "announce", "evaluate")


Level = Literal["information", "consultation", "decision-making"]


LEVELS: tuple[Level, ...] = ("information", "consultation", "decision-making")


# The sectors the UN e-participation survey asks about (guide section 9), and a few more a ministry names.
BuiltInSector = Literal[
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


BuiltInChannel = Literal[
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
    "whatsapp",
    "government-app",
    "national-id-portal",
    "majlis",
    "youtube",
    "linkedin",
    "snapchat",
    "tiktok",
    "telegram",
    "radio-tv",
]


BuiltInTool = Literal[
    "e-questionnaire",
    "listening-sessions",
    "behaviour-analytics",
    "live-stream",
    "workshop",
    "e-voting",
    "comment-form",
    "majlis",
    "focus-group",
    "whatsapp-poll",
    "hackathon",
    "field-visits",
]


DecisionMethod = Literal["public-vote", "agency-decides"]


QuestionType = Literal["single", "multiple", "likert", "number", "text", "ballot"]


ID_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
Id = Annotated[str, Field(pattern=ID_PATTERN, min_length=1, max_length=80)]


Text = Annotated[str, Field(min_length=1)]


# A channel, tool or sector is a built-in one or one the programme's (or the plan's) `vocabulary` names:
# plain ids here, checked against both once the programme is known (stages/checks.py, vocabulary_problems).
Channel = Id
Tool = Id
Sector = Id
CHANNELS: tuple[str, ...] = get_args(BuiltInChannel)
TOOLS: tuple[str, ...] = get_args(BuiltInTool)
SECTORS: tuple[str, ...] = get_args(BuiltInSector)


CURRENCY = r"^[A-Z]{3}$"
QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


class Strict(BaseModel):
    """Base for every plan model: unknown keys are an error and values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Bilingual(Strict):
    """A text every reader gets in their language."""

    ar: Text
    en: Text


class Term(Strict):
    """A channel, tool or sector of the programme's own, with its names for readers."""

    id: Id
    name: Bilingual


class Vocabulary(Strict):
    """Channels, tools and sectors beyond the built-in ones, which plans may then name by id."""

    channels: tuple[Term, ...] = ()
    tools: tuple[Term, ...] = ()
    sectors: tuple[Term, ...] = ()

    def merged(self, other: "Vocabulary | None") -> "Vocabulary":
        """This vocabulary and the terms of `other` it lacks (its own names win)."""
        if other is None:
            return self

        def both(mine: tuple[Term, ...], theirs: tuple[Term, ...]) -> tuple[Term, ...]:
            ids = {t.id for t in mine}
            return (*mine, *(t for t in theirs if t.id not in ids))

        return Vocabulary(
            channels=both(self.channels, other.channels),
            tools=both(self.tools, other.tools),
            sectors=both(self.sectors, other.sectors),
        )

    def name(self, key: str) -> Bilingual | None:
        """The names of a term by its key as documents look it up (`channel_whatsapp-business`), if it has one."""
        prefix, _, term_id = key.partition("_")
        terms = {"channel": self.channels, "tool": self.tools, "sector": self.sectors}.get(prefix, ())
        return next((t.name for t in terms if t.id == term_id), None)


Language = Literal["ar", "en"]


LANGUAGES: tuple[Language, ...] = ("ar", "en")


LANGUAGE_NAMES: dict[Language, str] = {"ar": "Arabic", "en": "English"}


_ARABIC_LETTER = re.compile("[\u0621-\u064a\u066e-\u06d3\u06fa-\u06ff]")
_LATIN_LETTER = re.compile("[A-Za-z\u00c0-\u024f]")


def language_of(text: str) -> Language:
    """The language of a text written without one: Arabic when most of its letters are Arabic, else English."""
    return "ar" if len(_ARABIC_LETTER.findall(text)) > len(_LATIN_LETTER.findall(text)) else "en"


class Prose(Strict):
    """What a person writes for readers: `{ar: ..., en: ...}`, or one language marked `{ar: ...}` / `{en: ...}`.

    A bare string is taken as one language, the one most of its letters are written in (see
    `language_of`), so plan files written before prose was bilingual still load; `validate` warns
    about every prose given in one language only, and documents mark it as not translated.
    """

    ar: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] | None = None
    en: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _bare_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                raise ValueError("expected a text, found an empty string")
            return {language_of(value): value}
        if not isinstance(value, dict | Prose):
            raise ValueError(f"expected a text, or {{ar: ..., en: ...}}, found {value!r}")
        return value

    @model_validator(mode="after")
    def _some_language(self) -> "Prose":
        if self.ar is None and self.en is None:
            raise ValueError("expected the text in Arabic (ar), English (en) or both, found neither")
        return self

    @model_serializer(mode="wrap")
    def _given_only(self, handler: SerializerFunctionWrapHandler) -> dict[str, str]:
        return {lang: text for lang, text in handler(self).items() if text is not None}

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        text = {"type": "string", "minLength": 1}
        both = handler.resolve_ref_schema(handler(schema))
        both.pop("description", None)
        both.update(properties={"ar": text, "en": text}, minProperties=1)
        one = {**text, "description": "one language: Arabic when most of its letters are, else English"}
        return {"anyOf": [both, one], "description": cls.__doc__.splitlines()[0] if cls.__doc__ else ""}

    def missing(self) -> tuple[Language, ...]:
        """The languages it is not given in."""
        return tuple(lang for lang in LANGUAGES if getattr(self, lang) is None)

    def __str__(self) -> str:
        """English where given (the CLI's language), else Arabic."""
        return self.en or self.ar or ""


def _blank_is_unanswered(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


# An answer left blank (an empty string) is an answer not given, as before prose was bilingual.
Answer = Annotated[Prose | None, BeforeValidator(_blank_is_unanswered)]


class Audience(Strict):
    id: Id
    name: Bilingual
    traits: Prose | None = None


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
    description: Bilingual | None = Field(default=None, description="a participatory-budget project's description")
    category: Text | None = Field(default=None, description="a participatory-budget project's category")
    area: Id | None = Field(default=None, description="the budget area (district) a project belongs to")


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


class DialogueSession(Strict):
    """When and where a dialogue session is held, and who facilitates it."""

    on: date
    starts: time
    venue: Bilingual
    facilitators: tuple[Prose, ...] = ()


# A dialogue session asks no online question: the points raised in it are its contributions, each the
# answer to this one text question (submitted as the session's minutes, stages/conduct.py `Minutes`).
POINTS = "points"
POINTS_QUESTION: dict[str, Any] = {
    "id": POINTS,
    "type": "text",
    "title": {"ar": "النقاط المطروحة في الجلسة", "en": "Points raised in the session"},
}


def _question_id(question: Any) -> Any:
    return question.id if isinstance(question, Question) else question.get("id")


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


class BudgetArea(Strict):
    """An area (district) with a budget of its own: its projects compete only with each other."""

    id: Id
    name: Bilingual
    total: float = Field(gt=0)
    max_projects: int | None = Field(default=None, ge=1, description="projects one ballot may choose in the area")


class BudgetRule(Strict):
    """A participatory budget: the ballot question (its options are the projects, with costs) and the rule."""

    question: Id
    total: float = Field(gt=0)
    currency: str = Field(default="OMR", min_length=1, max_length=8)
    vote_type: Literal["approval", "choose-1", "ordinal", "cumulative", "scoring"] = "approval"
    rule: Literal[
        "greedy",
        "greedy-threshold",
        "greedy-no-skip",
        "greedy-exclusive",
        "greedy-custom",
        "equal-shares",
        "equal-shares-comparison",
    ] = "equal-shares"
    ties: Literal["cheaper", "plan-order"] = Field(
        default="cheaper",
        description="a tie in support goes to the cheaper project, then the plan's order (cheaper), or to the "
        "project listed first in the plan (plan-order)",
    )
    threshold: float = Field(default=0, ge=0, description="the least support (votes or points) a funded project has")
    exclusive: tuple[tuple[Id, ...], ...] = Field(
        default=(), description="greedy-exclusive: groups of projects of which at most one is funded"
    )
    stretch: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="greedy-custom: the share of the first project that does not fit the leftover must cover",
    )
    max_projects: int | None = Field(default=None, ge=1, description="projects one ballot may choose")
    areas: tuple[BudgetArea, ...] = Field(
        default=(), description="areas with budgets of their own; every project then names its area"
    )


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

    objective: Answer = None
    management_support: Answer = None
    institutional_readiness: Answer = None
    audience_readiness: Answer = None


class PrepareSection(Strict):
    subject: Bilingual
    audience_knowledge: Prose | None = None
    readiness: Readiness = Readiness()


class Party(Strict):
    name: Prose
    kind: Literal["agency", "media", "private-sector", "civil-society", "academia", "internal"]
    role: Prose | None = None


class Expert(Strict):
    name: Prose
    field: Prose


class Influencer(Strict):
    name: Prose
    platform: Prose


class Milestone(Strict):
    milestone: Prose
    on: date


class Resource(Strict):
    role: Prose
    count: int = Field(ge=1)


class BudgetItem(Strict):
    item: Prose
    amount: float = Field(ge=0)


class Budget(Strict):
    currency: str = Field(default="OMR", pattern=CURRENCY)
    items: tuple[BudgetItem, ...] = Field(min_length=1)

    @property
    def total(self) -> float:
        return sum(item.amount for item in self.items)


class PlanSection(Strict):
    """The guide's detailed plan (8.1.2); the plan stage lists whichever answers are missing."""

    detailed_objective: Prose | None = None
    stakeholders: tuple[Party, ...] = ()
    experts: tuple[Expert, ...] = ()
    influencers: tuple[Influencer, ...] = ()
    timeline: tuple[Milestone, ...] = ()
    resources: tuple[Resource, ...] = ()
    budget: Budget | None = None
    slogan: Bilingual | None = None
    key_messages: tuple[Bilingual, ...] = ()
    reach: tuple[Prose, ...] = ()
    analysis_method: Prose | None = None
    results_communication: Prose | None = None
    cites_lessons: tuple[Id, ...] = Field(
        default=(), description="ids from the lessons register (musharaka lessons) this plan builds on"
    )


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


WEEKDAYS: tuple[Weekday, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
"""In `date.weekday()` order: Monday is 0."""


COUNTRY = re.compile(r"^[A-Z]{2}$")


class DayOff(Strict):
    """A day off the country's calendar does not know: a ministry's closure, a holiday decreed late."""

    on: date
    name: Bilingual


class Calendar(Strict):
    """Which days are working days, for gates whose policy counts `days: working`.

    The country's week-end and public holidays come from the `holidays` package (the Hijri-calendar
    holidays included); `holidays` adds days off, and `working` names days worked all the same.
    """

    country: str = Field(
        default="OM", pattern=COUNTRY.pattern, description="ISO 3166 two-letter code: OM, AE, SA, QA, BH, KW..."
    )
    weekend: tuple[Weekday, ...] | None = Field(
        default=None, description="the week-end days; by default the country's (Friday and Saturday in Oman)"
    )
    holidays: tuple[DayOff, ...] = Field(default=(), description="days off besides the country's public holidays")
    working: tuple[date, ...] = Field(
        default=(), description="days worked although a week-end day or a holiday (say, a Saturday in lieu)"
    )

    @field_validator("weekend")
    @classmethod
    def _some_days_worked(cls, value: tuple[Weekday, ...] | None) -> tuple[Weekday, ...] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError(f"expected each week-end day once, found {list(value)}")
        if value is not None and len(value) == len(WEEKDAYS):
            raise ValueError("expected at least one working day in the week, found all seven in the week-end")
        return value


class GatePolicy(Strict):
    """Who may sign a stage's gate off, how many must, and within how many days.

    The gate passes when `quorum` different people holding any of `roles` have approved and, for
    each role in `all_of`, another different person holding it has too. After the due date a
    holder of an `escalation` role may decide alone.
    """

    roles: tuple[Id, ...] = ()
    quorum: int = Field(default=1, ge=1, le=50)  # a board, not a referendum: each seat is a person
    all_of: tuple[Id, ...] = ()
    escalation: tuple[Id, ...] = ()
    due_days: int = Field(default=5, ge=1, le=365)
    days: Literal["calendar", "working"] = Field(
        default="calendar", description="working: skip the week-end and holidays of the campaign's calendar"
    )

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


RiskKind = Literal["low-turnout", "unrepresentative", "organised-campaign", "no-feedback", "data-protection", "other"]


# The guide's risks of participation (section 19) in the order the register lists them; the first four the
# engine watches in the campaign's own figures (stages/risks.py).
RISK_KINDS: tuple[RiskKind, ...] = get_args(RiskKind)


class Risk(Strict):
    """A risk the campaign names in its register: how likely, how harmful, who watches it and what they do."""

    id: Id
    kind: RiskKind
    title: Bilingual
    likelihood: int = Field(ge=1, le=5, description="1 rare, 2 unlikely, 3 possible, 4 likely, 5 almost certain")
    impact: int = Field(ge=1, le=5, description="1 negligible, 2 minor, 3 moderate, 4 major, 5 severe")
    owner: Id = Field(description="the person of the registry who watches it")
    treatment: Literal["reduce", "avoid", "transfer", "accept"] = Field(
        default="reduce", description="the guide's four treatments (section 19): reduce, avoid, transfer or accept it"
    )
    mitigation: Bilingual

    @property
    def score(self) -> int:
        """Likelihood times impact, 1 to 25."""
        return self.likelihood * self.impact


class RiskSignals(Strict):
    """When the engine raises the guide's risk signals from the campaign's own figures."""

    target: int | None = Field(
        default=None, gt=0, description="contributions expected by the close; by default the contributions KPI's"
    )
    turnout: float = Field(
        default=0.5, gt=0, le=1, description="low-turnout: mid-window contributions below this share of the target"
    )
    dominance: float = Field(
        default=0.7, gt=0, lt=1, description="unrepresentative: one audience above this share of contributions"
    )
    duplicates: float = Field(
        default=0.2, gt=0, lt=1, description="organised-campaign: free-text answers repeating another above this share"
    )
    minimum: int = Field(
        default=20, ge=1, description="contributions (free-text answers) before shares are judged at all"
    )
    announce_days: int = Field(
        default=14, ge=1, le=365, description="no-feedback: days after the decision's approval to announce it"
    )


# The open licences a campaign's open data may be published under (SPDX ids), with their titles and texts.
LICENCES: dict[str, tuple[str, str]] = {
    "CC-BY-4.0": ("Creative Commons Attribution 4.0 International", "https://creativecommons.org/licenses/by/4.0/"),
    "CC0-1.0": ("Creative Commons Zero v1.0 Universal", "https://creativecommons.org/publicdomain/zero/1.0/"),
    "CC-BY-SA-4.0": (
        "Creative Commons Attribution Share Alike 4.0 International",
        "https://creativecommons.org/licenses/by-sa/4.0/",
    ),
    "ODC-By-1.0": ("Open Data Commons Attribution License v1.0", "https://opendatacommons.org/licenses/by/1-0/"),
    "ODbL-1.0": ("Open Data Commons Open Database License v1.0", "https://opendatacommons.org/licenses/odbl/1-0/"),
    "PDDL-1.0": (
        "Open Data Commons Public Domain Dedication & License 1.0",
        "https://opendatacommons.org/licenses/pddl/1-0/",
    ),
}
Licence = Literal["CC-BY-4.0", "CC0-1.0", "CC-BY-SA-4.0", "ODC-By-1.0", "ODbL-1.0", "PDDL-1.0"]


class OpenDataSection(Strict):
    """How the campaign's results are published as open data once it is closed (`musharaka publish`)."""

    licence: Licence = Field(default="CC-BY-4.0", description="the open licence, by its SPDX id")
    free_text: bool = Field(
        default=False, description="whether participants' own words (text answers, terms) may be published"
    )
    min_group: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="the fewest respondents a group (audience, segment value) needs for its answers to be shown",
    )


Moment = Literal["stage-start", "gate-approved", "window-opens", "window-closes", "decision"]


MOMENTS: tuple[Moment, ...] = get_args(Moment)


# Who a message is for, besides the plan's own audiences (guide 8.1.7: every party, the target audience included).
Recipient = Literal["participants", "public", "management", "stakeholders", "media", "staff"]


RECIPIENTS: tuple[Recipient, ...] = get_args(Recipient)


class When(Strict):
    """When a message goes out: a lifecycle moment and a number of days from it, or a fixed day."""

    at: Moment | None = Field(
        default=None,
        description="stage-start, gate-approved (the message's stage's), window-opens, window-closes (its last "
        "day, after any extension), decision (the analyse gate approved)",
    )
    days: int = Field(default=0, ge=-366, le=366, description="days from the moment; negative: before it")
    counted: Literal["calendar", "working"] = Field(
        default="calendar", description="working: skip the week-end and holidays of the campaign's calendar"
    )
    on: date | None = Field(default=None, description="a fixed day instead of a moment")

    @model_validator(mode="after")
    def _moment_or_day(self) -> "When":
        if (self.at is None) == (self.on is None):
            raise ValueError(
                "expected either `at` (a moment, with `days`) or `on` (a day), found "
                + ("both" if self.at is not None else "neither")
            )
        return self


class Message(Strict):
    """One message of the communication plan (guide 8.1.7): who is told what, on which channels, and when."""

    id: Id
    stage: Stage
    to: tuple[Id, ...] = Field(min_length=1, description=f"{', '.join(RECIPIENTS)}, or the plan's audience ids")
    what: Bilingual
    channels: tuple[Channel, ...] = Field(min_length=1)
    when: When
    promise: bool = Field(default=False, description="a promise to participants: the announcement reports it kept")


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
    instrument: tuple[Question, ...] = Field(
        default=(), description="the questions asked; a dialogue session may ask none (its points are recorded)"
    )
    session: DialogueSession | None = Field(
        default=None, description="a dialogue session's date, start time, venue and facilitators"
    )
    kpis: tuple[Kpi, ...] = ()
    prepare: PrepareSection
    plan: PlanSection = PlanSection()
    gates: Gates
    ingest: IngestSection = IngestSection()
    analysis: AnalysisSection = AnalysisSection()
    calendar: Calendar | None = Field(
        default=None, description="the working week and holidays, instead of the programme's (by default Oman's)"
    )
    vocabulary: Vocabulary | None = Field(
        default=None,
        description="channels, tools and sectors of its own; the programme listing it adds the programme's",
    )
    communication: tuple[Message, ...] = Field(
        default=(), description="the communication plan: per stage, who is told what on which channels and when"
    )
    open_data: OpenDataSection | None = Field(
        default=None, description="the licence and what may be published as open data once the campaign is closed"
    )
    risks: tuple[Risk, ...] = Field(default=(), description="the risk register (guide section 19)")
    risk_signals: RiskSignals | None = Field(
        default=None, description="when the engine raises the risk signals; by default the thresholds shown"
    )

    @model_validator(mode="before")
    @classmethod
    def _points_of_a_dialogue(cls, value: Any) -> Any:
        if not isinstance(value, dict) or value.get("kind") != "dialogue-session":
            return value
        asked = value.get("instrument") or []
        if any(isinstance(q, dict | Question) and _question_id(q) == POINTS for q in asked):
            return value
        return {**value, "instrument": [*asked, POINTS_QUESTION]}


Loc = tuple[str | int, ...]
