"""What the CLI shows: status rows, gates and history, as typed rows read from the projections."""

import hashlib
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import select as select_core  # many columns: sqlmodel's select types four at most
from sqlmodel import Session, col, select

from musharaka.flows.planfiles.loading import PlanSet
from musharaka.flows.render import locale
from musharaka.flows.views.summaries import summarize
from musharaka.stages.approvers import ApproversRegistry
from musharaka.stages.gates import NoAuthority, authority
from musharaka.stages.i18n import words
from musharaka.stages.plans import GatePolicy, Window
from musharaka.state.events import as_utc, events_of, payload_of
from musharaka.state.projection import approvals, open_gate
from musharaka.state.registry import in_force_if_any
from musharaka.state.settings import get_settings
from musharaka.state.tables import CampaignState, Gate, GateDecision


class OpenGate(BaseModel):
    stage: str
    attempt: int
    roles: list[str]
    quorum: int
    all_of: list[str]
    escalation: list[str]
    approvals: list[str]
    submitter: str
    outputs_digest: str
    opened_at: datetime
    due_at: datetime
    overdue: bool
    late_by: str  # e.g. "2d 4h", empty when not overdue
    may_decide: list[str]  # who could decide it now (empty when no registry was given)


class WindowView(BaseModel):
    opens: date
    closes: date
    timezone: str
    state: str  # upcoming, open, closed


class StatusRow(BaseModel):
    campaign: str
    title: str
    quarter: str
    stage: str | None
    attempt: int | None
    status: str
    detail: str
    gate: OpenGate | None
    window: WindowView


class GateRow(OpenGate):
    campaign: str
    status: str
    decided_at: datetime | None
    timezone: str  # the campaign's


class HistoryEntry(BaseModel):
    seq: int
    at: datetime
    local_time: str
    actor: str
    type: str
    summary: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


def _window(opens: date, closes: date, zone: str, now: datetime) -> WindowView:
    state = Window(opens=opens, closes=closes, timezone=zone).state_at(now)
    return WindowView(opens=opens, closes=closes, timezone=zone, state=state)


class GateFacts(NamedTuple):
    """A gate's columns as the database returns them: a listing of a thousand gates reads tuples, and building an
    ORM object per gate was a good part of `status`. `gate_view` reads either."""

    campaign_id: str
    stage: str
    attempt: int
    status: str
    policy: str
    submitter: str
    outputs_digest: str
    opened_at: datetime
    due_at: datetime


_GATE_FACTS = (
    col(Gate.campaign_id),
    col(Gate.stage),
    col(Gate.attempt),
    col(Gate.status),
    col(Gate.policy),
    col(Gate.submitter),
    col(Gate.outputs_digest),
    col(Gate.opened_at),
    col(Gate.due_at),
)


# who may decide, by (the gate's policy as recorded, submitter, whether it is overdue, approvals so far)
Deciders = dict[tuple[str, str, bool, tuple[str, ...]], list[str]]


def gate_view(
    gate: Gate | GateFacts,
    now: datetime,
    *,
    session: Session,
    registry: ApproversRegistry | None = None,
    approved_by: list[str] | None = None,
    deciders: Deciders | None = None,
    policy: GatePolicy | None = None,
) -> OpenGate:
    """The gate as a reader sees it; `approved_by` when the caller has read the approvals already, `policy` when
    it has parsed the gate's recorded policy already.

    `deciders` keeps who may decide across the gates of one listing: a thousand campaigns of one plan
    share a handful of policies, and walking the registry for each gate was most of `status`.
    """
    if policy is None:
        policy = GatePolicy.model_validate_json(gate.policy)  # as `projection.gate_policy` reads it
    due = as_utc(gate.due_at)
    overdue = gate.status == "open" and now >= due
    if approved_by is not None:
        done = approved_by
    else:
        assert isinstance(gate, Gate), "a gate read as a tuple comes with its approvals"
        done = [a.principal for a in approvals(gate, session=session)]
    may_decide: list[str] = []
    if registry and gate.status == "open":
        known = deciders if deciders is not None else {}
        # the due date matters only as whether it has passed (escalation): a year's gates due on 250 days share it
        key = (gate.policy, gate.submitter, overdue, tuple(done))
        if key not in known:
            known[key] = _may_decide(registry, policy, gate, now, done)
        may_decide = known[key]
    return OpenGate(
        stage=gate.stage,
        attempt=gate.attempt,
        roles=list(policy.roles),
        quorum=policy.quorum,
        all_of=list(policy.all_of),
        escalation=list(policy.escalation),
        approvals=done,
        submitter=gate.submitter,
        outputs_digest=gate.outputs_digest,
        opened_at=as_utc(gate.opened_at),
        due_at=due,
        overdue=overdue,
        late_by=_duration(now - due) if overdue else "",
        may_decide=may_decide,
    )


def _duration(late: timedelta) -> str:
    days, seconds = late.days, late.seconds
    return f"{days}d {seconds // 3600}h" if days else f"{seconds // 3600}h {seconds % 3600 // 60}m"


def _may_decide(
    registry: ApproversRegistry, policy: GatePolicy, gate: Gate | GateFacts, now: datetime, done: list[str]
) -> list[str]:
    """Approvers who could sign this gate now: by role, as a delegate, or by escalation once overdue."""
    allowed = []
    for approver in registry.approvers:
        try:
            power = authority(registry, approver.id, policy, now=now, due=as_utc(gate.due_at))
        except NoAuthority:
            continue
        if gate.submitter not in (approver.id, power.principal) and power.principal not in done:
            allowed.append(approver.id if power.capacity == "role" else f"{approver.id} ({power.capacity})")
    return allowed


def needs(gate: OpenGate, lang: str = "en") -> str:
    """The policy in words: '2 of dg-planning|director + 1 legal' ("2 من dg-planning|director + 1 legal")."""
    of = words(lang).gettext("%(quorum)s of %(roles)s")
    parts = [of % {"quorum": gate.quorum, "roles": "|".join(gate.roles)}] if gate.roles else []
    parts += [f"1 {role}" for role in gate.all_of]
    return " + ".join(parts)


def status_rows(plans: PlanSet, *, now: datetime, session: Session) -> list[StatusRow]:
    """Started campaigns from the projections, then programme campaigns not yet started.

    Three queries whatever the number of campaigns (the states, the open gates, their approvals), each read as
    plain tuples: over a thousand campaigns, ORM objects cost more than the rest of the listing."""
    rows = []
    columns = (
        col(CampaignState.campaign_id),
        col(CampaignState.title_en),
        col(CampaignState.quarter),
        col(CampaignState.stage),
        col(CampaignState.attempt),
        col(CampaignState.status),
        col(CampaignState.detail),
        col(CampaignState.window_opens),
        col(CampaignState.window_closes),
        col(CampaignState.window_extended),
        col(CampaignState.timezone),
    )
    started = list(session.execute(select_core(*columns)))
    open_gates = session.execute(select_core(*_GATE_FACTS).where(col(Gate.status) == "open"))
    gates = {gate.campaign_id: gate for gate in map(GateFacts._make, open_gates)}
    approved = _approvals_of_open_gates(session)
    deciders: Deciders = {}
    policies: dict[str, GatePolicy] = {}  # a thousand gates of one plan record a handful of policies
    windows: dict[tuple[str, str, str], WindowView] = {}  # and a programme's campaigns share windows
    registry = in_force_if_any(plans.registry, session=session)  # with the passkeys and delegations of the service
    for campaign_id, title, quarter, stage, attempt, status, detail, opens, closes, extended, zone in started:
        gate = gates.get(campaign_id)
        view = None
        if gate:
            if gate.policy not in policies:
                policies[gate.policy] = GatePolicy.model_validate_json(gate.policy)
            view = gate_view(
                gate,
                now,
                session=session,
                registry=registry,
                approved_by=approved.get((gate.campaign_id, gate.stage, gate.attempt), []),
                deciders=deciders,
                policy=policies[gate.policy],
            )
        span = (opens, extended or closes, zone)
        if span not in windows:
            windows[span] = _window(date.fromisoformat(span[0]), date.fromisoformat(span[1]), zone, now)
        rows.append(
            StatusRow(
                campaign=campaign_id,
                title=title,
                quarter=quarter,
                stage=stage,
                attempt=attempt,
                status=status,
                detail=detail,
                gate=view,
                window=windows[span],
            )
        )
    begun = {row.campaign for row in rows}
    planned = list(dict.fromkeys(e.campaign for p in plans.programmes for e in p.campaigns))  # once, if in 2 quarters
    planned += sorted(set(plans.campaigns) - set(planned))
    for campaign_id in planned:
        plan = plans.campaigns.get(campaign_id)
        if campaign_id in begun or plan is None:
            continue
        window = _window(plan.window.opens, plan.window.closes, plan.window.timezone, now)
        rows.append(
            StatusRow(
                campaign=plan.id,
                title=plan.title.en,
                quarter=plan.quarter,
                stage=None,
                attempt=None,
                status="missed" if window.state == "closed" else "planned",  # its window passed unstarted
                detail="",
                gate=None,
                window=window,
            )
        )
    return sorted(rows, key=lambda r: (r.quarter, r.campaign))


def _approvals_of_open_gates(session: Session) -> dict[tuple[str, str, int], list[str]]:
    """Per open gate, its approving principals in signing order, once each (as `approvals` reads them)."""
    query = (
        select(GateDecision)
        .join(
            Gate,
            (col(Gate.campaign_id) == col(GateDecision.campaign_id))
            & (col(Gate.stage) == col(GateDecision.stage))
            & (col(Gate.attempt) == col(GateDecision.attempt)),
        )
        .where(Gate.status == "open", GateDecision.decision == "approve")
        .order_by(col(GateDecision.campaign_id), col(GateDecision.seq))
    )
    found: dict[tuple[str, str, int], list[str]] = {}
    for decision in session.exec(query):
        principals = found.setdefault((decision.campaign_id, decision.stage, decision.attempt), [])
        if decision.principal not in principals:
            principals.append(decision.principal)
    return found


def gate_rows(
    *, pending: bool, overdue: bool, now: datetime, registry: ApproversRegistry | None, session: Session
) -> list[GateRow]:
    query = select(Gate).order_by(col(Gate.campaign_id), col(Gate.id))
    if pending or overdue:
        query = query.where(Gate.status == "open")
    zones = dict(session.exec(select(CampaignState.campaign_id, CampaignState.timezone)).all())
    rows = [
        GateRow(
            campaign=gate.campaign_id,
            status=gate.status,
            decided_at=as_utc(gate.decided_at) if gate.decided_at else None,
            timezone=zones.get(gate.campaign_id, get_settings().timezone),
            **gate_view(gate, now, session=session, registry=registry).model_dump(),
        )
        for gate in session.exec(query)
    ]
    return [row for row in rows if row.overdue] if overdue else rows


def history_entries(campaign_id: str, zone: str, *, session: Session, lang: str = "en") -> list[HistoryEntry]:
    return [
        HistoryEntry(
            seq=event.seq,
            at=as_utc(event.at),
            local_time=as_utc(event.at).astimezone(ZoneInfo(zone)).isoformat(),
            actor=event.actor,
            type=event.type,
            summary=summarize(event, lang, zone=zone),
            payload=payload_of(event).model_dump(mode="json"),
            prev_hash=event.prev_hash,
            hash=event.hash,
        )
        for event in events_of(campaign_id, session=session)
    ]


# the detail a campaign's state holds, as the projection writes it (state/projection.py)
_WAITING = re.compile(r"(.*) \(until (\d{4}-\d\d-\d\d \d\d:\d\d) [^)]*\)$")
_EXTENDED = re.compile(r"window extended to (\d{4}-\d\d-\d\d): (.*)$", re.S)


def detail_words(detail: str, zone: str, lang: str = "en") -> str:
    """What a campaign waits for or lacks, its time in `zone` with the zone named: in English as recorded, in
    Arabic in words; what a person wrote (a rejection's reason, an extension's) as written."""
    waiting = _WAITING.match(detail)
    if lang == "en" or not detail:
        if waiting:  # the time as people read it, not as the projection records it
            until = datetime.fromisoformat(waiting[2]).replace(tzinfo=ZoneInfo(zone))
            return f"{waiting[1]} (until {_moment(until, zone, lang)})"
        if detail.startswith("missing: "):  # the stage waits for what a person has still to write or submit
            return "waiting for: " + detail.removeprefix("missing: ")
        return detail
    t = words(lang)
    if detail.startswith("missing: "):
        count = len(detail.removeprefix("missing: ").split("; "))
        return t.ngettext("%(n)s input missing", "%(n)s inputs missing", count) % {
            "n": locale.number(count, lang, digits=get_settings().digits)
        }
    if detail.startswith("rework: "):
        return t.gettext("rework: %(reason)s") % {"reason": detail.removeprefix("rework: ")}
    if waiting:
        until = datetime.fromisoformat(waiting[2]).replace(tzinfo=ZoneInfo(zone))
        return t.gettext("waiting until %(until)s") % {"until": _moment(until, zone, lang)}
    if extended := _EXTENDED.match(detail):
        closes = locale.day(date.fromisoformat(extended[1]), lang, digits=get_settings().digits)
        return t.gettext("window extended to %(closes)s: %(reason)s") % {"closes": closes, "reason": extended[2]}
    return detail


def _moment(value: datetime, zone: str, lang: str) -> str:
    return locale.moment(value, zone, lang, digits=get_settings().digits)


def where_it_stands(campaign_id: str, *, now: datetime, session: Session) -> str:
    """One line on where a campaign is now and what it waits for."""
    campaign = session.get(CampaignState, campaign_id)
    if campaign is None:
        return f"{campaign_id}: not started"
    head = f"{campaign_id}: {campaign.stage} (attempt {campaign.attempt}) {campaign.status}"
    if campaign.status == "closed":
        return f"{campaign_id}: closed"
    gate = open_gate(campaign_id, session=session)
    if gate:
        view = gate_view(gate, now, session=session)
        got = ", ".join(view.approvals) or "nobody yet"
        return (
            f"{head}: the {gate.stage} gate needs {needs(view)}; approved by {got} "
            f"(musharaka review {campaign_id} {gate.stage})"
        )
    detail = detail_words(campaign.detail, campaign.timezone)
    if campaign.status == "failed":  # a stage fails only for inputs a person has still to write or submit
        return f"{campaign_id}: {campaign.stage} (attempt {campaign.attempt}) {detail}"
    return f"{head}{': ' + detail if detail else ''}"


def active_campaigns(*, session: Session) -> list[str]:
    """Campaigns that could still move: started and not closed."""
    query = select(CampaignState.campaign_id).where(CampaignState.status != "closed")
    return sorted(session.exec(query))


def runnable_campaigns(runnable: tuple[str, ...], *, session: Session) -> list[str]:
    """Campaigns a lifecycle run can move now: a decided gate, a retry, a wait to check again."""
    query = select(CampaignState.campaign_id).where(col(CampaignState.status).in_(runnable))
    return sorted(session.exec(query))


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, or empty when it is gone."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


def reminder_texts(rows: list[GateRow], now: datetime) -> dict[str, str]:
    """Per approver, a digest of the open gates they may decide, overdue ones first."""
    mine: dict[str, list[GateRow]] = {}
    for row in sorted(rows, key=lambda r: (not r.overdue, r.due_at)):
        for entry in row.may_decide:
            mine.setdefault(entry.split(" ")[0], []).append(row)
    texts = {}
    for approver, gates in mine.items():
        lines = [f"Gates awaiting {approver} as of {now:%Y-%m-%d %H:%M} UTC", ""]
        for row in gates:
            late = f"OVERDUE by {row.late_by}" if row.overdue else f"due {row.due_at:%Y-%m-%d %H:%M} UTC"
            lines.append(f"- {row.campaign}: {row.stage} (attempt {row.attempt}), {late}; needs {needs(row)}")
            lines.append(f"  musharaka review {row.campaign} {row.stage}")
        texts[approver] = "\n".join(lines) + "\n"
    return texts
