"""Replay: a campaign as it stood at any instant, rebuilt from its events alone."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, select

from musharaka.stages.approvers import ApproversRegistry
from musharaka.stages.plans import Window
from musharaka.state.events import (
    REGISTRY_CHAIN,
    ContributionsIngested,
    ContributionsWithdrawn,
    RegistryRecorded,
    as_utc,
    payload_of,
)
from musharaka.state.projection import MemoryStore, replay
from musharaka.state.tables import CampaignState, DecisionUpdate, Event, Gate


class DecisionView(BaseModel):
    approver: str
    principal: str
    capacity: str
    decision: str
    why: str
    at: datetime


class GateView(BaseModel):
    stage: str
    attempt: int
    status: str
    opened_at: datetime
    due_at: datetime
    decided_at: datetime | None
    decisions: list[DecisionView]


class ApproverView(BaseModel):
    id: str
    roles: list[str]
    keys_in_force: list[str]


class CampaignAt(BaseModel):
    """What was true of a campaign at one instant."""

    campaign: str
    at: datetime
    events: int
    stage: str
    attempt: int
    status: str
    detail: str
    window_opens: str
    window_closes: str
    window_extended_to: str | None
    window_state: str  # upcoming, open or closed at that instant
    contributions: int
    gates: list[GateView]
    decision_updates: list[dict[str, Any]]  # the decision's follow-up up to then
    registry_digest: str | None
    approvers: list[ApproverView]
    delegations: list[dict[str, Any]]


def campaign_at(campaign_id: str, at: datetime, *, session: Session) -> CampaignAt | None:
    """Replay the campaign's events up to and including `at` into a scratch database; None if not yet started."""
    events = list(
        session.exec(
            select(Event)
            .where(Event.campaign_id.in_([campaign_id, REGISTRY_CHAIN]))  # type: ignore[attr-defined]
            .order_by(col(Event.campaign_id), col(Event.seq))
        )
    )
    # the log is in time order within each chain (append refuses backdating): replay a prefix of it
    upto = [e for e in events if as_utc(e.at) <= at]
    mine = [e for e in upto if e.campaign_id == campaign_id]
    if not mine:
        return None
    store = replay(mine)
    state = store.campaigns[campaign_id]
    contributions = 0  # the rows that counted then: those of every batch ingested, less those withdrawn
    for event in mine:
        if event.type in (ContributionsIngested.TYPE, ContributionsWithdrawn.TYPE):
            payload = payload_of(event)
            if isinstance(payload, ContributionsIngested):
                contributions += payload.rows_stored
            elif isinstance(payload, ContributionsWithdrawn):
                contributions -= payload.rows_withdrawn
    gates = [_gate_view(row, store) for row in store.added if isinstance(row, Gate)]
    registries = [
        p for e in upto if e.campaign_id == REGISTRY_CHAIN and isinstance(p := payload_of(e), RegistryRecorded)
    ]
    registry = registries[-1] if registries else None
    approvers, delegations = (
        _in_force(ApproversRegistry.model_validate(registry.registry), at) if registry else ([], [])
    )
    return CampaignAt(
        campaign=campaign_id,
        at=at,
        events=len(mine),
        stage=state.stage,
        attempt=state.attempt,
        status=state.status,
        detail=state.detail,
        window_opens=state.window_opens,
        window_closes=state.window_closes,
        window_extended_to=state.window_extended or None,
        window_state=_window_state(state, at),
        contributions=contributions,
        gates=gates,
        decision_updates=[
            {"at": row.at, "status": row.status, "percent": row.percent, "note": row.note, "evidence": row.evidence}
            for row in store.added
            if isinstance(row, DecisionUpdate)
        ],
        registry_digest=registry.registry_digest if registry else None,
        approvers=approvers,
        delegations=delegations,
    )


def _window_state(state: CampaignState, at: datetime) -> str:
    window = Window(
        opens=date.fromisoformat(state.window_opens),
        closes=date.fromisoformat(state.window_extended or state.window_closes),
        timezone=state.timezone,
    )
    return window.state_at(at)


def _gate_view(gate: Gate, store: MemoryStore) -> GateView:
    decisions = store.decisions.get((gate.campaign_id, gate.stage, gate.attempt), [])
    return GateView(
        stage=gate.stage,
        attempt=gate.attempt,
        status=gate.status,
        opened_at=as_utc(gate.opened_at),
        due_at=as_utc(gate.due_at),
        decided_at=as_utc(gate.decided_at) if gate.decided_at else None,
        decisions=[
            DecisionView(
                approver=d.approver,
                principal=d.principal,
                capacity=d.capacity,
                decision=d.decision,
                why=d.text,
                at=as_utc(d.at),
            )
            for d in decisions
        ],
    )


def _in_force(registry: ApproversRegistry, at: datetime) -> tuple[list[ApproverView], list[dict[str, Any]]]:
    approvers = [
        ApproverView(
            id=a.id, roles=list(a.roles), keys_in_force=[k.id for k in (*a.keys, *a.passkeys) if k.in_force(at)]
        )
        for a in registry.approvers
    ]
    delegations = [d.model_dump(mode="json") for d in registry.delegations if d.in_force(at)]
    return approvers, delegations
