"""Gate decisions as transactions: sign, verify, record, and record refusals too."""

from datetime import date, datetime
from pathlib import Path
from typing import Literal

from sqlmodel import Session

from musharaka.flows.engine import gates, governance, records
from musharaka.flows.planfiles.loading import PlanSet
from musharaka.state.db import read_scope, transaction
from musharaka.state.events import GateRefused
from musharaka.state.log import append
from musharaka.state.projection import open_gate
from musharaka.state.signing import SignedDecision, load_private, sign
from musharaka.state.tables import CampaignState, Gate


def prepare_signature(
    campaign_id: str,
    stage: str,
    *,
    decision: Literal["approve", "reject", "extend"],
    text: str,
    approver: str,
    key_path: Path,
    passphrase: bytes | None,
    now: datetime,
    attempt: int | None = None,
    outputs_digest: str | None = None,
    closes: date | None = None,
) -> SignedDecision:
    """Sign a decision on the gate as it stands (or on the attempt and digest the approver reviewed)."""
    key = load_private(key_path, passphrase)
    if attempt is None or outputs_digest is None:
        with read_scope() as session:
            current_attempt, current_digest = _current(campaign_id, stage, decision, session=session)
        attempt = current_attempt if attempt is None else attempt
        outputs_digest = current_digest if outputs_digest is None else outputs_digest
    unsigned = SignedDecision(
        campaign=campaign_id,
        stage=stage,
        attempt=attempt,
        decision=decision,
        text=text,
        closes=closes,
        outputs_digest=outputs_digest,
        signed_at=now,
        approver=approver,
        public_key="",
    )
    return sign(unsigned, key)


def gate_to_decide(campaign_id: str, stage: str, *, session: Session) -> Gate:
    """The campaign's open gate for `stage`, or a refusal saying where the campaign is instead."""
    campaign = records.campaign_state(campaign_id, session=session)
    gate = open_gate(campaign_id, session=session)
    if gate is None or gate.stage != stage:
        where = f"its open gate is {gate.stage}" if gate else f"it is at {campaign.stage} ({campaign.status})"
        raise records.Refused(f"campaign {campaign_id} has no open gate for {stage}; {where}")
    return gate


def _current(campaign_id: str, stage: str, decision: str, *, session: Session) -> tuple[int, str]:
    """The attempt and outputs digest a decision made now is about."""
    campaign = records.campaign_state(campaign_id, session=session)
    if (
        decision == "extend"
        and campaign.stage == stage == "conduct"
        and open_gate(campaign_id, session=session) is None
    ):
        return campaign.attempt, ""  # the window is still running: nothing to review yet
    gate = gate_to_decide(campaign_id, stage, session=session)
    return gate.attempt, gate.outputs_digest


def submit(campaign_id: str, signed: SignedDecision, *, plans: PlanSet, now: datetime) -> Gate | None:
    """Record a signed decision; a refusal is written to the campaign's log, then raised."""
    if plans.registry is None:
        raise records.Refused("no approvers registry (plans/approvers.yaml) to verify the signature against")
    registry = plans.registry
    plan = records.plan_of(plans, campaign_id)
    try:
        return transaction(
            lambda session: gates.decide(campaign_id, signed, registry=registry, plan=plan, now=now, session=session)
        )
    except governance.UnsignedRegistry:
        raise  # the decision was never judged: the registry to judge it by may not take effect
    except records.Refused as refusal:
        _record_refusal(campaign_id, signed, refusal, now=now)
        raise


def _record_refusal(campaign_id: str, signed: SignedDecision, refusal: records.Refused, *, now: datetime) -> None:
    def write(session: Session) -> None:
        if session.get(CampaignState, campaign_id) is None:
            return  # nothing to attach the refusal to: the campaign was never started
        payload = GateRefused(
            stage=signed.stage,
            attempt=signed.attempt,
            approver=signed.approver,
            decision=signed.decision,
            code=refusal.code,
            message=str(refusal),
            signed=signed.model_dump(mode="json"),
        )
        # the engine records it: the named approver is only what the refused file claims
        append(campaign_id, payload, actor="engine", at=now, session=session)

    transaction(write)
