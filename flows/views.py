"""What the CLI shows: status rows, gates and history, as typed rows read from the projections."""

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlmodel import Session, col, select

from flows.planfiles import PlanSet
from stages.plans import Window
from state.events import as_utc, events_of, payload_of
from state.projection import approvals, open_gate
from state.tables import CampaignState, Event, Gate


class OpenGate(BaseModel):
    stage: str
    attempt: int
    roles: list[str]
    quorum: int
    approvals: list[str]
    submitter: str
    opened_at: datetime
    due_at: datetime
    overdue: bool


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
    window = Window(opens=opens, closes=closes, timezone=zone)
    state = "upcoming" if now < window.opens_at() else "open" if now < window.closes_at() else "closed"
    return WindowView(opens=opens, closes=closes, timezone=zone, state=state)


def _gate_view(gate: Gate, now: datetime, *, session: Session) -> OpenGate:
    return OpenGate(
        stage=gate.stage,
        attempt=gate.attempt,
        roles=gate.roles.split(","),
        quorum=gate.quorum,
        approvals=[a.approver for a in approvals(gate, session=session)],
        submitter=gate.submitter,
        opened_at=as_utc(gate.opened_at),
        due_at=as_utc(gate.due_at),
        overdue=gate.status == "open" and now >= as_utc(gate.due_at),
    )


def status_rows(plans: PlanSet, *, now: datetime, session: Session) -> list[StatusRow]:
    """Started campaigns from the projections, then programme campaigns not yet started."""
    rows = []
    started = {c.campaign_id: c for c in session.exec(select(CampaignState))}
    for campaign in started.values():
        gate = open_gate(campaign.campaign_id, session=session)
        rows.append(
            StatusRow(
                campaign=campaign.campaign_id,
                title=campaign.title_en,
                quarter=campaign.quarter,
                stage=campaign.stage,
                attempt=campaign.attempt,
                status=campaign.status,
                detail=campaign.detail,
                gate=_gate_view(gate, now, session=session) if gate else None,
                window=_window(
                    date.fromisoformat(campaign.window_opens),
                    date.fromisoformat(campaign.window_closes),
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


def status_table(rows: list[StatusRow]) -> str:
    lines = [f"{'campaign':<38} {'quarter':<8} {'stage':<9} {'att':>3}  {'status':<14} {'window':<31} next"]
    for row in rows:
        window = f"{row.window.opens}..{row.window.closes} {row.window.state}"
        nxt = row.detail
        if row.gate:
            nxt = (
                f"gate {row.gate.stage}: {len(row.gate.approvals)}/{row.gate.quorum} approvals, "
                f"due {row.gate.due_at:%Y-%m-%d}{' OVERDUE' if row.gate.overdue else ''}"
            )
        lines.append(
            f"{row.campaign:<38} {row.quarter:<8} {row.stage or '-':<9} {row.attempt or '-':>3}  "
            f"{row.status:<14} {window:<31} {nxt}"
        )
    return "\n".join(lines)


def gate_rows(*, pending: bool, now: datetime, session: Session) -> list[GateRow]:
    query = select(Gate).order_by(col(Gate.campaign_id), col(Gate.id))
    if pending:
        query = query.where(Gate.status == "open")
    return [
        GateRow(
            campaign=gate.campaign_id,
            status=gate.status,
            decided_at=as_utc(gate.decided_at) if gate.decided_at else None,
            **_gate_view(gate, now, session=session).model_dump(),
        )
        for gate in session.exec(query)
    ]


def gates_table(rows: list[GateRow]) -> str:
    lines = [f"{'campaign':<38} {'stage':<9} {'att':>3} {'status':<9} {'approvals':<22} {'roles':<26} due"]
    for row in rows:
        approved = f"{len(row.approvals)}/{row.quorum} {','.join(row.approvals)}"
        lines.append(
            f"{row.campaign:<38} {row.stage:<9} {row.attempt:>3} {row.status:<9} {approved:<22} "
            f"{','.join(row.roles):<26} {row.due_at:%Y-%m-%d %H:%M}Z{' OVERDUE' if row.overdue else ''}"
        )
    return "\n".join(lines)


def summarize(event: Event) -> str:
    """One line a person can read for each kind of event."""
    p = payload_of(event).model_dump(mode="json")
    match event.type:
        case "campaign.started":
            return f"campaign started from plan {p['plan_digest'][:12]}"
        case "plan.recorded":
            return f"plan file changed; now {p['plan_digest'][:12]}"
        case "submission.recorded":
            return f"{p['stage']}: submitted {p['file_name']} ({p['digest'][:12]})"
        case "contributions.ingested":
            return (
                f"contributions from {p['file_name']}: {p['rows_read']} read, {p['rows_stored']} stored, "
                f"{p['duplicates']} duplicates"
            )
        case "stage.started":
            return f"{p['stage']} attempt {p['attempt']} started (submitter {p['submitter']})"
        case "stage.waiting":
            return f"{p['stage']} waits: {p['reason']} until {p['until']}"
        case "stage.failed":
            return f"{p['stage']} cannot finish; missing: " + "; ".join(p["missing"])
        case "stage.completed":
            return f"{p['stage']} attempt {p['attempt']} completed; outputs {p['outputs_digest'][:12]}"
        case "gate.opened":
            return f"{p['stage']} gate opened: {p['quorum']} of {', '.join(p['roles'])}, due {p['due_at']}"
        case "gate.decided":
            verb = "approved" if p["decision"] == "approve" else "rejected"
            return f"{p['stage']} attempt {p['attempt']} {verb} by {p['approver']}" + (
                f": {p['text']}" if p["text"] else ""
            )
    return event.type


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


def where_it_stands(campaign_id: str, *, session: Session) -> str:
    """One line on where a campaign is now and what it waits for."""
    campaign = session.get(CampaignState, campaign_id)
    if campaign is None:
        return f"{campaign_id}: not started"
    head = f"{campaign_id}: {campaign.stage} (attempt {campaign.attempt}) {campaign.status}"
    if campaign.status == "closed":
        return f"{campaign_id}: closed"
    gate = open_gate(campaign_id, session=session)
    if gate:
        got = len(approvals(gate, session=session))
        return (
            f"{head}: waiting for {gate.quorum - got} more approval(s) from {gate.roles.replace(',', ' or ')}"
            f" (musharaka approve {campaign_id} {gate.stage} --as APPROVER)"
        )
    if campaign.status == "failed":
        return f"{head}: {campaign.detail}"
    return f"{head}{': ' + campaign.detail if campaign.detail else ''}"


def active_campaigns(*, session: Session) -> list[str]:
    """Campaigns that could still move: started and not closed."""
    query = select(CampaignState.campaign_id).where(CampaignState.status != "closed")
    return sorted(session.exec(query))
