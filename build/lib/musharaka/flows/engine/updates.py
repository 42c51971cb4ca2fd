"""Following an approved decision through: implementation updates recorded in the campaign's log."""

from datetime import datetime

from sqlmodel import Session

from musharaka.flows.engine import records
from musharaka.flows.engine.records import approved_gates, decision_updates
from musharaka.stages import followup
from musharaka.state.events import DecisionUpdated, as_utc
from musharaka.state.log import append


def record_update(
    campaign_id: str, update: followup.Update, *, actor: str, now: datetime, session: Session
) -> list[str]:
    """Record an implementation update of the campaign's approved decision.

    Refused (nothing written) before the decision is approved or after it was implemented or dropped;
    returns the update's problems (bad arguments, also nothing written) otherwise empty after recording.
    """
    records.campaign_state(campaign_id, session=session)
    approved = [g for g in approved_gates(session, campaign_id) if g.stage == "analyse"]
    if not approved:
        raise records.Refused(
            f"campaign {campaign_id} has no approved decision yet: follow-up starts once its analyse gate is approved",
            "no-decision",
        )
    rows = decision_updates(session, campaign_id).get(campaign_id, [])
    previous = followup.Previous(rows[-1].status, rows[-1].percent) if rows else None
    if previous is not None and previous.status in followup.FINAL:
        raise records.Refused(
            f"the decision of {campaign_id} is already {previous.status} ({as_utc(rows[-1].at).date()}): "
            "no update can follow",
            "decision-final",
        )
    problems = followup.problems(update, previous)
    if problems:
        return problems
    append(
        campaign_id,
        DecisionUpdated(
            status=update.status,
            percent=followup.percent_of(update),
            note=update.note.strip(),
            evidence=update.evidence,
        ),
        actor=actor,
        at=now,
        session=session,
    )
    return []
