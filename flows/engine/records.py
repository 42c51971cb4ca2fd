"""What the engine reads: plans by campaign, campaign states, stage runs, approved outputs,
submissions and decision updates, and the refusal every rule raises.
"""

import difflib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel
from sqlmodel import Session, col, select

from musharaka.flows.planfiles.loading import PlanSet, load_plans
from musharaka.flows.planfiles.reading import PlanError
from musharaka.stages.common import StageModel
from musharaka.stages.plans import STAGES, CampaignPlan, Stage
from musharaka.state.events import ContributionsIngested, as_utc
from musharaka.state.projection import SessionStore
from musharaka.state.settings import get_settings
from musharaka.state.tables import CampaignState, DecisionUpdate, Event, Gate, StageRun, Submission

if TYPE_CHECKING:  # pandas, and the stages that build frames, load only for commands that use them
    import pandas as pd

    from musharaka.stages.activities import StageDefinition
    from musharaka.stages.evaluate import StageTiming

Answers = TypeVar("Answers", bound=BaseModel)
Outputs = TypeVar("Outputs", bound=StageModel)

# "running" is runnable too: a run that died between its start and its outcome is picked up again
RUNNABLE = ("pending", "running", "failed", "waiting")


class Refused(Exception):
    """The request is not allowed or does not fit the campaign's state; nothing was changed.

    `code` names the kind of refusal in the event log (e.g. `self-approval`, `stale-digest`).
    """

    def __init__(self, message: str, code: str = "refused") -> None:
        super().__init__(message)
        self.code = code


def load_plan_set(plans_dir: Path | None = None) -> PlanSet:
    """Every plan under the plans folder, or PlanError with every problem."""
    plans, problems = load_plans([plans_dir or get_settings().plans_dir])
    if problems:
        raise PlanError(problems)
    return plans


def plan_of(plans: PlanSet, campaign_id: str) -> CampaignPlan:
    plan = plans.campaigns.get(campaign_id)
    if plan is None:
        known = ", ".join(sorted(plans.campaigns)) or "none"
        raise Refused(f"no campaign plan has the id {campaign_id!r} (plans found: {known})")
    return plan


def campaign_state(campaign_id: str, *, session: Session) -> CampaignState:
    campaign = session.get(CampaignState, campaign_id)
    if campaign is None:
        started = list(session.exec(select(CampaignState.campaign_id)))
        close = difflib.get_close_matches(campaign_id, started, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else " (musharaka status lists the campaigns)"
        raise Refused(f"no started campaign has the id {campaign_id!r}{hint}")
    return campaign


def submitter_of(campaign_id: str, stage: str, plan: CampaignPlan, *, session: Session) -> str:
    """Who answers for a stage: the last person to submit anything for it (a file; at conduct, contributions
    or the withdrawal of a batch of them), else the plan's owner. Asked when the gate opens, so a late
    submission counts too."""
    at_conduct = ["contributions.ingested", "contributions.withdrawn"]
    kinds = ["submission.recorded", *at_conduct] if stage == "conduct" else ["submission.recorded"]
    query = (
        select(Event)
        .where(Event.campaign_id == campaign_id, col(Event.type).in_(kinds))
        .order_by(col(Event.seq).desc())
    )
    for event in session.exec(query):
        if event.type in at_conduct or json.loads(event.payload)["stage"] == stage:
            return event.actor
    return plan.owner


def latest_submission(campaign_id: str, stage: str, *, session: Session) -> Submission | None:
    query = (
        select(Submission)
        .where(Submission.campaign_id == campaign_id, Submission.stage == stage)
        .order_by(col(Submission.seq).desc())
    )
    return session.exec(query).first()


def submitted_answers(campaign_id: str, stage: Stage, kind: type[Answers], *, session: Session) -> Answers | None:
    """The answers last submitted for the stage, read as `kind` (the stage's `submitted`); None if none were."""
    last = latest_submission(campaign_id, stage, session=session)
    if last is None:
        return None
    return kind.model_validate_json(last.content)


def stage_run(campaign_id: str, stage: str, attempt: int, *, session: Session) -> StageRun:
    """One attempt's run; a run the log never started is a bug, not a user's mistake."""
    run = SessionStore(session).run(campaign_id, stage, attempt)
    if run is None:
        raise LookupError(f"{campaign_id}: {stage} attempt {attempt} has no run")
    return run


def approved_outputs(campaign_id: str, stage: "StageDefinition[Any, Outputs]", *, session: Session) -> Outputs:
    """The outputs of the stage's attempt whose gate was approved."""
    gate = session.exec(
        select(Gate).where(Gate.campaign_id == campaign_id, Gate.stage == stage.name, Gate.status == "approved")
    ).first()
    if gate is None:
        raise LookupError(f"{campaign_id}: {stage} has no approved gate")
    run = stage_run(campaign_id, stage.name, gate.attempt, session=session)
    return stage.outputs.model_validate_json(run.outputs or "{}")


def ingested_rows_digests(campaign_id: str, *, session: Session) -> list[str]:
    """The rows digest of every batch the campaign ingested (withdrawn or not), in the order of their events:
    what a tie-breaking lot is seeded from (`stages.analyse.lot_seed`)."""
    query = (
        select(Event.payload)
        .where(Event.campaign_id == campaign_id, Event.type == ContributionsIngested.TYPE)
        .order_by(col(Event.seq))
    )
    return [ContributionsIngested.model_validate_json(payload).rows_digest for payload in session.exec(query)]


def contributions_of(campaign_id: str, *, session: Session) -> "pd.DataFrame":
    """The campaign's contributions as the stages' DataFrame (columns: `stages.frame`)."""
    from musharaka.state.frames import contributions_frame

    return contributions_frame(campaign_id, session=session)


def timings(campaign_id: str, *, session: Session) -> tuple["StageTiming", ...]:
    """Per stage so far: how many attempts it took and the days from first start to approval."""
    from musharaka.stages.evaluate import StageTiming

    runs = session.exec(select(StageRun).where(StageRun.campaign_id == campaign_id)).all()
    gates = session.exec(select(Gate).where(Gate.campaign_id == campaign_id, Gate.status == "approved")).all()
    approved = {g.stage: g.decided_at for g in gates}
    result = []
    for stage in STAGES:
        stage_runs = [r for r in runs if r.stage == stage]
        if not stage_runs or approved.get(stage) is None:
            continue
        first = min(r.started_at for r in stage_runs)
        end = approved[stage]
        assert end is not None
        days = (as_utc(end) - as_utc(first)).total_seconds() / 86400
        result.append(StageTiming(stage=stage, attempts=max(r.attempt for r in stage_runs), days=round(days, 2)))
    return tuple(result)


def approved_gates(session: Session, campaign_id: str | None = None, stage: str | None = None) -> list[Gate]:
    """Approved gates, in the order they were projected."""
    query = select(Gate).where(Gate.status == "approved")
    if campaign_id is not None:
        query = query.where(Gate.campaign_id == campaign_id)
    if stage is not None:  # read only that stage's: over a programme, the other five would be read for nothing
        query = query.where(Gate.stage == stage)
    return list(session.exec(query.order_by(col(Gate.id))))


def approved_stage_outputs(session: Session, stage: str, campaign_id: str | None = None) -> dict[str, tuple[Gate, Any]]:
    """campaign -> (approved gate, its outputs) for every campaign whose `stage` gate was approved."""
    gates = {g.campaign_id: g for g in approved_gates(session, campaign_id, stage)}
    if not gates:
        return {}
    query = select(StageRun).where(StageRun.stage == stage, col(StageRun.campaign_id).in_(list(gates)))
    result = {}
    for run in session.exec(query):
        gate = gates[run.campaign_id]
        if run.attempt == gate.attempt:
            result[run.campaign_id] = (gate, json.loads(run.outputs or "{}"))
    return result


def decision_updates(session: Session, campaign_id: str | None = None) -> dict[str, list[DecisionUpdate]]:
    query = select(DecisionUpdate)
    if campaign_id is not None:
        query = query.where(DecisionUpdate.campaign_id == campaign_id)
    found: dict[str, list[DecisionUpdate]] = {}
    for row in session.exec(query.order_by(col(DecisionUpdate.campaign_id), col(DecisionUpdate.seq))):
        found.setdefault(row.campaign_id, []).append(row)
    return found
