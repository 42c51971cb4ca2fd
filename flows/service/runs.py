"""Lifecycle runs inside the service: submitted from any thread, run one at a time on a worker thread.

Each submission creates the `lifecycle` flow run in Prefect's server at once (state Scheduled), so
its id is known before the run starts: the caller (the API, a web page, the sweep) gets it back
immediately. One worker thread then runs the queued flow runs in turn with Prefect's own engine
(`run_flow` with that flow run), in this process, where Prefect is already warm: no server to start,
no interpreter to import. One at a time because SQLite has one writer; the engine's transactions
would queue anyway.

The sweep is a second thread that, every few seconds, submits every campaign a lifecycle run can move
(a decided gate, a retry, a wait to check again), except those already queued or running.

Import this module only after `prefect_warm.warm_prefect` has pointed Prefect at its server.
"""

import logging
import queue
import threading
import time
from collections import OrderedDict
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from prefect import get_client
from prefect.client.schemas.objects import FlowRun, State, StateType
from prefect.context import SyncClientContext
from prefect.exceptions import ObjectNotFound
from prefect.flow_engine import run_flow
from prefect.states import Cancelled, Scheduled
from pydantic import BaseModel

from musharaka.flows.engine import records
from musharaka.flows.lifecycle import in_process, lifecycle
from musharaka.flows.views import overview
from musharaka.state.db import read_scope
from musharaka.state.tables import CampaignState

log = logging.getLogger("musharaka.service")

RunState = Literal["scheduled", "running", "completed", "failed"]
DEFAULT_SWEEP_SECONDS = 30.0
KEEP_FINISHED = 10_000  # finished runs remembered in memory; older ones are read back from Prefect


class RunStatus(BaseModel):
    """Where one lifecycle run is, for the API and the web pages."""

    run_id: str
    campaign_id: str
    state: RunState
    result: str | None = None  # where the lifecycle stopped: awaiting-gate, waiting, failed, closed, ...
    message: str | None = None  # why the run failed, for a failed run
    submitted_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    stage: str | None = None  # the campaign's stage and status in the database when asked
    campaign_status: str | None = None

    @property
    def finished(self) -> bool:
        return self.state in ("completed", "failed")


class UnknownRun(KeyError):
    """No lifecycle run has this id."""


class Stopping(RuntimeError):
    """The service is stopping and takes no new runs."""


@dataclass
class _Run:
    flow_run: FlowRun
    campaign_id: str
    now: datetime | None
    submitted_at: datetime
    state: RunState = "scheduled"
    result: str | None = None
    message: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return str(self.flow_run.id)


class Runs:
    """The service's lifecycle runs: `submit` returns flow-run ids at once, one worker thread runs them."""

    def __init__(self, *, sweep_every: float = DEFAULT_SWEEP_SECONDS, keep_finished: int = KEEP_FINISHED) -> None:
        self.sweep_every = sweep_every
        self._keep_finished = keep_finished
        self._queue: queue.Queue[_Run | None] = queue.Queue()
        self._runs: OrderedDict[str, _Run] = OrderedDict()
        self._queued: dict[str, _Run] = {}  # campaign -> its scheduled run (not started yet)
        self._running: _Run | None = None
        self._changed = threading.Condition()  # guards the four above; notified on every state change
        self._stopping = threading.Event()
        self._sweeper: threading.Thread | None = None
        # one client for the service's life: a new one costs ~0.03 s (TLS context, CSRF token) a submission
        self._prefect = ExitStack()
        self._client = self._prefect.enter_context(get_client(sync_client=True))
        self._client_lock = threading.Lock()  # submissions come from the API's and the sweep's threads
        self._worker = threading.Thread(target=self._work, name="musharaka-runs", daemon=True)
        self._worker.start()

    # ---- submitting -------------------------------------------------------------------------------

    def submit(self, campaign_ids: list[str], now: datetime | None = None) -> dict[str, str]:
        """A lifecycle flow run per campaign, queued for the worker; their ids, at once.

        `now=None` runs at the clock's time when the run starts (what the service always does; a
        moment is for tests). A campaign whose run is queued and not yet started gets that run's id:
        it will read the database when it starts, so a second run would find nothing more to do.
        A campaign that is running gets a new run after it, as the running one may have read the
        campaign before the change that prompted this submission. Refused (records.Refused) if a
        campaign is not started; nothing is queued then.
        """
        if self._stopping.is_set():
            raise Stopping("the service is stopping and takes no new runs")
        with read_scope() as session:
            for campaign_id in campaign_ids:
                records.campaign_state(campaign_id, session=session)  # refuses a campaign not started
        submitted = {}
        for campaign_id in campaign_ids:
            with self._changed:
                queued = self._queued.get(campaign_id)
            if queued is not None and queued.now == now:
                submitted[campaign_id] = queued.run_id
                continue
            run = self._create(campaign_id, now)
            with self._changed:
                if self._stopping.is_set():  # stop() has cancelled what was queued: this one would never run
                    raise Stopping("the service is stopping and takes no new runs")
                self._runs[run.run_id] = run
                self._queued[campaign_id] = run
                self._changed.notify_all()
            self._queue.put(run)
            submitted[campaign_id] = run.run_id
        return submitted

    def _create(self, campaign_id: str, now: datetime | None) -> _Run:
        """The flow run in Prefect's server, Scheduled, with the parameters the worker will run it with."""
        parameters: dict[str, Any] = {"campaign_id": campaign_id, "now": now}
        with self._client_lock:
            flow_run = self._client.create_flow_run(
                lifecycle, name=f"lifecycle-{campaign_id}", parameters=parameters, state=Scheduled()
            )
        return _Run(flow_run, campaign_id, now, datetime.now(UTC), parameters=parameters)

    # ---- the worker ---------------------------------------------------------------------------------

    def _work(self) -> None:
        # entered once for the thread's life: the settings cost ~0.1 s to build, a client ~0.03 s to start,
        # and every flow run on this thread (lifecycles and their stages) uses this one
        with in_process(), SyncClientContext.get_or_create():
            self._run_queue()

    def _run_queue(self) -> None:
        while True:
            run = self._queue.get()
            if run is None:
                return
            with self._changed:
                if run.state != "scheduled":  # cancelled while it waited
                    continue
                if self._queued.get(run.campaign_id) is run:
                    del self._queued[run.campaign_id]
                run.state, run.started_at = "running", datetime.now(UTC)
                self._running = run
                self._changed.notify_all()
            result, message = self._execute(run)
            if message is not None:
                log.warning("lifecycle run %s of %s failed: %s", run.run_id, run.campaign_id, message)
            with self._changed:
                run.finished_at = datetime.now(UTC)
                run.state = "failed" if message is not None else "completed"
                run.result, run.message = result, message
                self._running = None
                self._forget_old_runs()
                self._changed.notify_all()

    def _execute(self, run: _Run) -> tuple[str | None, str | None]:
        """Run the flow run in this thread: where the lifecycle stopped, or why it failed."""
        try:
            state = run_flow(lifecycle, flow_run=run.flow_run, parameters=run.parameters, return_type="state")
            assert isinstance(state, State)  # a sync, non-generator flow asked for its state
            if state.is_completed():
                return str(state.result()), None
            return None, state.message or f"the flow run ended {state.name}"
        except Exception as error:  # the worker outlives any one run: the failure is the run's status
            return None, f"{error.__class__.__name__}: {error}"

    def _forget_old_runs(self) -> None:
        finished = [run_id for run_id, run in self._runs.items() if run.state in ("completed", "failed")]
        for run_id in finished[: max(0, len(finished) - self._keep_finished)]:
            del self._runs[run_id]

    # ---- asking -------------------------------------------------------------------------------------

    def status(self, run_id: str) -> RunStatus:
        """Where a run is, with its campaign's stage and status now; runs this process no longer
        remembers (or that an earlier service ran) are read back from Prefect. UnknownRun otherwise."""
        with self._changed:
            run = self._runs.get(run_id)
            status = self._status_of(run) if run is not None else None
        if status is None:
            status = self._status_from_prefect(run_id)
        with read_scope() as session:
            campaign = session.get(CampaignState, status.campaign_id)
            if campaign is not None:
                status.stage, status.campaign_status = campaign.stage, campaign.status
        return status

    @staticmethod
    def _status_of(run: _Run) -> RunStatus:
        return RunStatus(
            run_id=run.run_id,
            campaign_id=run.campaign_id,
            state=run.state,
            result=run.result,
            message=run.message,
            submitted_at=run.submitted_at,
            started_at=run.started_at,
            finished_at=run.finished_at,
        )

    @staticmethod
    def _status_from_prefect(run_id: str) -> RunStatus:
        try:
            flow_run_id = UUID(run_id)
        except ValueError:
            raise UnknownRun(run_id) from None
        try:
            with get_client(sync_client=True) as client:
                flow_run = client.read_flow_run(flow_run_id)
                flow_name = client.read_flow(flow_run.flow_id).name
        except ObjectNotFound:
            raise UnknownRun(run_id) from None
        if flow_name != lifecycle.name:
            raise UnknownRun(run_id)
        kind = flow_run.state_type
        state: RunState = (
            "scheduled"
            if kind in (StateType.SCHEDULED, StateType.PENDING, None)
            else "running"
            if kind == StateType.RUNNING
            else "completed"
            if kind == StateType.COMPLETED
            else "failed"
        )
        message = flow_run.state.message if flow_run.state is not None and state == "failed" else None
        return RunStatus(
            run_id=run_id,
            campaign_id=str(flow_run.parameters.get("campaign_id", "")),
            state=state,
            message=message,
            submitted_at=flow_run.created,
            started_at=flow_run.start_time,
            finished_at=flow_run.end_time,
        )

    def wait(self, run_id: str, timeout: float) -> RunStatus:
        """The run's status once it has finished; TimeoutError naming its state if `timeout` passes first."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                run = self._runs.get(run_id)
                if run is None:
                    break  # not ours (or forgotten): Prefect has the last word
                if run.state in ("completed", "failed"):
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"lifecycle run {run_id} of {run.campaign_id} still {run.state} after {timeout} s"
                    )
                self._changed.wait(left)
        return self.status(run_id)

    def busy_campaigns(self) -> set[str]:
        """Campaigns with a run queued or running."""
        with self._changed:
            busy = set(self._queued)
            if self._running is not None:
                busy.add(self._running.campaign_id)
            return busy

    # ---- the sweep ----------------------------------------------------------------------------------

    def sweep(self) -> dict[str, str]:
        """Submit every campaign a run can move now that has no run queued or running; their run ids."""
        with read_scope() as session:
            runnable = overview.runnable_campaigns(records.RUNNABLE, session=session)
        idle = [campaign_id for campaign_id in runnable if campaign_id not in self.busy_campaigns()]
        return self.submit(idle) if idle else {}

    def start_sweep(self, every_seconds: float | None = None) -> None:
        """Sweep now and then every `every_seconds` (default: the constructor's) on a thread of its own."""
        if self._sweeper is not None:
            raise RuntimeError("the sweep is already running")
        every = self.sweep_every if every_seconds is None else every_seconds
        if every <= 0:
            raise ValueError(f"the sweep's interval must be positive, found {every}")
        self._sweeper = threading.Thread(target=self._sweep_loop, args=(every,), name="musharaka-sweep", daemon=True)
        self._sweeper.start()

    def _sweep_loop(self, every: float) -> None:
        while not self._stopping.is_set():
            try:
                self.sweep()
            except Stopping:
                return
            except Exception as error:  # the next sweep tries again; this one is reported, not hidden
                log.warning("the advance sweep failed: %s: %s", error.__class__.__name__, error)
            if self._stopping.wait(every):
                return

    # ---- stopping -----------------------------------------------------------------------------------

    def stop(self, timeout: float = 60.0) -> list[str]:
        """Take no new runs, stop the sweep, let the run in progress finish (up to `timeout`), and
        cancel the runs still queued (in Prefect too); the ids of the cancelled runs."""
        self._stopping.set()
        if self._sweeper is not None:
            self._sweeper.join(timeout)
        with self._changed:
            cancelled = list(self._queued.values())
            for run in cancelled:
                run.state, run.finished_at = "failed", datetime.now(UTC)
                run.message = "cancelled: the service stopped before this run began"
            self._queued.clear()
            self._changed.notify_all()
        self._queue.put(None)
        self._worker.join(timeout)
        if cancelled:
            try:
                with self._client_lock:
                    for run in cancelled:
                        self._client.set_flow_run_state(run.flow_run.id, Cancelled(message=run.message), force=True)
            except Exception as error:  # Prefect may already be going down with us: say so, do not hide it
                log.warning("could not mark %d queued run(s) cancelled in Prefect: %s", len(cancelled), error)
        self._prefect.close()
        if self._worker.is_alive():
            log.warning("the run in progress had not finished after %.0f s; it is abandoned", timeout)
        return [run.run_id for run in cancelled]

    def __enter__(self) -> "Runs":
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
