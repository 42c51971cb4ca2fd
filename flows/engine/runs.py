"""A stage run's bookkeeping: its start and inputs read from the database, and what it came to."""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlmodel import Session

from musharaka.flows.engine.campaigns import record_plan_if_changed
from musharaka.flows.engine.communication import record_of
from musharaka.flows.engine.lessons import lessons_by_id
from musharaka.flows.engine.records import (
    RUNNABLE,
    Refused,
    approved_outputs,
    campaign_state,
    contributions_of,
    ingested_rows_digests,
    plan_of,
    submitted_answers,
    submitter_of,
    timings,
)
from musharaka.flows.planfiles.loading import PlanSet
from musharaka.flows.views.risks import register_of
from musharaka.stages.activities import Perform, directly
from musharaka.stages.calendars import calendar_of
from musharaka.stages.common import MissingInputs, NotYet, StageModel
from musharaka.stages.gates import due_at
from musharaka.stages.plans import Bilingual, CampaignPlan, Readiness, Stage
from musharaka.stages.registry import definition
from musharaka.state.events import Document, GateOpened, StageCompleted, StageFailed, StageStarted, StageWaiting, digest
from musharaka.state.log import append
from musharaka.state.tables import CampaignState


class FinishedElsewhere(Refused):
    """Another run of the same stage attempt recorded its outcome first (an approval's run and the
    advance sweep may both pick a campaign up); this run's outcome is not recorded, and nothing is wrong."""


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
                submitter=submitter_of(campaign_id, stage, plan, session=session),
                plan_digest=campaign.plan_digest,
            ),
            actor=plan.owner,
            at=now,
            session=session,
        )
    inputs = _inputs(campaign, stage, plan, plans, session=session)
    return StageJob(campaign_id, stage, campaign.attempt, plan, inputs)


def run_stage_function(
    job: StageJob, now: datetime, perform: Perform = directly
) -> StageModel | MissingInputs | NotYet:
    """Call the stage's pure function, each activity through `perform`; a missing input or an open window
    is a result, not a crash."""
    try:
        return definition(job.stage).run(job.inputs, job.plan, now, perform)
    except (MissingInputs, NotYet) as outcome:
        return outcome


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
        raise FinishedElsewhere(f"campaign {job.campaign_id}: {job.stage} was finished by another run")
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
    append(
        job.campaign_id,
        GateOpened(
            stage=job.stage,
            attempt=job.attempt,
            policy=policy.model_dump(mode="json"),
            due_at=due_at(now, policy, job.plan.window.timezone, calendar_of(job.plan)),
            submitter=submitter_of(job.campaign_id, job.stage, job.plan, session=session),
            outputs_digest=outputs_digest,
        ),
        actor="engine",
        at=now,
        session=session,
    )
    return "awaiting-gate"


def _inputs(
    campaign: CampaignState, stage: Stage, plan: CampaignPlan, plans: PlanSet, *, session: Session
) -> StageModel:
    # each stage's module loads here, when its stage runs: conduct and analyse load pandas
    from musharaka.stages import analyse, announce, conduct, evaluate, prepare
    from musharaka.stages import plan as plan_stage

    cid = campaign.campaign_id
    if stage == "prepare":
        return prepare.Inputs(submitted=submitted_answers(cid, "prepare", Readiness, session=session))
    if stage == "plan":
        return plan_stage.Inputs(
            prepare=approved_outputs(cid, prepare.STAGE, session=session), lessons=lessons_by_id(session=session)
        )
    if stage == "conduct":
        return conduct.Inputs(
            plan=approved_outputs(cid, plan_stage.STAGE, session=session),
            contributions=contributions_of(cid, session=session),
            extended_to=date.fromisoformat(campaign.window_extended) if campaign.window_extended else None,
            minutes=submitted_answers(cid, "conduct", conduct.Minutes, session=session),
        )
    if stage == "analyse":
        return analyse.Inputs(
            conduct=approved_outputs(cid, conduct.STAGE, session=session),
            contributions=contributions_of(cid, session=session),
            decision=submitted_answers(cid, "analyse", analyse.Decision, session=session),
            # ingestion is closed once conduct's gate is reached: the seed is fixed only after the window closed
            lot_seed=analyse.lot_seed(ingested_rows_digests(cid, session=session)),
        )
    if stage == "announce":
        return announce.Inputs(
            analyse=approved_outputs(cid, analyse.STAGE, session=session),
            conduct=approved_outputs(cid, conduct.STAGE, session=session),
            next_topics=_next_topics(plan, plans, session=session),
            communication=record_of(cid, session=session),
        )
    return evaluate.Inputs(
        conduct=approved_outputs(cid, conduct.STAGE, session=session),
        analyse=approved_outputs(cid, analyse.STAGE, session=session),
        announce=approved_outputs(cid, announce.STAGE, session=session),
        timings=timings(cid, session=session),
        lessons=submitted_answers(cid, "evaluate", evaluate.Lessons, session=session),
        risks=register_of(cid, plan, campaign.updated_at.replace(tzinfo=UTC), session=session),  # as of the run's start
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
