"""The communication plan in the log: the moments its messages hang on, and messages recorded as sent."""

from datetime import date, datetime
from urllib.parse import urlparse

from sqlmodel import Session, col, select

from musharaka.flows.engine import records
from musharaka.stages import communication
from musharaka.stages.plans import STAGES, CampaignPlan, Stage
from musharaka.state.events import MessageSent, StageStarted, as_utc, payload_of
from musharaka.state.log import append
from musharaka.state.tables import Event


def record_of(campaign_id: str, *, session: Session) -> communication.Record:
    """What the campaign's log holds for its communication plan: stages' first starts, gates approved, the
    window's extended last day, and the messages sent."""
    campaign = records.campaign_state(campaign_id, session=session)
    query = (
        select(Event)
        .where(Event.campaign_id == campaign_id, col(Event.type).in_((StageStarted.TYPE, MessageSent.TYPE)))
        .order_by(col(Event.seq))
    )
    started: dict[Stage, datetime] = {}
    sent: list[communication.Sent] = []
    for event in session.exec(query):
        payload = payload_of(event)
        if isinstance(payload, StageStarted) and payload.stage in STAGES:
            started.setdefault(payload.stage, as_utc(event.at))
        elif isinstance(payload, MessageSent):
            sent.append(
                communication.Sent(
                    message=payload.message, at=as_utc(event.at), by=event.actor, evidence=payload.evidence
                )
            )
    approved: dict[Stage, datetime] = {
        gate.stage: as_utc(gate.decided_at)  # type: ignore[misc]
        for gate in records.approved_gates(session, campaign_id)
        if gate.decided_at is not None
    }
    closes = date.fromisoformat(campaign.window_extended) if campaign.window_extended else None
    return communication.Record(started=started, approved=approved, closes=closes, sent=tuple(sent))


def record_sent(
    plan: CampaignPlan,
    message_id: str,
    evidence: str | None,
    *,
    actor: str,
    now: datetime,
    session: Session,
) -> list[str]:
    """Record that a message of the plan went out, signed by `actor`.

    Returns the problems of the arguments (nothing written) or an empty list once recorded; refused (nothing
    written) for a campaign not started or a message already recorded as sent.
    """
    records.campaign_state(plan.id, session=session)
    message = next((m for m in plan.communication if m.id == message_id), None)
    if message is None:
        ids = [m.id for m in plan.communication] or "none: the plan has no `communication`"
        return [f"MESSAGE: expected a message id of the plan's communication {ids}, found {message_id!r}"]
    if evidence is not None:
        link = urlparse(evidence)
        if link.scheme not in ("http", "https") or not link.netloc:
            return [f"--evidence: expected an http(s) link, found {evidence!r}"]
    done = next((s for s in record_of(plan.id, session=session).sent if s.message == message_id), None)
    if done is not None:
        raise records.Refused(
            f"message {message_id} of {plan.id} was already recorded as sent, at "
            f"{as_utc(done.at):%Y-%m-%d %H:%M} UTC by {done.by}",
            "already-sent",
        )
    append(
        plan.id,
        MessageSent(
            message=message.id,
            stage=message.stage,
            channels=list(message.channels),
            promise=message.promise,
            evidence=evidence,
        ),
        actor=actor,
        at=now,
        session=session,
    )
    return []


def schedule(plan: CampaignPlan, *, now: datetime, session: Session) -> tuple[communication.Entry, ...]:
    """The campaign's communication plan at `now`, from its log."""
    return communication.schedule(plan, record_of(plan.id, session=session), now)
