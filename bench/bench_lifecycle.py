"""The orchestration cost of whole lifecycles: Prefect flows against the same stage functions called directly.

    .venv/bin/python bench/bench_lifecycle.py [--rounds 3]

Two campaigns of the ministry's programme are run from start to closed, every gate approved by a
signed decision, as `musharaka demo` runs them (the chatbot-name vote and the satisfaction survey:
prepare, plan, conduct, analyse, announce, evaluate each; 12 stage runs a round). Each round runs
them twice, on fresh SQLite databases:
  direct   the engine's functions called in a plain loop (begin the stage, the stage function,
           documents, record the outcome), what a lifecycle flow does without Prefect;
  flows    the path `musharaka serve` takes: Prefect kept warm (`prefect_warm`: its own Prefect
           server, started once before the measure), each advance submitted to the service's
           `Runs` (the lifecycle flow run created in the server) and waited for while its worker
           thread runs it: a lifecycle flow, a flow per stage and its tasks.
Only the advances are timed: signing, approving and submitting are the same in both and are not.
The overhead a stage is (flows - direct) / stage runs; the issue's goal is at most 0.25 s. On a shared
machine the seconds vary from round to round; the HTTP requests to Prefect's API a stage and the CPU
seconds of this process do not, or much less.
"""

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from sqlmodel import func, select

from musharaka.flows.cli import demo
from musharaka.flows.engine import records, runs
from musharaka.flows.planfiles.loading import PlanSet
from musharaka.flows.render import documents
from musharaka.flows.service import prefect_warm
from musharaka.stages.common import MissingInputs, NotYet
from musharaka.state.db import reset_tables, session_scope
from musharaka.state.settings import get_settings
from musharaka.state.tables import StageRun

if TYPE_CHECKING:
    from musharaka.flows.service.runs import Runs

HOME = Path(tempfile.mkdtemp(prefix="musharaka-bench-lifecycle-"))
os.environ.update(MUSHARAKA_HOME=str(HOME))
os.environ.pop("PREFECT_API_URL", None)  # the service's own server, as `musharaka serve` starts it
RUN_TIMEOUT_SECONDS = 300.0

CAMPAIGNS = (
    ("moheri-2025-q1-chatbot-name", demo.at("2025-01-12"), 640),
    ("moheri-2025-q3-satisfaction", demo.at("2025-06-15"), 460),
)


def direct(campaign_id: str, now: datetime, plans: PlanSet) -> str:
    """The lifecycle flow's loop with no Prefect in it: the baseline."""
    while True:
        with session_scope() as session:
            if records.campaign_state(campaign_id, session=session).status not in records.RUNNABLE:
                return "stopped"
            job = runs.begin_stage(campaign_id, plans, now=now, session=session)
        if job is None:
            return "nothing to run"
        outcome = runs.run_stage_function(job, now)
        docs = []
        if not isinstance(outcome, MissingInputs | NotYet):
            docs = documents.write_documents(campaign_id, job.stage, outcome, job.plan, attempt=job.attempt, now=now)
        with session_scope() as session:
            result = runs.finish_stage(job, outcome, docs, now=now, session=session)
        if result != "awaiting-gate":
            return result


class Requests:
    """HTTP requests this process sends (Prefect's clients speak httpx), counted at httpx's send."""

    sent = 0

    @classmethod
    def count(cls) -> None:
        sync_send, async_send = httpx.Client.send, httpx.AsyncClient.send

        def counted(client: httpx.Client, request: httpx.Request, **options: object) -> httpx.Response:
            cls.sent += 1
            return sync_send(client, request, **options)  # type: ignore[arg-type]

        def async_counted(
            client: httpx.AsyncClient, request: httpx.Request, **options: object
        ) -> Awaitable[httpx.Response]:
            cls.sent += 1
            return async_send(client, request, **options)  # type: ignore[arg-type]

        httpx.Client.send = counted  # type: ignore[method-assign]
        httpx.AsyncClient.send = async_counted  # type: ignore[method-assign,assignment]


class Timed(demo.Demo):
    """The demo's lifecycle, with every advance timed and run one of the two ways."""

    spent = 0.0
    cpu = 0.0
    requests = 0
    service: "Runs | None" = None

    def advance(self, campaign_id: str, when: datetime) -> None:
        started, cpu, sent = time.perf_counter(), time.process_time(), Requests.sent
        if self.service is not None:
            run_id = self.service.submit([campaign_id], when)[campaign_id]
            run = self.service.wait(run_id, RUN_TIMEOUT_SECONDS)
            assert run.state == "completed", run
        else:
            direct(campaign_id, when, self.plans)
        self.spent += time.perf_counter() - started
        self.cpu += time.process_time() - cpu
        self.requests += Requests.sent - sent


def one_round(way: str, number: int, service: "Runs") -> tuple[Timed, int]:
    """Both campaigns to closed on a fresh database; the runner (time, CPU, requests), and stage runs."""
    folder = HOME / f"{way}-{number}"
    folder.mkdir()
    os.environ.update(
        MUSHARAKA_DATABASE_URL=f"sqlite:///{folder / 'state.db'}", MUSHARAKA_OUTPUT_DIR=str(folder / "out")
    )
    get_settings.cache_clear()
    reset_tables()
    keys = demo._demo_plans(folder)
    runner = Timed(records.load_plan_set(), keys, folder, lambda _: None)
    runner.service = service if way == "flows" else None
    for campaign_id, begins, rows in CAMPAIGNS:
        runner.run_to_closed(campaign_id, begins, rows, rework=False)
    with session_scope() as session:
        runs = session.exec(select(func.count()).select_from(StageRun)).one()
        closed = [records.campaign_state(c, session=session).status for c, _, _ in CAMPAIGNS]
    assert closed == ["closed", "closed"], closed
    return runner, runs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    Requests.count()
    try:
        with prefect_warm.warm_prefect():  # Prefect's server starts here, outside the measure
            from musharaka.flows.service.runs import Runs  # Prefect is imported once it points at the server

            with Runs(sweep_every=3600) as service:  # no sweep: only the advances run
                results: dict[str, list[Timed]] = {"direct": [], "flows": []}
                runs = 0
                one_round("flows", -1, service)  # the first flow runs import and register; not measured
                for number in range(args.rounds):  # alternated, so the machine's load falls on both alike
                    for way in results:
                        runner, runs = one_round(way, number, service)
                        results[way].append(runner)
    finally:
        shutil.rmtree(HOME, ignore_errors=True)

    def median(way: str, of: Callable[[Timed], float]) -> float:
        return statistics.median(of(runner) for runner in results[way])

    base, flows = median("direct", lambda r: r.spent), median("flows", lambda r: r.spent)
    print(f"{runs} stage runs a round (2 campaigns, start to closed), median of {args.rounds} rounds")
    for way, seconds in (("direct", base), ("flows", flows)):
        rounds = ", ".join(f"{r.spent:.2f}" for r in results[way])
        print(f"{way:7} {seconds:6.2f} s  {seconds / base:5.1f}x   {seconds / runs:.3f} s a stage  (rounds: {rounds})")
    cpu = (median("flows", lambda r: r.cpu) - median("direct", lambda r: r.cpu)) / runs
    requests = median("flows", lambda r: r.requests) / runs
    print(f"orchestration overhead: {(flows - base) / runs:+.3f} s a stage (goal: at most 0.25 s)")
    print(f"  of which this process's CPU: {cpu:+.3f} s a stage; requests to Prefect's API: {requests:.1f} a stage")


if __name__ == "__main__":
    main()
