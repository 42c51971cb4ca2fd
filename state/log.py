"""Appending to the event log: one event chained after the campaign's last and projected, in one step.

The payloads and the chain's rules are in `state.events`, the projections in `state.projection`; this
module joins the two, so neither imports the other's user.
"""

from datetime import datetime

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from musharaka.stages.approvers import ApproversRegistry
from musharaka.state.events import (
    GENESIS,
    REGISTRY_CHAIN,
    ConcurrentWrite,
    OutOfOrder,
    Payload,
    RegistryRecorded,
    as_utc,
    canonical,
    digest,
    event_hash,
    head,
    payload_of,
)
from musharaka.state.projection import apply
from musharaka.state.proven import PROVEN
from musharaka.state.registry import in_force
from musharaka.state.seal import current_engine_key, seal
from musharaka.state.settings import get_settings
from musharaka.state.tables import Event


def append(campaign_id: str, payload: Payload, *, actor: str, at: datetime, session: Session) -> Event:
    """Append one event to the campaign's chain, sealed by the engine's key (and the proven person's), and
    project it; the caller commits. A payload JCS cannot carry (NaN, an infinity) is refused: NotCanonical."""
    proven = PROVEN.get()
    if proven is not None and proven.person == actor and proven.registry is not None:
        # the auditor checks the person's signature against the registry in force then: the log must hold it
        record_registry(in_force(proven.registry, session=session), now=at, session=session)
    last = head(campaign_id, session=session)
    seq = last.seq + 1 if last else 1
    prev = last.hash if last else GENESIS
    body = canonical(payload.model_dump(mode="json"))
    at = as_utc(at)
    if last is not None and at < as_utc(last.at):
        raise OutOfOrder(
            f"{campaign_id}: the log already holds an event at {as_utc(last.at).isoformat()}; a new one cannot be "
            f"dated earlier ({at.isoformat()}): check --now"
        )
    event = Event(
        campaign_id=campaign_id,
        seq=seq,
        at=at,
        actor=actor,
        type=payload.TYPE,
        payload=body,
        prev_hash=prev,
        hash=event_hash(campaign_id, seq, at, actor, payload.TYPE, body, prev),
    )
    seal(event, current_engine_key(get_settings().engine_key_file), proven)
    session.add(event)
    try:
        session.flush()
    except (IntegrityError, OperationalError) as error:
        if isinstance(error, OperationalError) and "locked" not in str(error):
            raise
        raise ConcurrentWrite(
            f"campaign {campaign_id}: another process wrote event {seq} first; run the command again"
        ) from error
    apply(event, payload, session=session)
    return event


def record_registry(registry: ApproversRegistry, *, now: datetime, session: Session) -> str:
    """Log the registry when it differs from the version last recorded; returns its digest.

    Every decision cites this digest, so an auditor can tell which keys and roles were in force.
    """
    body = registry.model_dump(mode="json")
    registry_digest = digest(body)
    last = head(REGISTRY_CHAIN, session=session)
    recorded = payload_of(last) if last else None
    if not isinstance(recorded, RegistryRecorded) or recorded.registry_digest != registry_digest:
        append(
            REGISTRY_CHAIN,
            RegistryRecorded(registry=body, registry_digest=registry_digest),
            actor="engine",
            at=now,
            session=session,
        )
    return registry_digest
