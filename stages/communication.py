"""The communication plan across stages (guide 8.1.7), pure: when each message is due, whether it went out
in time, and which promises to participants were kept.

A message is due on one day in the campaign's zone: its moment's day (the day a stage started or a gate was
approved, the window's first or last day, or a fixed day) moved by `days`, calendar or working days. It must
go out by the end of that day. It is not due before its moment is reached: a message two days after the
decision has no due day until the decision is approved.
"""

from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field

from musharaka.stages.calendars import calendar_of, is_working_day, working_day_after
from musharaka.stages.common import StageModel
from musharaka.stages.plans import (
    RECIPIENTS,
    STAGES,
    Bilingual,
    CampaignPlan,
    Loc,
    Message,
    Stage,
    local_midnight,
)

Status = Literal["scheduled", "due", "overdue", "sent-on-time", "sent-late"]
STATUSES: tuple[Status, ...] = ("scheduled", "due", "overdue", "sent-on-time", "sent-late")

Outcome = Literal["kept", "broken", "pending"]

# Moments the engine learns only when they happen: a message cannot be due before them.
_EVENT_MOMENTS = ("stage-start", "gate-approved", "decision")

# Those who took part, or everyone: the guide (8.1.5) has them told on the channels that collected contributions.
_TOOK_PART = ("participants", "public")


class Sent(StageModel):
    """A message recorded as sent: by whom, when, and optionally a link to what went out."""

    message: str
    at: datetime
    by: str
    evidence: str | None = None


class Record(StageModel):
    """What the campaign's log says about the moments messages hang on, and the messages sent."""

    started: dict[Stage, datetime] = Field(default_factory=dict)  # each stage's first start
    approved: dict[Stage, datetime] = Field(default_factory=dict)  # when each stage's gate was approved
    closes: date | None = None  # the window's last day after an extension; None: the plan's
    sent: tuple[Sent, ...] = ()


class Entry(StageModel):
    """One message of the plan as it stands at a moment: when it is due and where it is."""

    message: Message
    due_on: date | None  # the day it is due, in the campaign's zone; None: its moment is not reached yet
    due_from: datetime | None  # UTC: the start of that day, or the moment itself if later
    deadline: datetime | None  # UTC: the end of that day
    status: Status
    sent: Sent | None = None

    @property
    def outcome(self) -> Outcome:
        """For a promise: kept when sent by its day, broken when late or overdue, pending otherwise."""
        if self.status == "sent-on-time":
            return "kept"
        return "broken" if self.status in ("sent-late", "overdue") else "pending"


class Promise(StageModel):
    """A promise to participants, as the announcement reports it."""

    id: str
    what: Bilingual
    to: tuple[str, ...]
    due_on: date | None
    sent_on: date | None  # in the campaign's zone
    days_late: int  # whole days after the due day it went out (0 when on time or not sent)
    outcome: Outcome


def plan_problems(plan: CampaignPlan) -> list[tuple[Loc, str]]:
    """The communication plan's rules beyond its schema, each as (location, what was expected and found)."""
    problems: list[tuple[Loc, str]] = []
    known = (*RECIPIENTS, *(a.id for a in plan.audiences))
    for i, message in enumerate(plan.communication):
        loc: Loc = ("communication", i)
        for j, recipient in enumerate(message.to):
            if recipient not in known:
                problems.append(((*loc, "to", j), f"expected one of {list(known)}, found {recipient!r}"))
        when = message.when
        if when.at in _EVENT_MOMENTS and when.days < 0:
            problems.append(
                (
                    (*loc, "when", "days"),
                    f"expected 0 or more days after {when.at}, a moment known only when it happens, found {when.days}",
                )
            )
        told = any(r in _TOOK_PART for r in message.to)
        if message.stage == "announce" and told and not set(message.channels) & set(plan.channels):
            problems.append(
                (
                    (*loc, "channels"),
                    "expected at least one of the channels that collected contributions "
                    f"{list(plan.channels)} (guide 8.1.5: announce on the same channels), "
                    f"found {list(message.channels)}",
                )
            )
    return problems


def _moment(message: Message, plan: CampaignPlan, record: Record) -> tuple[date, datetime] | None:
    """The day the message's moment falls on (campaign zone) and the instant it was reached; None: not yet."""
    zone = plan.window.timezone
    when = message.when
    fixed = {
        "window-opens": plan.window.opens,
        "window-closes": record.closes or plan.window.closes,
    }
    day = when.on if when.on is not None else fixed.get(when.at or "")
    if day is not None:
        return day, local_midnight(day, zone)
    stage: Stage = "analyse" if when.at == "decision" else message.stage
    instant = (record.started if when.at == "stage-start" else record.approved).get(stage)
    if instant is None:
        return None
    return instant.astimezone(ZoneInfo(zone)).date(), instant


def shifted(day: date, days: int, counted: Literal["calendar", "working"], plan: CampaignPlan) -> date:
    """`day` moved by `days` calendar or working days (negative: back); working days are the campaign calendar's."""
    if counted == "calendar" or days == 0:
        return day + timedelta(days=days)
    calendar = calendar_of(plan)
    if days > 0:
        return working_day_after(day, days, calendar)
    counted_back = 0
    while counted_back < -days:
        day -= timedelta(days=1)
        if is_working_day(day, calendar):
            counted_back += 1
    return day


def entry(message: Message, plan: CampaignPlan, record: Record, now: datetime) -> Entry:
    """One message at `now`: its due day, and scheduled, due, overdue, sent on time or sent late."""
    zone = plan.window.timezone
    sent = next((s for s in record.sent if s.message == message.id), None)
    moment = _moment(message, plan, record)
    if moment is None:
        # sent before its moment was reached: sooner than any due day could be
        status: Status = "sent-on-time" if sent else "scheduled"
        return Entry(message=message, due_on=None, due_from=None, deadline=None, status=status, sent=sent)
    day, reached = moment
    due_on = shifted(day, message.when.days, message.when.counted, plan)
    due_from = local_midnight(due_on, zone)
    if message.when.at in _EVENT_MOMENTS:  # never due before the event it follows: an approval at 15:00
        due_from = max(due_from, reached)
    deadline = local_midnight(due_on + timedelta(days=1), zone)
    if sent is not None:
        status = "sent-on-time" if sent.at < deadline else "sent-late"
    else:
        status = "scheduled" if now < due_from else "due" if now < deadline else "overdue"
    return Entry(message=message, due_on=due_on, due_from=due_from, deadline=deadline, status=status, sent=sent)


def schedule(plan: CampaignPlan, record: Record, now: datetime) -> tuple[Entry, ...]:
    """Every message of the plan at `now`, stage by stage, each stage's by due day (unknown days last)."""
    entries = [entry(m, plan, record, now) for m in plan.communication]
    return tuple(sorted(entries, key=lambda e: (STAGES.index(e.message.stage), e.due_on or date.max)))


def promises_at(plan: CampaignPlan, record: Record, now: datetime) -> tuple[Promise, ...]:
    """The plan's promises to participants at `now`: kept, broken or still pending."""
    zone = ZoneInfo(plan.window.timezone)
    found = []
    for e in schedule(plan, record, now):
        if not e.message.promise:
            continue
        sent_on = e.sent.at.astimezone(zone).date() if e.sent else None
        late = (sent_on - e.due_on).days if sent_on and e.due_on and e.status == "sent-late" else 0
        found.append(
            Promise(
                id=e.message.id,
                what=e.message.what,
                to=e.message.to,
                due_on=e.due_on,
                sent_on=sent_on,
                days_late=late,
                outcome=e.outcome,
            )
        )
    return tuple(found)
