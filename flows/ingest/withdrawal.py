"""Withdrawing an ingested batch: a signed correction on the record, after which the batch's rows no longer count.

The rows stay where they are, sealed by their ingestion's digests (`audit verify` still checks them), marked
with the withdrawal; their keys are free again, so the corrected export ingests cleanly. A person with the
planner duty (`stages.approvers.WITHDRAWS`) withdraws, with their key and a reason, while the contributions are
still being collected: once the conduct gate has approved the count, the analysis has used it.
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session, col, select

from musharaka.flows.engine.gates import record_registry
from musharaka.flows.engine.records import Refused, campaign_state
from musharaka.stages.approvers import ApproversRegistry
from musharaka.stages.plans import STAGES
from musharaka.state.events import ContributionsIngested, ContributionsWithdrawn, as_utc, payload_of
from musharaka.state.log import append
from musharaka.state.proof import withdrawal_problem
from musharaka.state.registry import in_force
from musharaka.state.signing import SignedWithdrawal, sign
from musharaka.state.tables import CampaignState, Event, Gate


@dataclass(frozen=True)
class Withdrawn:
    """What a withdrawal took out of the count."""

    batch: int
    file_name: str
    rows: int
    quarantined: int
    seq: int

    def __str__(self) -> str:
        return (
            f"batch {self.batch} ({self.file_name}) withdrawn: its {self.rows} stored and {self.quarantined} "
            f"quarantined rows no longer count (event {self.seq})"
        )


def sealed_batch(campaign_id: str, batch: int, *, session: Session) -> ContributionsIngested:
    """The ingestion that made `batch` (its event's sequence number), or a refusal naming the campaign's batches."""
    event = session.exec(select(Event).where(Event.campaign_id == campaign_id, Event.seq == batch)).first()
    payload = payload_of(event) if event is not None else None
    if isinstance(payload, ContributionsIngested):
        return payload
    query = select(Event.seq).where(Event.campaign_id == campaign_id, Event.type == ContributionsIngested.TYPE)
    known = ", ".join(str(seq) for seq in session.exec(query.order_by(col(Event.seq)))) or "none yet"
    raise Refused(
        f"campaign {campaign_id} has no batch {batch}: a batch is named by the event of its ingestion "
        f"({known}; musharaka contributions {campaign_id} lists them)",
        "unknown-batch",
    )


def withdrawals(campaign_id: str, *, session: Session) -> dict[int, tuple[Event, ContributionsWithdrawn]]:
    """The campaign's withdrawn batches: batch -> the event that withdrew it."""
    query = select(Event).where(Event.campaign_id == campaign_id, Event.type == ContributionsWithdrawn.TYPE)
    found = {}
    for event in session.exec(query):
        payload = payload_of(event)
        if isinstance(payload, ContributionsWithdrawn):
            found[payload.batch] = (event, payload)
    return found


def prepare(
    campaign_id: str, batch: int, *, reason: str, person: str, key: Ed25519PrivateKey, now: datetime, session: Session
) -> SignedWithdrawal:
    """The withdrawal of `batch`, as it was sealed, signed with the person's key."""
    sealed = sealed_batch(campaign_id, batch, session=session)
    unsigned = SignedWithdrawal(
        campaign=campaign_id,
        batch=batch,
        rows_digest=sealed.rows_digest,
        reason=reason,
        person=person,
        signed_at=now,
        public_key="",
    )
    return sign(unsigned, key)


def withdraw(
    campaign_id: str, signed: SignedWithdrawal, *, registry: ApproversRegistry, now: datetime, session: Session
) -> Withdrawn:
    """Verify a signed withdrawal and record it; Refused (nothing written) says why it cannot be."""
    campaign = campaign_state(campaign_id, session=session)
    if signed.campaign != campaign_id:
        raise Refused(f"the withdrawal is signed for campaign {signed.campaign}, not {campaign_id}", "replayed")
    registry_file = registry
    registry = in_force(registry, session=session)
    ingestion = session.exec(
        select(Event).where(
            Event.campaign_id == campaign_id, Event.seq == signed.batch, Event.type == ContributionsIngested.TYPE
        )
    ).first()
    # a withdrawal cannot be signed before its batch existed: the ingestion's time bounds the signing time
    ingested_at = as_utc(ingestion.at) if ingestion is not None else None
    problem = withdrawal_problem(signed, registry, now, ingested_at)
    if problem is not None:
        code, what = problem
        raise Refused(what, code)
    if not signed.reason.strip():
        raise Refused("to withdraw a batch, give a reason (--reason) for the record", "no-reason")
    sealed = sealed_batch(campaign_id, signed.batch, session=session)
    earlier = withdrawals(campaign_id, session=session).get(signed.batch)
    if earlier is not None:
        event, payload = earlier
        at = as_utc(event.at).astimezone(ZoneInfo(campaign.timezone))
        raise Refused(
            f"batch {signed.batch} ({sealed.file_name}) was already withdrawn by {event.actor} at "
            f"{at:%Y-%m-%d %H:%M %Z} (event {event.seq}): {payload.reason}",
            "already-withdrawn",
        )
    if signed.rows_digest != sealed.rows_digest:
        raise Refused(f"the withdrawal is signed for other rows than batch {signed.batch} holds", "replayed")
    _check_correctable(campaign, signed.batch, session=session)
    registry_digest = record_registry(registry_file, now=now, session=session)
    recorded = append(
        campaign_id,
        ContributionsWithdrawn(
            batch=signed.batch,
            file_name=sealed.file_name,
            rows_withdrawn=sealed.rows_stored,
            quarantined_withdrawn=sealed.rows_quarantined,
            person=signed.person,
            reason=signed.reason.strip(),
            signed=signed.model_dump(mode="json"),
            registry_digest=registry_digest,
        ),
        actor=signed.person,
        at=now,
        session=session,
    )
    return Withdrawn(signed.batch, sealed.file_name, sealed.rows_stored, sealed.rows_quarantined, recorded.seq)


def _check_correctable(campaign: CampaignState, batch: int, *, session: Session) -> None:
    """A batch is withdrawn while contributions are collected: not once conduct's gate approved the count, nor
    while the gate reviews it (the outputs under review counted the batch)."""
    cid = campaign.campaign_id
    if campaign.status == "closed" or STAGES.index(campaign.stage) > STAGES.index("conduct"):
        query = select(Gate).where(Gate.campaign_id == cid, Gate.stage == "conduct", Gate.status == "approved")
        gate = session.exec(query).first()
        decided = gate.decided_at if gate is not None else None
        when = f" on {as_utc(decided).astimezone(ZoneInfo(campaign.timezone)):%Y-%m-%d}" if decided else ""
        raise Refused(
            f"the conduct gate of {cid} was approved{when}: the analysis used batch {batch}, which can no longer "
            "be withdrawn",
            "conduct-approved",
        )
    if campaign.stage == "conduct" and campaign.status == "awaiting-gate":
        raise Refused(
            f"the conduct gate of {cid} is open: its outputs counted batch {batch} and are under review; to correct "
            "the contributions, have the gate rejected (conduct goes back for rework) or the window extended, "
            "then withdraw",
            "under-review",
        )
