"""The engine's rules over the database: start a campaign, run a stage's bookkeeping, decide a gate.

These functions take a session and `now`, and never commit: the flow task or CLI command that calls
them owns the transaction. Prefect is not imported here.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlmodel import Session, col, select

from flows.contributions import read_batch
from flows.planfiles import PlanError, PlanSet, load_model_file, load_plans
from stages.common import MissingInputs, NotYet, StageModel
from stages.conduct import Contribution as StageContribution
from stages.evaluate import StageTiming
from stages.plans import STAGES, ApproversRegistry, Bilingual, CampaignPlan, Stage, local_midnight
from stages.registry import MODULES
from state.events import (
    CampaignStarted,
    ContributionsIngested,
    Document,
    GateDecided,
    GateOpened,
    PlanRecorded,
    StageCompleted,
    StageFailed,
    StageStarted,
    StageWaiting,
    SubmissionRecorded,
    append,
    as_utc,
    digest,
)
from state.projection import approvals, open_gate
from state.settings import get_settings
from state.tables import CampaignState, Contribution, Gate, StageRun, Submission

RUNNABLE = ("pending", "failed", "waiting")


class Refused(Exception):
    """The request is not allowed or does not fit the campaign's state; nothing was changed."""


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
        raise Refused(f"campaign {campaign_id!r} has not been started (musharaka start {campaign_id})")
    return campaign


def plan_json(plan: CampaignPlan) -> dict[str, Any]:
    dumped: dict[str, Any] = plan.model_dump(mode="json")
    return dumped


def start(plan: CampaignPlan, *, actor: str, now: datetime, session: Session) -> None:
    """Record the campaign's start with the exact plan it starts from."""
    if session.get(CampaignState, plan.id) is not None:
        raise Refused(f"campaign {plan.id!r} has already been started")
    body = plan_json(plan)
    append(
        plan.id, CampaignStarted(plan=body, plan_digest=digest(body)), actor=actor, at=now, session=session
    )


def record_plan_if_changed(
    plan: CampaignPlan, campaign: CampaignState, *, actor: str, now: datetime, session: Session
) -> None:
    """A plan edited since it was last recorded (say, reworked after a rejection) is logged again."""
    body = plan_json(plan)
    if digest(body) != campaign.plan_digest:
        append(
            plan.id, PlanRecorded(plan=body, plan_digest=digest(body)), actor=actor, at=now, session=session
        )


@dataclass(frozen=True)
class StageJob:
    """Everything one stage run needs, read from the database before the pure stage runs."""

    campaign_id: str
    stage: Stage
    attempt: int
    plan: CampaignPlan
    inputs: StageModel


def begin_stage(campaign_id: str, plans: PlanSet, *, now: datetime, session: Session) -> StageJob | None:
    """Mark the campaign's current stage as started and gather its inputs; None if nothing to run."""
    campaign = campaign_state(campaign_id, session=session)
    if campaign.status not in RUNNABLE:
        return None
    plan = plan_of(plans, campaign_id)
    stage: Stage = campaign.stage  # type: ignore[assignment]
    record_plan_if_changed(plan, campaign, actor=plan.owner, now=now, session=session)
    if campaign.status == "pending":
        append(
            campaign_id,
            StageStarted(
                stage=stage,
                attempt=campaign.attempt,
                submitter=_submitter(campaign_id, stage, plan, session=session),
                plan_digest=campaign.plan_digest,
            ),
            actor=plan.owner,
            at=now,
            session=session,
        )
    inputs = _inputs(campaign, stage, plan, plans, session=session)
    return StageJob(campaign_id, stage, campaign.attempt, plan, inputs)


def run_stage_function(job: StageJob, now: datetime) -> StageModel | MissingInputs | NotYet:
    """Call the stage's pure function; a missing input or an open window is a result, not a crash."""
    try:
        outputs: StageModel = MODULES[job.stage].run(job.inputs, job.plan, now)
    except (MissingInputs, NotYet) as outcome:
        return outcome
    return outputs


def finish_stage(
    job: StageJob,
    outcome: StageModel | MissingInputs | NotYet,
    documents: list[Document],
    *,
    now: datetime,
    session: Session,
) -> str:
    """Record what the stage run came to: a gate opened, a list of what is missing, or a wait."""
    campaign = campaign_state(job.campaign_id, session=session)
    if (campaign.stage, campaign.attempt) != (job.stage, job.attempt) or campaign.status not in (
        "running",
        *RUNNABLE,
    ):
        raise Refused(f"campaign {job.campaign_id}: {job.stage} was finished by another run")
    actor = job.plan.owner
    if isinstance(outcome, MissingInputs):
        if campaign.status != "failed" or campaign.detail != "missing: " + "; ".join(outcome.missing):
            append(
                job.campaign_id,
                StageFailed(stage=job.stage, attempt=job.attempt, missing=outcome.missing),
                actor=actor,
                at=now,
                session=session,
            )
        return "failed"
    if isinstance(outcome, NotYet):
        event = StageWaiting(stage=job.stage, attempt=job.attempt, reason=outcome.reason, until=outcome.until)
        if campaign.status != "waiting" or not campaign.detail.startswith(outcome.reason):
            append(job.campaign_id, event, actor=actor, at=now, session=session)
        return "waiting"
    outputs = outcome.model_dump(mode="json")
    outputs_digest = digest(outputs)
    append(
        job.campaign_id,
        StageCompleted(
            stage=job.stage,
            attempt=job.attempt,
            outputs=outputs,
            outputs_digest=outputs_digest,
            documents=documents,
        ),
        actor=actor,
        at=now,
        session=session,
    )
    policy = job.plan.gates.for_stage(job.stage)
    run = _stage_run(job.campaign_id, job.stage, job.attempt, session=session)
    append(
        job.campaign_id,
        GateOpened(
            stage=job.stage,
            attempt=job.attempt,
            roles=list(policy.roles),
            quorum=policy.quorum,
            due_at=due_at(now, policy.due_days, job.plan.window.timezone),
            submitter=run.submitter,
            outputs_digest=outputs_digest,
        ),
        actor="engine",
        at=now,
        session=session,
    )
    return "awaiting-gate"


def due_at(opened: datetime, days: int, zone: str) -> datetime:
    """The end of the Nth calendar day after the gate opened, in the campaign's time zone."""
    local_day = opened.astimezone(ZoneInfo(zone)).date()
    return local_midnight(local_day + timedelta(days=days + 1), zone)


def decide(
    campaign_id: str,
    stage: str,
    *,
    approver_id: str,
    decision: Literal["approve", "reject"],
    text: str,
    registry: ApproversRegistry,
    now: datetime,
    session: Session,
) -> Gate:
    """Record one approver's decision on the campaign's open gate, after checking they may give it."""
    campaign = campaign_state(campaign_id, session=session)
    gate = open_gate(campaign_id, session=session)
    if gate is None or gate.stage != stage:
        where = f"its open gate is {gate.stage}" if gate else f"it is at {campaign.stage} ({campaign.status})"
        raise Refused(f"campaign {campaign_id} has no open gate for {stage}; {where}")
    approver = registry.get(approver_id)
    if approver is None:
        raise Refused(f"{approver_id!r} is not in the approvers registry")
    allowed = gate.roles.split(",")
    if not set(approver.roles) & set(allowed):
        raise Refused(
            f"{approver_id} holds roles {list(approver.roles)}; the {stage} gate needs one of {allowed}"
        )
    if approver_id == gate.submitter:
        raise Refused(
            f"{approver_id} submitted the {stage} stage and may not sign off its own gate "
            "(separation of duties)"
        )
    if decision == "reject" and not text.strip():
        raise Refused("a rejection needs a reason (--reason) so the team knows what to rework")
    if any(a.approver == approver_id for a in approvals(gate, session=session)):
        raise Refused(f"{approver_id} has already approved this {stage} gate")
    append(
        campaign_id,
        GateDecided(
            stage=stage, attempt=gate.attempt, approver=approver_id, decision=decision, text=text.strip()
        ),
        actor=approver_id,
        at=now,
        session=session,
    )
    return gate


def submit_file(
    campaign_id: str,
    stage: Stage,
    path: Path,
    *,
    plans: PlanSet,
    actor: str,
    now: datetime,
    session: Session,
) -> str:
    """Record a file a person submits for a stage: contributions for conduct, answers for the others."""
    campaign = campaign_state(campaign_id, session=session)
    plan = plan_of(plans, campaign_id)
    if STAGES.index(stage) < STAGES.index(campaign.stage):
        raise Refused(f"campaign {campaign_id} is past {stage}; it is at {campaign.stage}")
    if campaign.status == "closed":
        raise Refused(f"campaign {campaign_id} is closed")
    if stage == "conduct":
        return _ingest(campaign_id, path, plan, actor=actor, now=now, session=session)
    model: type[BaseModel] | None = getattr(MODULES[stage], "Submitted", None)
    if model is None:
        raise Refused(f"the {stage} stage takes no submitted file: everything it needs is computed")
    instance, problems = load_model_file(path, model)
    if instance is None:
        raise PlanError(problems)
    content = instance.model_dump(mode="json")
    append(
        campaign_id,
        SubmissionRecorded(stage=stage, file_name=path.name, digest=digest(content), content=content),
        actor=actor,
        at=now,
        session=session,
    )
    return f"{stage} submission recorded ({path.name})"


def _ingest(
    campaign_id: str, path: Path, plan: CampaignPlan, *, actor: str, now: datetime, session: Session
) -> str:
    batch = read_batch(path, plan, plan.window.closes_at())
    keys = [key for key, _ in batch.rows]
    existing = set(
        session.exec(
            select(Contribution.row_key).where(
                Contribution.campaign_id == campaign_id, col(Contribution.row_key).in_(keys)
            )
        )
    )
    fresh = {key: row for key, row in batch.rows if key not in existing}  # also folds repeats
    for key, row in fresh.items():
        session.add(
            Contribution(
                campaign_id=campaign_id,
                batch=batch.digest,
                row_key=key,
                submitted_at=row.submitted_at,
                channel=row.channel,
                audience=row.audience,
                answers=json.dumps(row.answers, ensure_ascii=False),
            )
        )
    duplicates = len(batch.rows) - len(fresh)
    append(
        campaign_id,
        ContributionsIngested(
            batch=batch.digest,
            file_name=batch.file_name,
            rows_read=len(batch.rows),
            rows_stored=len(fresh),
            duplicates=duplicates,
            digest=batch.digest,
        ),
        actor=actor,
        at=now,
        session=session,
    )
    return f"{len(batch.rows)} rows read = {len(fresh)} stored + {duplicates} duplicates ({batch.file_name})"


def _submitter(campaign_id: str, stage: str, plan: CampaignPlan, *, session: Session) -> str:
    """Who answers for a stage run: the last person to submit a file for it, else the owner."""
    last = _latest_submission(campaign_id, stage, session=session)
    return last.actor if last else plan.owner


def _latest_submission(campaign_id: str, stage: str, *, session: Session) -> Submission | None:
    query = (
        select(Submission)
        .where(Submission.campaign_id == campaign_id, Submission.stage == stage)
        .order_by(col(Submission.seq).desc())
    )
    return session.exec(query).first()


def _submitted(campaign_id: str, stage: Stage, *, session: Session) -> Any:
    last = _latest_submission(campaign_id, stage, session=session)
    if last is None:
        return None
    return MODULES[stage].Submitted.model_validate_json(last.content)


def _stage_run(campaign_id: str, stage: str, attempt: int, *, session: Session) -> StageRun:
    query = select(StageRun).where(
        StageRun.campaign_id == campaign_id, StageRun.stage == stage, StageRun.attempt == attempt
    )
    run = session.exec(query).first()
    if run is None:
        raise LookupError(f"{campaign_id}: {stage} attempt {attempt} has no run")
    return run


def approved_outputs(campaign_id: str, stage: Stage, *, session: Session) -> StageModel:
    """The outputs of the stage's attempt whose gate was approved."""
    gate = session.exec(
        select(Gate).where(Gate.campaign_id == campaign_id, Gate.stage == stage, Gate.status == "approved")
    ).first()
    if gate is None:
        raise LookupError(f"{campaign_id}: {stage} has no approved gate")
    run = _stage_run(campaign_id, stage, gate.attempt, session=session)
    outputs: StageModel = MODULES[stage].Outputs.model_validate_json(run.outputs or "{}")
    return outputs


def contributions_of(campaign_id: str, *, session: Session) -> tuple[StageContribution, ...]:
    rows = session.exec(
        select(Contribution)
        .where(Contribution.campaign_id == campaign_id)
        .order_by(col(Contribution.submitted_at), col(Contribution.id))
    )
    return tuple(
        StageContribution(
            submitted_at=row.submitted_at,
            channel=row.channel,
            audience=row.audience,
            answers=json.loads(row.answers),
        )
        for row in rows
    )


def _inputs(
    campaign: CampaignState, stage: Stage, plan: CampaignPlan, plans: PlanSet, *, session: Session
) -> StageModel:
    module = MODULES[stage]
    cid = campaign.campaign_id
    if stage == "prepare":
        return module.Inputs(submitted=_submitted(cid, "prepare", session=session))
    if stage == "plan":
        return module.Inputs(prepare=approved_outputs(cid, "prepare", session=session))
    if stage == "conduct":
        return module.Inputs(
            plan=approved_outputs(cid, "plan", session=session),
            contributions=contributions_of(cid, session=session),
        )
    if stage == "analyse":
        return module.Inputs(
            conduct=approved_outputs(cid, "conduct", session=session),
            contributions=contributions_of(cid, session=session),
            decision=_submitted(cid, "analyse", session=session),
        )
    if stage == "announce":
        return module.Inputs(
            analyse=approved_outputs(cid, "analyse", session=session),
            next_topics=_next_topics(plan, plans, session=session),
        )
    return module.Inputs(
        conduct=approved_outputs(cid, "conduct", session=session),
        analyse=approved_outputs(cid, "analyse", session=session),
        announce=approved_outputs(cid, "announce", session=session),
        timings=timings(cid, session=session),
        lessons=_submitted(cid, "evaluate", session=session),
    )


def _next_topics(plan: CampaignPlan, plans: PlanSet, *, session: Session) -> tuple[Bilingual, ...]:
    """The programme's campaigns after this one that are not closed: the topics to invite people to."""
    topics = []
    for programme in plans.programmes:
        for entry in programme.campaigns:
            other = plans.campaigns.get(entry.campaign)
            state = session.get(CampaignState, entry.campaign)
            if (
                other
                and entry.quarter >= plan.quarter
                and other.id != plan.id
                and (state is None or state.status != "closed")
            ):
                topics.append(other.title)
    return tuple(topics)


def timings(campaign_id: str, *, session: Session) -> tuple[StageTiming, ...]:
    """Per stage so far: how many attempts it took and the days from first start to approval."""
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
        result.append(
            StageTiming(stage=stage, attempts=max(r.attempt for r in stage_runs), days=round(days, 2))
        )
    return tuple(result)
