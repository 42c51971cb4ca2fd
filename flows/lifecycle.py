"""Prefect flows: one per stage, and a lifecycle flow that runs a campaign as far as its gates allow.

Flows never wait for a human: a lifecycle run stops at an open gate (or a missing input, or an open
window), and a later run picks the campaign up from the database. Tasks wrap side effects only.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TypeVar, cast

from prefect import Flow, flow, get_client, task
from prefect.cache_policies import NO_CACHE
from prefect.context import SyncClientContext
from prefect.flow_engine import run_flow
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, get_current_settings, temporary_settings
from prefect.states import Pending
from prefect.utilities.annotations import quote

from musharaka.flows.engine import records, runs
from musharaka.flows.render import documents
from musharaka.flows.views import overview
from musharaka.stages.common import MissingInputs, NotYet, StageModel
from musharaka.stages.plans import STAGES, Stage
from musharaka.state.db import read_scope, transaction
from musharaka.state.events import Document


@contextmanager
def in_process() -> Iterator[None]:
    """Run flows in this process without the heartbeat thread, which costs a second per flow run."""
    if get_current_settings().flows.heartbeat_frequency is None:
        yield  # already off: building Prefect's settings again costs ~0.1 s
        return
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


FINISHED_ELSEWHERE = "finished by another run"

T = TypeVar("T")


def as_is(value: T) -> T:
    """`value` as a task's argument that Prefect hands over without walking through it (`quote`).

    Prefect otherwise visits every field of an argument, for futures to resolve and upstream runs to
    record: for a stage's job (its whole campaign plan) and outputs, ~0.02 s a stage of CPU. These are
    plain values; the task receives `value` itself.
    """
    return cast(T, quote(value))


# Flow results stay in memory (persist_result=False, Prefect's default); naming their storage (Prefect's
# local default) spares each flow run asking the server for its default storage: three requests an advance.
RESULT_STORAGE = get_current_settings().results.local_storage_path


# Tasks read or write the database: a cached result would be a stale one.
@task(name="begin-stage", cache_policy=NO_CACHE)
def begin_stage(campaign_id: str, now: datetime) -> runs.StageJob | None:
    plans = records.load_plan_set()
    # another worker or an approver may write to the campaign's chain first: read it again and carry on
    return transaction(lambda session: runs.begin_stage(campaign_id, plans, now=now, session=session))


@task(name="write-documents", cache_policy=NO_CACHE)
def write_documents(job: runs.StageJob, outputs: StageModel, now: datetime) -> list[Document]:
    return documents.write_documents(job.campaign_id, job.stage, outputs, job.plan, attempt=job.attempt, now=now)


@task(name="record-outcome", cache_policy=NO_CACHE)
def record_outcome(
    job: runs.StageJob,
    outcome: StageModel | MissingInputs | NotYet,
    docs: list[Document],
    now: datetime,
) -> str:
    try:
        return transaction(lambda session: runs.finish_stage(job, outcome, docs, now=now, session=session))
    except runs.FinishedElsewhere:
        return FINISHED_ELSEWHERE  # a duplicate run ends as done, not failed: the first run's outcome stands


@task(name="campaign-status", cache_policy=NO_CACHE)
def campaign_status(campaign_id: str) -> tuple[str, str]:
    with read_scope() as session:
        campaign = records.campaign_state(campaign_id, session=session)
        return campaign.stage, campaign.status


def _stage_flow(stage: Stage) -> Flow[[str, datetime], str]:
    # named when its run is created (run_stage): a name template would cost one more request a run
    @flow(name=stage, result_storage=RESULT_STORAGE, persist_result=False)
    def run_stage(campaign_id: str, now: datetime) -> str:
        job = begin_stage(campaign_id, now)
        if job is None:
            return "nothing to run"
        outcome = runs.run_stage_function(job, now)  # pure: no task, no side effect
        docs = []
        if not isinstance(outcome, MissingInputs | NotYet):
            docs = write_documents(as_is(job), as_is(outcome), now)
        return record_outcome(as_is(job), as_is(outcome), as_is(docs), now)

    return run_stage


STAGE_FLOWS = {stage: _stage_flow(stage) for stage in STAGES}


def run_stage(stage: Stage, campaign_id: str, now: datetime) -> str:
    """The stage's flow as a flow run of its own, named stage-campaign; where the stage stopped.

    Created here and run by Prefect's engine rather than called as a subflow: a subflow run costs a
    tracking task run in the lifecycle's run, a search for an earlier subflow run and a client on an
    event loop of its own, about 0.08 s a stage. The stage's run, its states and its tasks are the same;
    the run is listed beside its lifecycle's run rather than nested under it.
    """
    stage_flow = STAGE_FLOWS[stage]
    parameters = {"campaign_id": campaign_id, "now": now}
    with get_client(sync_client=True) as client:  # the lifecycle run's own client
        flow_run = client.create_flow_run(
            stage_flow, name=f"{stage}-{campaign_id}", parameters=parameters, state=Pending()
        )
    stopped = run_flow(stage_flow, flow_run=flow_run, parameters=parameters)
    return str(stopped)  # run_flow is typed for every kind of flow; a stage flow returns a str


@flow(name="lifecycle", flow_run_name="lifecycle-{campaign_id}", result_storage=RESULT_STORAGE, persist_result=False)
def lifecycle(campaign_id: str, now: datetime | None = None) -> str:
    """Run stage after stage until the campaign meets a gate, a missing input, a wait, or its close."""
    now = now or datetime.now(UTC)  # a deployment run without `now` acts at the clock's time
    while True:
        stage, status = campaign_status(campaign_id)
        if status not in records.RUNNABLE:
            return status
        result = run_stage(stage, campaign_id, now)  # type: ignore[arg-type]
        if result != "awaiting-gate":
            return result


def advance(campaign_ids: list[str], now: datetime) -> dict[str, str]:
    """Run each campaign's lifecycle in this process; returns where each one stopped."""
    with in_process(), SyncClientContext.get_or_create():  # one client for every run: each new one costs ~0.03 s
        return {campaign_id: lifecycle(campaign_id, now) for campaign_id in campaign_ids}


@task(name="runnable-campaigns", cache_policy=NO_CACHE)
def runnable_campaigns() -> list[str]:
    with read_scope() as session:
        return overview.runnable_campaigns(records.RUNNABLE, session=session)


@flow(name="advance-all", flow_run_name="advance-all")
def advance_all(now: datetime | None = None) -> dict[str, str]:
    """Every campaign that can move (not at an open gate, not closed) as far as its gates allow:
    the scheduled sweep that picks up decided gates. Campaigns at an open gate cost no flow run."""
    moment = now or datetime.now(UTC)  # a scheduled run reads the clock here, at the edge
    return {campaign_id: lifecycle(campaign_id, moment) for campaign_id in runnable_campaigns()}
