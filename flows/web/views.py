"""What the inbox and a gate page show, read from the projections and the log in a few queries."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from musharaka.flows.engine.records import campaign_state
from musharaka.stages.approvers import ApproversRegistry
from musharaka.stages.gates import Authority, NoAuthority, authority
from musharaka.stages.plans import GatePolicy
from musharaka.state.events import Document, GateDecided, StageCompleted, WindowExtended, as_utc, payload_of
from musharaka.state.projection import gate_policy
from musharaka.state.tables import CampaignState, Event, Gate, GateDecision


@dataclass(frozen=True)
class InboxRow:
    campaign: CampaignState
    gate: Gate
    power: Authority
    due: datetime
    overdue: bool
    approvals: int
    seats: int
    returned: bool  # the stage is back after a rejection


def seats(policy: GatePolicy) -> int:
    return (policy.quorum if policy.roles else 0) + len(policy.all_of)


def inbox(person: str, registry: ApproversRegistry, *, now: datetime, session: Session) -> list[InboxRow]:
    """The gates `person` may decide now (by role, delegation or escalation), overdue first, then by due time.

    Gates they submitted, and gates their principal has approved already, are not theirs to decide.
    """
    query = select(Gate, CampaignState).where(Gate.status == "open", Gate.campaign_id == CampaignState.campaign_id)
    candidates = []
    for gate, campaign in session.exec(query):
        due = as_utc(gate.due_at)
        try:
            power = authority(registry, person, gate_policy(gate), now=now, due=due)
        except NoAuthority:
            continue
        if gate.submitter in (person, power.principal):
            continue
        candidates.append((gate, campaign, power, due))
    if not candidates:
        return []
    approved: dict[tuple[str, str, int], set[str]] = {}
    decided = select(GateDecision).where(
        GateDecision.decision == "approve", col(GateDecision.campaign_id).in_([g.campaign_id for g, *_ in candidates])
    )
    approvers: dict[tuple[str, str, int], set[str]] = {}
    for decision in session.exec(decided):
        key = (decision.campaign_id, decision.stage, decision.attempt)
        approved.setdefault(key, set()).add(decision.principal)
        approvers.setdefault(key, set()).add(decision.approver)
    rows = []
    for gate, campaign, power, due in candidates:
        key = (gate.campaign_id, gate.stage, gate.attempt)
        principals = approved.get(key, set())
        if power.principal in principals or person in principals | approvers.get(key, set()):
            continue  # one seat each: as themselves or for whoever they stand in for
        rows.append(
            InboxRow(
                campaign,
                gate,
                power,
                due,
                overdue=due <= now,
                approvals=len(principals),
                seats=seats(gate_policy(gate)),
                returned=gate.attempt > 1,
            )
        )
    return sorted(rows, key=lambda r: (not r.overdue, r.due, r.campaign.campaign_id))


@dataclass(frozen=True)
class Decided:
    at: datetime
    approver: str
    decision: str  # approve, reject, extend
    text: str
    attempt: int
    capacity: str


@dataclass(frozen=True)
class GatePage:
    campaign: CampaignState
    gate: Gate
    documents: list[Document]
    changes: list[tuple[str, str, str]] | None  # (field, before, after) since the rejected attempt
    decisions: list[Decided]
    approvals: int
    seats: int


DECISION_TYPES = ("stage.completed", "gate.decided", "window.extended")


def gate_page(campaign_id: str, stage: str, *, session: Session) -> GatePage | None:
    """The stage's open gate with its documents, the changes since a rejected attempt and earlier decisions."""
    campaign = campaign_state(campaign_id, session=session)
    gate = session.exec(
        select(Gate).where(Gate.campaign_id == campaign_id, Gate.stage == stage).order_by(col(Gate.attempt).desc())
    ).first()
    if gate is None:
        return None
    events = session.exec(
        select(Event)
        .where(
            Event.campaign_id == campaign_id,
            col(Event.type).in_(("stage.completed", "gate.decided", "window.extended")),
        )
        .order_by(col(Event.seq))
    )
    outputs: dict[int, StageCompleted] = {}
    decisions = []
    for event in events:
        payload = payload_of(event)
        if isinstance(payload, StageCompleted) and payload.stage == stage:
            outputs[payload.attempt] = payload
        elif isinstance(payload, GateDecided) and payload.stage == stage:
            decisions.append(
                Decided(
                    as_utc(event.at),
                    payload.approver,
                    payload.decision,
                    payload.text,
                    payload.attempt,
                    payload.capacity,
                )
            )
        elif isinstance(payload, WindowExtended) and payload.stage == stage:
            decisions.append(
                Decided(as_utc(event.at), payload.approver, "extend", payload.reason, payload.attempt, payload.capacity)
            )
    current = outputs.get(gate.attempt)
    before = outputs.get(gate.attempt - 1)
    changes = diff(before.outputs, current.outputs) if before and current else None
    approvals = {d.approver for d in decisions if d.attempt == gate.attempt and d.decision == "approve"}
    return GatePage(
        campaign,
        gate,
        current.documents if current else [],
        changes,
        decisions,
        len(approvals),
        seats(gate_policy(gate)),
    )


def flatten(value: Any, path: str = "") -> dict[str, str]:
    """Every leaf of the outputs by its path (`budget.items[2].amount`), as text."""
    if isinstance(value, dict):
        leaves: dict[str, str] = {}
        for key in value:
            leaves |= flatten(value[key], f"{path}.{key}" if path else str(key))
        return leaves
    if isinstance(value, list):
        leaves = {}
        for i, item in enumerate(value):
            leaves |= flatten(item, f"{path}[{i}]")
        return leaves or {path: "[]"}
    return {path: "" if value is None else str(value)}


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, str, str]]:
    """What a reworked attempt changed: each field whose value differs, was added or removed."""
    old, new = flatten(before), flatten(after)
    return [
        (path, old.get(path, ""), new.get(path, ""))
        for path in sorted(old.keys() | new.keys())
        if old.get(path) != new.get(path)
    ]
