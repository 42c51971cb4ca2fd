"""What the CLI shows: status rows, gates and history, as typed rows read from the projections."""

import hashlib
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlmodel import Session, col, select

from musharaka.flows.planfiles.loading import PlanSet
from musharaka.flows.views.summaries import summarize
from musharaka.stages.approvers import ApproversRegistry
from musharaka.stages.gates import NoAuthority, authority
from musharaka.stages.plans import GatePolicy, Window
from musharaka.state.events import as_utc, events_of, payload_of
from musharaka.state.projection import approvals, gate_policy, open_gate
from musharaka.state.registry import in_force_if_any
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


# who may decide, by (the gate's policy as recorded, submitter, due date, approvals so far)
Deciders = dict[tuple[str, str, datetime, tuple[str, ...]], list[str]]


def gate_view(
    gate: Gate,
    now: datetime,
    *,
    session: Session,
    registry: ApproversRegistry | None = None,
    approved_by: list[str] | None = None,
    deciders: Deciders | None = None,
) -> OpenGate:
    """The gate as a reader sees it; `approved_by` when the caller has read the approvals already.

    `deciders` keeps who may decide across the gates of one listing: a thousand campaigns of one plan
    share a handful of policies, and walking the registry for each gate was most of `status`.
    """
    policy = gate_policy(gate)
    due = as_utc(gate.due_at)
    overdue = gate.status == "open" and now >= due
    done = approved_by if approved_by is not None else [a.principal for a in approvals(gate, session=session)]
    may_decide: list[str] = []
    if registry and gate.status == "open":
        known = deciders if deciders is not None else {}
        key = (gate.policy, gate.submitter, due, tuple(done))
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
    registry: ApproversRegistry, policy: GatePolicy, gate: Gate, now: datetime, done: list[str]
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


def needs(gate: OpenGate) -> str:
    """The policy in words: '2 of dg-planning|director + 1 legal'."""
    parts = [f"{gate.quorum} of {'|'.join(gate.roles)}"] if gate.roles else []
    parts += [f"1 {role}" for role in gate.all_of]
    return " + ".join(parts)


def status_rows(plans: PlanSet, *, now: datetime, session: Session) -> list[StatusRow]:
    """Started campaigns from the projections, then programme campaigns not yet started."""
    rows = []
    started = {c.campaign_id: c for c in session.exec(select(CampaignState))}
    # Three queries whatever the number of campaigns: the states, the open gates, their approvals.
    gates = {g.campaign_id: g for g in session.exec(select(Gate).where(Gate.status == "open"))}
    approved = _approvals_of_open_gates(session)
    deciders: Deciders = {}
    registry = in_force_if_any(plans.registry, session=session)  # with the passkeys and delegations of the service
    for campaign in started.values():
        gate = gates.get(campaign.campaign_id)
        done = approved.get((gate.campaign_id, gate.stage, gate.attempt), []) if gate else []
        rows.append(
            StatusRow(
                campaign=campaign.campaign_id,
                title=campaign.title_en,
                quarter=campaign.quarter,
                stage=campaign.stage,
                attempt=campaign.attempt,
                status=campaign.status,
                detail=campaign.detail,
                gate=gate_view(
                    gate,
                    now,
                    session=session,
                    registry=registry,
                    approved_by=done,
                    deciders=deciders,
                )
                if gate
                else None,
                window=_window(
                    date.fromisoformat(campaign.window_opens),
                    date.fromisoformat(campaign.window_extended or campaign.window_closes),
                    campaign.timezone,
                    now,
                ),
            )
        )
    planned = [e.campaign for p in plans.programmes for e in p.campaigns]
    planned += sorted(set(plans.campaigns) - set(planned))
    for campaign_id in planned:
        plan = plans.campaigns.get(campaign_id)
        if campaign_id in started or plan is None:
            continue
        rows.append(
            StatusRow(
                campaign=plan.id,
                title=plan.title.en,
                quarter=plan.quarter,
                stage=None,
                attempt=None,
                status="planned",
                detail="",
                gate=None,
                window=_window(plan.window.opens, plan.window.closes, plan.window.timezone, now),
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


def status_table(rows: list[StatusRow]) -> str:
    lines = [f"{'campaign':<38} {'quarter':<8} {'stage':<9} {'att':>3}  {'status':<14} {'window':<31} next"]
    for row in rows:
        window = f"{row.window.opens}..{row.window.closes} {row.window.state}"
        nxt = row.detail
        if row.gate:
            nxt = (
                f"gate {row.gate.stage}: approved by {len(row.gate.approvals)}, needs {needs(row.gate)}, "
                f"due {row.gate.due_at:%Y-%m-%d}{' OVERDUE ' + row.gate.late_by if row.gate.overdue else ''}"
            )
        lines.append(
            f"{row.campaign:<38} {row.quarter:<8} {row.stage or '-':<9} {row.attempt or '-':>3}  "
            f"{row.status:<14} {window:<31} {nxt}"
        )
    return "\n".join(lines)


def gate_rows(
    *, pending: bool, overdue: bool, now: datetime, registry: ApproversRegistry | None, session: Session
) -> list[GateRow]:
    query = select(Gate).order_by(col(Gate.campaign_id), col(Gate.id))
    if pending or overdue:
        query = query.where(Gate.status == "open")
    rows = [
        GateRow(
            campaign=gate.campaign_id,
            status=gate.status,
            decided_at=as_utc(gate.decided_at) if gate.decided_at else None,
            **gate_view(gate, now, session=session, registry=registry).model_dump(),
        )
        for gate in session.exec(query)
    ]
    return [row for row in rows if row.overdue] if overdue else rows


def gates_table(rows: list[GateRow]) -> str:
    lines = [f"{'campaign':<38} {'stage':<9} {'att':>3} {'status':<9} {'needs':<28} {'approved by':<24} due"]
    for row in rows:
        late = f" OVERDUE by {row.late_by}" if row.overdue else ""
        who = f"  may decide: {', '.join(row.may_decide)}" if row.may_decide else ""
        lines.append(
            f"{row.campaign:<38} {row.stage:<9} {row.attempt:>3} {row.status:<9} {needs(row):<28} "
            f"{','.join(row.approvals) or '-':<24} {row.due_at:%Y-%m-%d %H:%M}Z{late}{who}"
        )
    return "\n".join(lines)


def history_entries(campaign_id: str, zone: str, *, session: Session) -> list[HistoryEntry]:
    return [
        HistoryEntry(
            seq=event.seq,
            at=as_utc(event.at),
            local_time=as_utc(event.at).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %z"),
            actor=event.actor,
            type=event.type,
            summary=summarize(event),
            payload=payload_of(event).model_dump(mode="json"),
            prev_hash=event.prev_hash,
            hash=event.hash,
        )
        for event in events_of(campaign_id, session=session)
    ]


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
    if campaign.status == "failed":
        return f"{head}: {campaign.detail}"
    return f"{head}{': ' + campaign.detail if campaign.detail else ''}"


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
