"""On a real Prefect server: a stage's run shows as the guide's activities, each a task run named after it,
tagged with its title in Arabic and English, in the state it came to; an activity that cannot finish yet
waits, saying what for, and what each activity did is in the run's logs."""

import logging
import sqlite3
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from musharaka.state.settings import get_settings
from tests.conftest import SHARED_PREFECT_API_URL, Workspace, make_workspace, require
from tests.flows.samples import CAMPAIGN, CONTRIBUTIONS, DECISION

pytestmark = pytest.mark.prefect

# Instants no other test uses, to pick this test's runs out of the shared server's (parameters hold them)
STARTED = "2025-06-15T09:00:07+04:00"
PLANNED = "2025-06-17T09:00:07+04:00"
ADVANCED = "2025-06-17T09:00:09+04:00"
CONDUCTED = "2025-08-16T09:00:07+04:00"
DECIDED = "2025-08-17T09:05:07+04:00"


def ok(ws: Workspace, *args: str, now: str) -> None:
    result = ws.run(*args, now=now)
    assert result.exit_code == 0, f"{args}: {result.output}{result.stderr}"


def flow_run_id(client: Any, name: str, now: str) -> UUID:
    """The flow run of this name whose `now` parameter is this test's instant."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    # the newest first: the server answers 200 runs at most, and the session's holds more of this name
    found = client.read_flow_runs(
        flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name])), sort=FlowRunSort.EXPECTED_START_TIME_DESC
    )
    wanted = datetime.fromisoformat(now)
    mine = [run.id for run in found if datetime.fromisoformat(str(run.parameters["now"])) == wanted]
    assert len(mine) == 1, f"{name} at {now}: {len(mine)} runs"
    return UUID(str(mine[0]))


def task_runs(client: Any, run_id: UUID, expected: int) -> list[Any]:
    """The flow run's task runs, by start; the server records them from events, a moment after the run."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import TaskRunSort

    deadline = time.monotonic() + 30
    while True:
        found = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])), sort=TaskRunSort.EXPECTED_START_TIME_ASC
        )
        finished = [
            run for run in found if (run.state is not None and run.state.is_final()) or run.state_type == "PAUSED"
        ]
        if len(finished) >= expected or time.monotonic() > deadline:
            return list(found)
        time.sleep(0.2)


def logged(client: Any, which: Any) -> list[str]:
    """The messages logged, once they have reached the server (Prefect sends logs in batches)."""
    deadline = time.monotonic() + 15
    while True:
        said = [log.message for log in client.read_logs(which)]
        if said or time.monotonic() > deadline:
            return said
        time.sleep(0.3)


def named(run: Any) -> str:
    return str(run.name).rsplit("-", 1)[0]  # Prefect adds three characters to each task run's name


def test_a_stage_run_shows_the_guides_activities_as_task_runs(ws: Workspace) -> None:
    from prefect.client.orchestration import get_client

    # Prefect's embedded server records no task runs (flows/runtime.py): this needs the server `make test`
    # starts for its test processes
    require(bool(SHARED_PREFECT_API_URL), "needs the Prefect server of a run spread over processes (make test)")
    from prefect.client.schemas.filters import LogFilter, LogFilterTaskRunId

    ok(ws, "start", CAMPAIGN, now=STARTED)  # prepare: the plan file answers the four readiness questions
    with get_client(sync_client=True) as client:
        prepare = task_runs(client, flow_run_id(client, f"prepare-{CAMPAIGN}", STARTED), expected=7)
        shown = [(named(r), r.state_type.value, r.state_name) for r in prepare]
        assert shown == [
            ("begin-stage", "COMPLETED", "Completed"),
            ("prepare.objective", "COMPLETED", "Completed"),
            ("prepare.management-support", "COMPLETED", "Completed"),
            ("prepare.institutional-readiness", "COMPLETED", "Completed"),
            ("prepare.audience-readiness", "COMPLETED", "Completed"),
            ("write-documents", "COMPLETED", "Completed"),
            ("record-outcome", "COMPLETED", "Completed"),
        ]
        # the guide's words for each activity (stages/prepare.py ACTIVITIES), both languages
        assert set(prepare[1].tags) == {"State the campaign's objective", "تحديد هدف الحملة"}
        assert set(prepare[3].tags) == {
            "Check institutional readiness: people, budget, procedures and law",
            "التأكد من الجاهزية المؤسسية: الأفراد والميزانية والإجراءات والتشريعات",
        }
        said = logged(client, LogFilter(task_run_id=LogFilterTaskRunId(any_=[prepare[2].id])))
        # the answer's text is not logged, only that there is one (outputs may quote participants)
        assert "Gauge senior management's support: Answer (question, answer)" in said

    ok(ws, "approve", CAMPAIGN, "prepare", *ws.key("dg.planning"), now="2025-06-16T09:00+04:00")
    # approving the plan runs conduct, whose window opens on 6 July 2025 (00:00 in Muscat, 20:00 UTC the day before)
    ok(ws, "approve", CAMPAIGN, "plan", *ws.key("dg.planning"), now=PLANNED)
    with get_client(sync_client=True) as client:
        conduct = task_runs(client, flow_run_id(client, f"conduct-{CAMPAIGN}", PLANNED), expected=3)
        shown = [(named(r), r.state_type.value, r.state_name) for r in conduct]
        # launching waits for the window; the activities after it do not run, and the stage waits
        assert shown == [
            ("begin-stage", "COMPLETED", "Completed"),
            ("conduct.launch", "PAUSED", "Waiting"),
            ("record-outcome", "COMPLETED", "Completed"),
        ]
        assert conduct[1].state.message == (
            "the participation window (2025-07-06 to 2025-08-14) has not opened yet until 2025-07-05T20:00:00+00:00"
        )


class ReleaseOnRetry(logging.Handler):
    """Lets the lock go when Prefect says it will try a failed task again: the retry then finds it free."""

    def __init__(self, holder: sqlite3.Connection) -> None:
        super().__init__()
        self.holder = holder
        self.retries: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "Retry 1/3 will start" in record.getMessage():
            self.retries.append(record.getMessage())
            self.holder.execute("rollback")


def test_a_write_that_meets_a_held_lock_is_tried_again_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds SQLite's write lock: the stage's first write gives up after its 0.3 s wait,
    Prefect tries the task again half a second later, the lock is free by then, and the stage runs."""
    from prefect.client.orchestration import get_client

    require(bool(SHARED_PREFECT_API_URL), "needs the Prefect server of a run spread over processes (make test)")
    ws = make_workspace(tmp_path, monkeypatch, database=tmp_path / "state.db")  # SQLite's lock, in each pass
    ok(ws, "start", CAMPAIGN, now="2025-06-15T09:00:11+04:00")
    ok(ws, "approve", CAMPAIGN, "prepare", *ws.key("dg.planning"), "--no-advance", now="2025-06-16T09:00+04:00")
    monkeypatch.setenv("MUSHARAKA_LOCK_WAIT_SECONDS", "0.3")
    get_settings.cache_clear()  # read again: the next command's engine waits 0.3 s for a lock

    holder = sqlite3.connect(ws.db_url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False)
    holder.execute("begin immediate")  # readers go on (WAL); every writer waits
    release = ReleaseOnRetry(holder)
    prefect_tasks = logging.getLogger("prefect.task_runs")
    prefect_tasks.addHandler(release)
    try:
        result = ws.run("advance", CAMPAIGN, now=ADVANCED)
    finally:
        prefect_tasks.removeHandler(release)
        if holder.in_transaction:
            holder.execute("rollback")
        holder.close()
    assert result.exit_code == 0, result.output + result.stderr
    assert "plan (attempt 1) awaiting-gate" in result.output
    assert len(release.retries) == 1 and "database is locked" in release.retries[0]
    with get_client(sync_client=True) as client:
        # begin-stage, the plan stage's six activities, write-documents, record-outcome
        plan = task_runs(client, flow_run_id(client, f"plan-{CAMPAIGN}", ADVANCED), expected=9)
        begin = next(r for r in plan if named(r) == "begin-stage")
        assert (begin.run_count, begin.state_type.value) == (2, "COMPLETED")


def test_the_decision_and_managements_approval_wait_for_the_people_who_give_them(ws: Workspace) -> None:
    from prefect.client.orchestration import get_client

    require(bool(SHARED_PREFECT_API_URL), "needs the Prefect server of a run spread over processes (make test)")
    ok(ws, "start", CAMPAIGN, now="2025-06-15T09:00+04:00")
    ok(ws, "approve", CAMPAIGN, "prepare", *ws.key("dg.planning"), now="2025-06-16T09:00+04:00")
    ok(ws, "approve", CAMPAIGN, "plan", *ws.key("dg.planning"), now="2025-06-17T09:00+04:00")
    ok(
        ws,
        "submit",
        CAMPAIGN,
        "conduct",
        str(ws.write("contributions.csv", CONTRIBUTIONS)),
        now="2025-08-15T08:00+04:00",
    )
    ok(ws, "advance", CAMPAIGN, now="2025-08-15T09:00+04:00")
    # approving conduct runs analyse, which has no decision yet: it waits for the team's file, and computes nothing
    ok(ws, "approve", CAMPAIGN, "conduct", *ws.key("dg.planning"), now=CONDUCTED)
    ok(ws, "submit", CAMPAIGN, "analyse", str(ws.write("decision.yaml", DECISION)), now="2025-08-17T09:00+04:00")
    ok(ws, "advance", CAMPAIGN, now=DECIDED)
    with get_client(sync_client=True) as client:
        waiting = task_runs(client, flow_run_id(client, f"analyse-{CAMPAIGN}", CONDUCTED), expected=3)
        assert [(named(r), r.state_name) for r in waiting] == [
            ("begin-stage", "Completed"),
            ("analyse.decision", "Waiting"),
            ("record-outcome", "Completed"),
        ]
        assert waiting[1].state.message == (
            "the team's decision file (ملف القرار من الفريق): analyse.decision: the decision taken, its rationale "
            "and why not every opinion could be adopted (submit a decision file)"
        )
        decided = task_runs(client, flow_run_id(client, f"analyse-{CAMPAIGN}", DECIDED), expected=9)
        assert [(named(r), r.state_name) for r in decided][1:7] == [
            ("analyse.decision", "Completed"),
            ("analyse.decision-method", "Completed"),
            ("analyse.impact-on-groups", "Completed"),
            ("analyse.analysis", "Completed"),
            ("analyse.expected-impact", "Completed"),
            ("analyse.formal-approval", "Waiting"),
        ]
        # the plan's analyse gate: two of dg-planning and director (stages/plans.py named_roles, in order)
        assert decided[6].state.message == (
            "management's approval at the analyse gate (اعتماد الإدارة عند بوابة التحليل): the analyse gate opens "
            "when this run ends; it waits for approval by: dg-planning, director, undersecretary"
        )
