"""Appending to the event log: one event chained after the campaign's last and projected, in one step.

The payloads and the chain's rules are in `state.events`, the projections in `state.projection`; this
module joins the two, so neither imports the other's user.
"""

from datetime import datetime

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from musharaka.state.events import GENESIS, ConcurrentWrite, OutOfOrder, Payload, as_utc, canonical, event_hash, head
from musharaka.state.projection import apply
from musharaka.state.proven import PROVEN
from musharaka.state.seal import current_engine_key, seal
from musharaka.state.settings import get_settings
from musharaka.state.tables import Event


def append(campaign_id: str, payload: Payload, *, actor: str, at: datetime, session: Session) -> Event:
    """Append one event to the campaign's chain, sealed by the engine's key (and the proven person's), and
    project it; the caller commits. A payload JCS cannot carry (NaN, an infinity) is refused: NotCanonical."""
    proven = PROVEN.get()
    if proven is not None and proven.person == actor and proven.record is not None:
        # the auditor checks the person's signature against the registry in force then: the log must hold it
        proven.record(session, at)
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
