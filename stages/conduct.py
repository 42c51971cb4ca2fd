"""Stage 3, conduct (guide 8.1.3): the window runs its course; what participants contributed is counted."""

from collections.abc import Iterable
from datetime import UTC, date, datetime

import pandas as pd
from pydantic import ConfigDict, Field

from musharaka.stages import frame
from musharaka.stages import plan as plan_stage
from musharaka.stages.activities import Activity, Perform, Run, StageDefinition, directly
from musharaka.stages.common import MissingInputs, NotYet, StageModel, activity
from musharaka.stages.plans import Bilingual, CampaignPlan, Id, Prose, Strict, Text

ACTIVITIES = (
    activity("Launch on the chosen channels", "الإطلاق عبر القنوات المختارة"),
    activity("Keep the dialogue going for the planned period", "استمرار الحوار طوال المدة المخططة"),
    activity("Keep a senior-management contact informed", "إبقاء جهة اتصال في الإدارة العليا على اطلاع"),
    activity("Promote the campaign in traditional media", "الترويج للحملة في الإعلام التقليدي"),
    activity("Manage contributions carefully", "إدارة المساهمات بعناية"),
    activity("Stay flexible, e.g. extend the participation window", "المرونة، مثل تمديد فترة المشاركة"),
)

Answer = str | float | list[str] | dict[str, float] | None


class Contribution(StageModel):
    """One participant's answers, keyed by question id: a plain record for building frames by hand."""

    submitted_at: datetime
    channel: str
    audience: str
    answers: dict[str, Answer]
    segments: dict[str, str] = Field(default_factory=dict)


def frame_of(contributions: Iterable[Contribution]) -> pd.DataFrame:
    """The stages' contributions frame (`stages.frame`) of hand-built records."""
    return frame.from_records(c.model_dump() for c in contributions)


class Point(Strict):
    """A point raised in a dialogue session, as said, by a participant of one audience: one contribution."""

    audience: Id
    text: Text


class Minutes(Strict):
    """A dialogue session's minutes (`submit ID conduct minutes.yaml`): who attended, per audience, and the
    points raised; the points are the session's contributions."""

    attendance: dict[Id, int] = Field(min_length=1, description="people who attended, per audience id")
    points: tuple[Point, ...] = Field(min_length=1)
    summary: Prose | None = None


Submitted = Minutes


def submission_problems(minutes: Minutes, plan: CampaignPlan) -> list[tuple[tuple[str | int, ...], str]]:
    """Minutes are for a dialogue session, of the plan's audiences, with counts that are people."""
    if plan.kind != "dialogue-session":
        return [((), f"expected contributions exported from a tool for a {plan.kind} campaign, found minutes")]
    audiences = [a.id for a in plan.audiences]
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for audience, count in minutes.attendance.items():
        if audience not in audiences:
            problems.append(
                (("attendance", audience), f"expected one of the audiences {audiences}, found {audience!r}")
            )
        if count < 0:
            problems.append((("attendance", audience), f"expected a number of people, found {count}"))
    for i, point in enumerate(minutes.points):
        if point.audience not in audiences:
            problems.append(
                (("points", i, "audience"), f"expected one of the audiences {audiences}, found {point.audience!r}")
            )
    return problems


class SessionHeld(StageModel):
    """The dialogue session as held: the plan's when and where, the minutes' attendance and points."""

    on: date
    starts: str  # HH:MM, in the campaign's zone
    venue: Bilingual
    facilitators: tuple[Prose, ...]
    attendance: dict[str, int]  # in the plan's order of audiences
    attended: int
    points: tuple[Point, ...]
    summary: Prose | None = None


class KpiProgress(StageModel):
    id: str
    name: Bilingual
    target: float
    actual: float
    share: float  # actual / target, 1.0 = target met


class Inputs(StageModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    plan: plan_stage.Outputs
    contributions: pd.DataFrame  # columns as `stages.frame` documents
    extended_to: date | None = None  # a later closing date decided at the conduct gate
    minutes: Minutes | None = None  # a dialogue session's, as last submitted


class Outputs(StageModel):
    """The contributions collected during the window, counted every way the plan cares about."""

    opens_at: datetime
    closes_at: datetime
    timezone: str
    total: int
    by_channel: dict[str, int]  # in the plan's order of channels
    by_audience: dict[str, int]  # in the plan's order of audiences
    by_day: dict[str, int]
    answered: dict[str, int]  # question id -> contributions answering it, in the plan's order
    kpis: tuple[KpiProgress, ...]
    session: SessionHeld | None = None


class Given(Run):
    inputs: Inputs


class Launch(StageModel):
    opens_at: datetime
    channels: tuple[str, ...]


class Period(StageModel):
    closes_at: datetime
    timezone: str


class Counted(StageModel):
    """The contributions collected during the window, counted every way the plan cares about."""

    total: int
    by_channel: dict[str, int]
    by_audience: dict[str, int]
    by_day: dict[str, int]
    answered: dict[str, int]
    session: SessionHeld | None


class Progress(StageModel):
    """What the senior-management contact is told: each KPI against its target."""

    kpis: tuple[KpiProgress, ...]


class Promotion(StageModel):
    """Who the plan counts on to spread the word beyond the campaign's own channels."""

    media: tuple[Prose, ...]
    influencers: tuple[Prose, ...]
    reach: tuple[Prose, ...]


class Extension(StageModel):
    planned_close: date
    extended_to: date | None


def launch(given: Given) -> Launch:
    plan, closes = given.plan, given.inputs.extended_to or given.inputs.plan.window_closes
    opens_at = plan.window.opens_at()
    if given.now < opens_at:
        window = f"{plan.window.opens} to {closes}"
        raise NotYet(f"the participation window ({window}) has not opened yet", opens_at)
    return Launch(opens_at=opens_at.astimezone(UTC), channels=plan.channels)


def keep_going(given: Given) -> Period:
    plan, closes = given.plan, given.inputs.extended_to or given.inputs.plan.window_closes
    closes_at = plan.window.closes_at(closes)
    if given.now < closes_at:
        raise NotYet("the participation window is open", closes_at)
    return Period(closes_at=closes_at.astimezone(UTC), timezone=plan.window.timezone)


def manage_contributions(given: Given) -> Counted:
    plan, contributions = given.plan, given.inputs.contributions
    if contributions.empty:
        raise MissingInputs(["conduct.contributions: no contributions were submitted for this campaign"])
    return Counted(
        total=len(contributions),
        by_channel=_counts(contributions["channel"], plan.channels),
        by_audience=_counts(contributions["audience"], tuple(a.id for a in plan.audiences)),
        by_day=_counts(days_of(contributions, plan.window.timezone)),
        answered={q.id: int(frame.given(frame.answers(contributions, q.id)).sum()) for q in plan.instrument},
        session=_session(plan, given.inputs.minutes),
    )


class Counts(StageModel):
    given: Given
    counted: Counted


def inform_management(counts: Counts) -> Progress:
    counted = counts.counted
    return Progress(kpis=tuple(_progress(counts.given.plan, counted.total, counted.by_audience, counted.by_channel)))


def promote(given: Given) -> Promotion:
    planned = given.inputs.plan
    return Promotion(
        media=tuple(party.name for party in planned.stakeholders if party.kind == "media"),
        influencers=tuple(influencer.name for influencer in planned.influencers),
        reach=planned.reach,
    )


def stay_flexible(given: Given) -> Extension:
    return Extension(planned_close=given.inputs.plan.window_closes, extended_to=given.inputs.extended_to)


CONTRIBUTIONS = Bilingual(
    en="the contributions exported from the campaign's tools, or a dialogue session's minutes",
    ar="المساهمات المصدّرة من أدوات الحملة، أو محضر جلسة الحوار",
)
LAUNCH = Activity("conduct.launch", ACTIVITIES[0], launch)
KEEP_GOING = Activity("conduct.participation-window", ACTIVITIES[1], keep_going)
INFORM = Activity("conduct.inform-management", ACTIVITIES[2], inform_management)
PROMOTE = Activity("conduct.promote", ACTIVITIES[3], promote)
MANAGE = Activity("conduct.contributions", ACTIVITIES[4], manage_contributions, waits_for=CONTRIBUTIONS)
FLEXIBLE = Activity("conduct.extension", ACTIVITIES[5], stay_flexible)


def run(inputs: Inputs, plan: CampaignPlan, now: datetime, perform: Perform = directly) -> Outputs:
    """Count the contributions once the window has closed; until then the stage waits."""
    given = Given(inputs=inputs, plan=plan, now=now)
    launched = perform(LAUNCH, given)
    period = perform(KEEP_GOING, given)
    counted = perform(MANAGE, given)
    progress = perform(INFORM, Counts(given=given, counted=counted))
    perform(PROMOTE, given)  # the plan's promotion, shown in the stage's run: the outputs hold the figures
    perform(FLEXIBLE, given)  # the window's extension, if any, is in `closes_at`
    return Outputs(
        opens_at=launched.opens_at,
        closes_at=period.closes_at,
        timezone=period.timezone,
        **dict(counted),
        kpis=progress.kpis,
    )


def _session(plan: CampaignPlan, minutes: Minutes | None) -> SessionHeld | None:
    if plan.session is None or minutes is None:
        return None  # a dialogue whose contributions came from its questionnaire alone: counted as any campaign's
    order = [a.id for a in plan.audiences]
    attendance = {a: minutes.attendance.get(a, 0) for a in order}
    return SessionHeld(
        on=plan.session.on,
        starts=plan.session.starts.strftime("%H:%M"),
        venue=plan.session.venue,
        facilitators=plan.session.facilitators,
        attendance=attendance,
        attended=sum(attendance.values()),
        points=minutes.points,
        summary=minutes.summary,
    )


def days_of(contributions: pd.DataFrame, zone: str) -> pd.Series:
    """Each contribution's day in the campaign's zone (local midnight, naive)."""
    days: pd.Series = contributions["submitted_at"].dt.tz_convert(zone).dt.tz_localize(None).dt.normalize()
    return days


def _counts(values: pd.Series, order: tuple[str, ...] = ()) -> dict[str, int]:
    """Per value, how many: in the plan's `order`, then the values it does not list, in sorted order."""
    counts = values.value_counts(sort=False).sort_index()
    named = {k.strftime("%Y-%m-%d") if isinstance(k, pd.Timestamp) else str(k): int(v) for k, v in counts.items()}
    rank = {value: i for i, value in enumerate(order)}
    return dict(sorted(named.items(), key=lambda item: rank.get(item[0], len(rank))))


def _progress(
    plan: CampaignPlan, total: int, by_audience: dict[str, int], by_channel: dict[str, int]
) -> list[KpiProgress]:
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


STAGE = StageDefinition(
    name="conduct",
    inputs=Inputs,
    outputs=Outputs,
    submitted=Minutes,
    activities=(LAUNCH, KEEP_GOING, INFORM, PROMOTE, MANAGE, FLEXIBLE),
    run=run,
    submission_problems=submission_problems,
)
