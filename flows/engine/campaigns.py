"""Starting a campaign, and recording its plan again when it was edited."""

from datetime import datetime
from typing import Any

from sqlmodel import Session

from musharaka.flows.engine.gates import record_registry
from musharaka.flows.engine.lessons import lessons_by_id
from musharaka.flows.engine.records import Refused
from musharaka.stages.approvers import ApproversRegistry
from musharaka.stages.plan import unknown_lessons
from musharaka.stages.plans import STAGES, CampaignPlan
from musharaka.state.events import CampaignStarted, PlanRecorded, digest
from musharaka.state.log import append
from musharaka.state.tables import CampaignState

# Sections added to plans since campaigns were first recorded: a plan that leaves one out (None, or an empty
# list) is recorded as before it existed, so the digest of a plan recorded then still matches and it is not
# recorded again for nothing
LATER_SECTIONS = ("vocabulary", "open_data", "communication", "risks", "risk_signals")


def plan_json(plan: CampaignPlan) -> dict[str, Any]:
    absent = {name for name in LATER_SECTIONS if getattr(plan, name) in (None, ())}
    dumped: dict[str, Any] = plan.model_dump(mode="json", exclude=absent or None)
    return dumped


def start(
    plan: CampaignPlan,
    *,
    actor: str,
    registry: ApproversRegistry | None = None,
    now: datetime,
    session: Session,
) -> None:
    """Record the campaign's start with the exact plan it starts from."""
    if session.get(CampaignState, plan.id) is not None:
        raise Refused(f"campaign {plan.id!r} has already been started")
    unknown = unknown_lessons(plan, lessons_by_id(session=session))
    if unknown:
        raise Refused(f"campaign {plan.id}: " + "; ".join(unknown), "unknown-lesson")
    if registry is not None:
        record_registry(registry, now=now, session=session)
    body = plan_json(plan)
    append(plan.id, CampaignStarted(plan=body, plan_digest=digest(body)), actor=actor, at=now, session=session)


def record_plan_if_changed(
    plan: CampaignPlan, campaign: CampaignState, *, actor: str, now: datetime, session: Session
) -> None:
    """A plan edited since it was last recorded (say, reworked after a rejection) is logged again.

    Once conduct has begun the window is fixed: only a signed extension moves it.
    """
    body = plan_json(plan)
    if digest(body) == campaign.plan_digest:
        return
    recorded = (campaign.window_opens, campaign.window_closes, campaign.timezone)
    edited = (plan.window.opens.isoformat(), plan.window.closes.isoformat(), plan.window.timezone)
    if STAGES.index(campaign.stage) >= STAGES.index("conduct") and edited != recorded:
        raise Refused(
            f"campaign {plan.id}: the plan file's window {edited[0]}..{edited[1]} ({edited[2]}) differs from the "
            f"recorded {recorded[0]}..{recorded[1]} ({recorded[2]}); once conduct has begun the window moves only "
            "by a signed extension (musharaka extend): restore the window in the plan file",
            "window-fixed",
        )
    append(plan.id, PlanRecorded(plan=body, plan_digest=digest(body)), actor=actor, at=now, session=session)
