"""Prefect flows: one per stage, and a lifecycle flow that runs a campaign as far as its gates allow.

Flows never wait for a human: a lifecycle run stops at an open gate (or a missing input, or an open
window), and a later run picks the campaign up from the database. Tasks wrap side effects only.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from prefect import Flow, Task, flow, get_client, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import SyncClientContext
from prefect.flow_engine import run_flow
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, get_current_settings, temporary_settings
from prefect.states import Paused, Pending
from prefect.utilities.annotations import quote
from pydantic import BaseModel

from musharaka.flows.engine import records, runs
from musharaka.flows.render import documents
from musharaka.flows.retries import side_effect
from musharaka.flows.runtime import run_logs_to_prefect
from musharaka.flows.views import overview
from musharaka.stages.activities import Activity, AwaitingPerson
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


run_logs_to_prefect()

FINISHED_ELSEWHERE = "finished by another run"

T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")


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


@side_effect("begin-stage")
def begin_stage(campaign_id: str, now: datetime) -> runs.StageJob | None:
    plans = records.load_plan_set()
    # another worker or an approver may write to the campaign's chain first: read it again and carry on
    return transaction(lambda session: runs.begin_stage(campaign_id, plans, now=now, session=session))


@side_effect("write-documents")
def write_documents(job: runs.StageJob, outputs: StageModel, now: datetime) -> list[Document]:
    return documents.write_documents(job.campaign_id, job.stage, outputs, job.plan, attempt=job.attempt, now=now)


@side_effect("record-outcome")
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


@side_effect("campaign-status")
def campaign_status(campaign_id: str) -> tuple[str, str]:
    with read_scope() as session:
        campaign = records.campaign_state(campaign_id, session=session)
        return campaign.stage, campaign.status


WAITING = "Waiting"  # the state name of an activity that waits: for a person, or for its window


def described(value: object) -> str:
    """An activity's outputs as its log line says them: numbers and yes/no as they are, text and lists by
    their size. Outputs may quote what participants wrote, which a log must not hold."""
    if not isinstance(value, BaseModel):
        return "nothing" if value is None else type(value).__name__
    parts = []
    for name in type(value).model_fields:
        field = getattr(value, name)
        if isinstance(field, bool | int | float) or field is None:
            parts.append(f"{name}={field}")
        elif isinstance(field, tuple | list | dict):
            parts.append(f"{name}: {len(field)}")
        else:
            parts.append(name)
    return f"{type(value).__name__} ({', '.join(parts)})"


def waiting_for(activity: Activity[Any, Any], reason: Exception) -> str:
    """What a waiting activity waits for, as its state's message says it."""
    if isinstance(reason, MissingInputs):
        detail = "; ".join(reason.missing)
    elif isinstance(reason, NotYet):
        detail = f"{reason.reason} until {reason.until.astimezone(UTC).isoformat()}"
    else:
        detail = str(reason)
    who = activity.waits_for
    return f"{who.en} ({who.ar}): {detail}" if who else detail


def _activity_task(activity: Activity[Any, Any]) -> Task[[Any], Any]:
    """The activity as a Prefect task of its own name, tagged with its title in both languages.

    An activity that cannot finish yet ends Paused, named Waiting, its message saying what it waits for;
    what it raised stays with the state for the stage to act on (stage_activity)."""

    def perform(given: Any) -> Any:
        logger = get_run_logger()
        try:
            outputs = activity.function(given)
        except (MissingInputs, NotYet, AwaitingPerson) as reason:
            message = waiting_for(activity, reason)
            logger.info("waiting for %s", message)
            return Paused(name=WAITING, message=message, data=reason)
        logger.info("%s: %s", activity.title.en, described(outputs))
        return outputs

    return task(name=activity.key, tags=[activity.title.en, activity.title.ar], cache_policy=NO_CACHE)(perform)


ACTIVITY_TASKS: dict[str, Task[[Any], Any]] = {}


def stage_activity(activity: Activity[A, B], given: A) -> B:
    """Perform (stages.activities) an activity as its task: what the stage sees is what the function gave."""
    activity_task = ACTIVITY_TASKS.get(activity.key)
    if activity_task is None:
        activity_task = ACTIVITY_TASKS[activity.key] = _activity_task(activity)
    state = activity_task(as_is(given), return_state=True)
    if state.name == WAITING:  # Prefect keeps what the task gave its state in a result record
        reason = getattr(state.data, "result", state.data)
        if isinstance(reason, Exception):
            raise reason
    result: B = state.result()
    return result


def _stage_flow(stage: Stage) -> Flow[[str, datetime], str]:
    # named when its run is created (run_stage): a name template would cost one more request a run
    @flow(name=stage, result_storage=RESULT_STORAGE, persist_result=False)
    def run_stage(campaign_id: str, now: datetime) -> str:
        job = begin_stage(campaign_id, now)
        if job is None:
            return "nothing to run"
        outcome = runs.run_stage_function(job, now, stage_activity)  # each activity a task, none with side effects
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


@side_effect("runnable-campaigns")
def runnable_campaigns() -> list[str]:
    with read_scope() as session:
        return overview.runnable_campaigns(records.RUNNABLE, session=session)


@flow(name="advance-all", flow_run_name="advance-all")
def advance_all(now: datetime | None = None) -> dict[str, str]:
    """Every campaign that can move (not at an open gate, not closed) as far as its gates allow:
    the scheduled sweep that picks up decided gates. Campaigns at an open gate cost no flow run."""
    moment = now or datetime.now(UTC)  # a scheduled run reads the clock here, at the edge
    return {campaign_id: lifecycle(campaign_id, moment) for campaign_id in runnable_campaigns()}
