"""Deciding a gate: a verified, signed approval, rejection or extension recorded against the open gate."""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session, col, select

from musharaka.flows.engine import governance
from musharaka.flows.engine.records import Refused, campaign_state
from musharaka.flows.engine.signatures import verify_signature
from musharaka.stages.approvers import ApproversRegistry
from musharaka.stages.gates import NoAuthority, authority
from musharaka.stages.plans import CampaignPlan, GatePolicy
from musharaka.state.events import (
    REGISTRY_CHAIN,
    GateDecided,
    RegistryRecorded,
    StageStarted,
    WindowExtended,
    as_utc,
    digest,
    head,
    payload_of,
)
from musharaka.state.governance import RegistrySignature, parse_signatures
from musharaka.state.log import append
from musharaka.state.projection import approvals, gate_policy, open_gate
from musharaka.state.proof import time_problem
from musharaka.state.registry import in_force
from musharaka.state.signing import SignedDecision
from musharaka.state.tables import Event, Gate


def record_registry(registry: ApproversRegistry, *, now: datetime, session: Session) -> str:
    """Log the registry file (with the passkeys and delegations recorded in the service) when it differs from
    the version last recorded; returns its digest.

    Every decision cites this digest, so an auditor can tell which keys and roles were in force. A changed file
    takes effect only with its administrators' signatures (governance.admissible): else nothing is recorded.
    """
    signatures = governance.admissible(registry, now=now, session=session)
    body = in_force(registry, session=session).model_dump(mode="json")
    registry_digest = digest(body)
    last = head(REGISTRY_CHAIN, session=session)
    recorded = payload_of(last) if last else None
    if not isinstance(recorded, RegistryRecorded) or recorded.registry_digest != registry_digest:
        source = registry.model_dump(mode="json")
        carried = signatures if signatures is not None else _carried(recorded)
        append(
            REGISTRY_CHAIN,
            RegistryRecorded(
                registry=body,
                registry_digest=registry_digest,
                source=None if source == body else source,
                signatures=[s.model_dump(mode="json") for s in carried],
            ),
            actor="engine",
            at=now,
            session=session,
        )
    return registry_digest


def _carried(recorded: object) -> list[RegistrySignature]:
    """The same file again (with a passkey enrolled since, say): its signatures go with it, for the reader."""
    return parse_signatures(recorded.signatures) if isinstance(recorded, RegistryRecorded) else []


@dataclass(frozen=True)
class Decidable:
    """What a signed decision is about: an open gate, or the conduct stage while its window runs."""

    stage: str
    attempt: int
    policy: GatePolicy
    due: datetime
    submitter: str | None
    outputs_digest: str
    gate: Gate | None
    opened: datetime  # since when there was something to sign: the gate's opening, or the window's run's start
    opening: str  # that instant, in words for a refusal


def _decidable(campaign_id: str, signed: SignedDecision, plan: CampaignPlan, *, session: Session) -> Decidable:
    """The gate the signed decision is for, or a refusal naming how it does not fit."""
    if signed.campaign != campaign_id:
        raise Refused(
            f"the signature is for campaign {signed.campaign}, not {campaign_id} (a replayed signature)",
            "replayed",
        )
    campaign = campaign_state(campaign_id, session=session)
    gate = open_gate(campaign_id, session=session)
    if gate is None and signed.decision == "extend" and campaign.stage == "conduct" and signed.stage == "conduct":
        # the window may be extended while it runs, before conduct has outputs or a gate
        if signed.attempt != campaign.attempt or signed.outputs_digest:
            raise Refused(
                f"the extension is signed for attempt {signed.attempt} with outputs; conduct is at attempt "
                f"{campaign.attempt} and has no outputs yet (a replayed signature)",
                "replayed",
            )
        never = datetime.max.replace(tzinfo=UTC)
        policy = plan.gates.for_stage("conduct")
        started = _first_start(campaign_id, "conduct", campaign.attempt, session=session)
        opening = f"conduct (attempt {campaign.attempt}) started"
        return Decidable("conduct", campaign.attempt, policy, never, None, "", None, started, opening)
    if gate is None or gate.stage != signed.stage:
        earlier = session.exec(
            select(Gate).where(
                Gate.campaign_id == campaign_id, Gate.stage == signed.stage, Gate.attempt == signed.attempt
            )
        ).first()
        if earlier is not None and earlier.status != "open":
            raise Refused(
                f"the {signed.stage} gate (attempt {signed.attempt}) was already decided: {earlier.status}",
                "already-decided",
            )
        where = f"its open gate is {gate.stage}" if gate else "it has no open gate"
        raise Refused(f"campaign {campaign_id} has no open gate for {signed.stage}; {where}", "no-open-gate")
    if signed.attempt != gate.attempt:
        raise Refused(
            f"the signature is for attempt {signed.attempt} of the {gate.stage} gate; the open gate is "
            f"attempt {gate.attempt} (a replayed signature)",
            "replayed",
        )
    if signed.outputs_digest != gate.outputs_digest:
        raise Refused(
            f"the signature covers outputs {signed.outputs_digest}, but the {gate.stage} outputs are "
            f"now {gate.outputs_digest}: review them again (musharaka review) and sign anew",
            "stale-digest",
        )
    return Decidable(
        gate.stage,
        gate.attempt,
        gate_policy(gate),
        as_utc(gate.due_at),
        gate.submitter,
        gate.outputs_digest,
        gate,
        as_utc(gate.opened_at),
        f"the {gate.stage} gate (attempt {gate.attempt}) opened",
    )


def _first_start(campaign_id: str, stage: str, attempt: int, *, session: Session) -> datetime:
    """When the attempt's run first started (a waiting run starts again; its first start is what `audit` sees)."""
    query = (
        select(Event).where(Event.campaign_id == campaign_id, Event.type == StageStarted.TYPE).order_by(col(Event.seq))
    )
    for event in session.exec(query):
        payload = payload_of(event)
        if isinstance(payload, StageStarted) and (payload.stage, payload.attempt) == (stage, attempt):
            return as_utc(event.at)
    raise LookupError(f"{campaign_id}: {stage} attempt {attempt} never started")  # the campaign state says it did


def decide(
    campaign_id: str,
    signed: SignedDecision,
    *,
    registry: ApproversRegistry,
    plan: CampaignPlan,
    now: datetime,
    session: Session,
) -> Gate | None:
    """Verify a signed approval, rejection or extension and record it; Refused says why it cannot be."""
    campaign_state(campaign_id, session=session)
    registry_digest = record_registry(registry, now=now, session=session)
    registry = in_force(registry, session=session)  # with the passkeys enrolled in the browser
    verify_signature(signed, registry, now)
    target = _decidable(campaign_id, signed, plan, session=session)
    # judged against the engine's times only: the gate's opening and now, the recording instant
    impossible = time_problem(signed.signed_at, opened=target.opened, opening=target.opening, recorded=now)
    if impossible:
        raise Refused(f"the signature's time is impossible: {impossible}", "bad-time")
    try:
        power = authority(registry, signed.approver, target.policy, now=now, due=target.due)
    except NoAuthority as error:
        raise Refused(str(error), "role-not-allowed") from None
    if target.submitter in (signed.approver, power.principal):
        raise Refused(
            f"{target.submitter} submitted the {target.stage} stage and may not sign off its own gate "
            "(separation of duties)",
            "self-approval",
        )
    if signed.decision in ("reject", "extend") and not signed.text.strip():
        raise Refused(f"to {signed.decision}, give a reason (--reason) for the record", "no-reason")
    if signed.decision == "approve" and target.gate is not None:
        earlier = approvals(target.gate, session=session)
        # one seat per person, whether they sign as themselves or for whoever they stand in for
        if any(signed.approver in (a.principal, a.approver) for a in earlier):
            raise Refused(f"{signed.approver} has already approved this {target.stage} gate", "already-approved")
        if any(a.principal == power.principal for a in earlier):
            raise Refused(f"{power.principal} has already approved this {target.stage} gate", "already-approved")
    if _recorded_before(campaign_id, signed, session=session):
        raise Refused("this signed decision is on the record already (a replayed signature)", "replayed")
    common: dict[str, Any] = {
        "stage": target.stage,
        "attempt": target.attempt,
        "approver": signed.approver,
        "principal": power.principal,
        "capacity": power.capacity,
        "signed": signed.model_dump(mode="json"),
        "registry_digest": registry_digest,
    }
    payload: GateDecided | WindowExtended
    if signed.decision == "extend":
        payload = _extension(campaign_id, target, signed, common, session=session)
    else:
        payload = GateDecided(decision=signed.decision, text=signed.text.strip(), roles=list(power.roles), **common)
    append(campaign_id, payload, actor=signed.approver, at=now, session=session)
    return target.gate


def _recorded_before(campaign_id: str, signed: SignedDecision, *, session: Session) -> bool:
    """Whether exactly this signature was recorded as a decision of the campaign before."""
    query = select(Event.payload).where(
        Event.campaign_id == campaign_id, col(Event.type).in_((GateDecided.TYPE, WindowExtended.TYPE))
    )
    mine = signed.model_dump(mode="json")
    return any(json.loads(payload)["signed"] == mine for payload in session.exec(query))


def _extension(
    campaign_id: str, target: Decidable, signed: SignedDecision, common: dict[str, Any], *, session: Session
) -> WindowExtended:
    """guide 8.1.3: conduct may extend the participation window to a later closing date."""
    campaign = campaign_state(campaign_id, session=session)
    if target.stage != "conduct":
        raise Refused(f"only conduct can extend the window, not {target.stage}", "bad-extension")
    current = date.fromisoformat(campaign.window_extended or campaign.window_closes)
    if signed.closes is None or signed.closes <= current:
        raise Refused(
            f"expected a new closing date after the current {current}, found {signed.closes}", "bad-extension"
        )
    return WindowExtended(closes=signed.closes, reason=signed.text.strip(), **common)
