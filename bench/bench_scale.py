"""Status over many campaigns on PostgreSQL, and the orchestration overhead of a stage run.

    .venv/bin/python bench/bench_scale.py            # --campaigns 1000 --database postgresql+psycopg://...

Figures are ratios against baselines measured in the same run (see BENCHMARKS.md).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def timed(work, repeat: int = 5) -> float:  # type: ignore[no-untyped-def]
    """The best of `repeat` runs, in seconds (the least disturbed by the machine's other load)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--campaigns", type=int, default=1000)
    args = parser.parse_args()

    name = f"musharaka_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = ADMIN.rsplit("/", 1)[0] + f"/{name}"
    home = Path(tempfile.mkdtemp(prefix="musharaka-bench-"))
    shutil.copytree(ROOT / "plans", home / "plans")
    os.environ.update(
        MUSHARAKA_DATABASE_URL=url,
        MUSHARAKA_PLANS_DIR=str(home / "plans"),
        MUSHARAKA_OUTPUT_DIR=str(home / "out"),
        MUSHARAKA_ENGINE_KEY_FILE=str(home / "engine-key.pem"),
        PREFECT_HOME=str(home / "prefect"),
    )
    try:
        run(args, url)
    finally:
        from state.db import get_engine

        get_engine(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        shutil.rmtree(home, ignore_errors=True)


def run(args: argparse.Namespace, url: str) -> None:
    from datetime import UTC, datetime

    from flows import engine, runtime
    from state.db import session_scope

    runtime.configure_prefect()
    now = datetime(2025, 6, 15, 5, 0, tzinfo=UTC)
    plans = engine.load_plan_set()
    template = plans.campaigns["moheri-2025-q3-satisfaction"]
    ids = [f"bench-{n:05d}" for n in range(args.campaigns)]
    # The database is the record: each campaign starts from its own copy of the plan, run to its first gate.
    for campaign_id in ids:
        plan = template.model_copy(update={"id": campaign_id})
        plans.campaigns[campaign_id] = plan
        with session_scope() as session:
            engine.start(plan, actor=plan.owner, now=now, session=session)
    started = time.perf_counter()
    # Stage flows read the plans folder: the ministry's six campaigns, three run each way.
    ministry = sorted(c for c in plans.campaigns if not c.startswith("bench-"))
    for campaign_id in ministry:
        with session_scope() as session:
            engine.start(plans.campaigns[campaign_id], actor="planning.team", now=now, session=session)
    direct_ids, flow_ids, warm_id = ministry[0:5:2], ministry[1:4:2], ministry[5]

    def direct() -> None:
        from flows import documents

        for campaign_id in direct_ids:
            with session_scope() as session:
                job = engine.begin_stage(campaign_id, plans, now=now, session=session)
            assert job is not None
            outcome = engine.run_stage_function(job, now)
            docs = documents.write_documents(campaign_id, job.stage, outcome, job.plan, attempt=job.attempt, now=now)  # type: ignore[arg-type]
            with session_scope() as session:
                engine.finish_stage(job, outcome, docs, now=now, session=session)

    direct_seconds = timed(direct, repeat=1)
    from flows.lifecycle import STAGE_FLOWS, in_process

    with in_process():
        STAGE_FLOWS["prepare"](warm_id, now)  # pays the ephemeral server's start once, outside the measure

        def flows() -> None:
            for campaign_id in flow_ids:
                STAGE_FLOWS["prepare"](campaign_id, now)

        flow_seconds = timed(flows, repeat=1)
    remaining = ids
    for campaign_id in remaining:  # the rest to their gates, directly: status then shows 1,000 open gates
        with session_scope() as session:
            job = engine.begin_stage(campaign_id, plans, now=now, session=session)
        assert job is not None
        with session_scope() as session:
            engine.finish_stage(job, engine.run_stage_function(job, now), [], now=now, session=session)
    setup = time.perf_counter() - started

    from click.testing import CliRunner

    from flows.cli import main as cli

    def status_in_process() -> None:
        result = CliRunner().invoke(cli, ["--now", "2025-06-16T09:00+04:00", "status", "--json"])
        assert result.exit_code == 0, result.output

    def baseline_query() -> None:
        with session_scope() as session:
            list(session.exec(text("SELECT * FROM campaign_state")))  # type: ignore[call-overload]

    musharaka = str(Path(sys.executable).parent / "musharaka")

    def status_process() -> None:
        argv = [musharaka, "--now", "2025-06-16T09:00+04:00", "status", "--json"]
        subprocess.run(argv, check=True, capture_output=True)

    def baseline_process() -> None:
        subprocess.run([sys.executable, "-c", "import flows.cli"], check=True, capture_output=True)

    status_in_process()  # warm: engine, plan cache
    query = timed(baseline_query)
    status_ip = timed(status_in_process)
    imports = timed(baseline_process, repeat=3)
    process_status = timed(status_process, repeat=3)
    per_direct = direct_seconds / len(direct_ids)
    per_flow = flow_seconds / len(flow_ids)
    lines = [
        f"campaigns: {args.campaigns} on PostgreSQL (set-up {setup:.0f} s)",
        f"baseline: one SELECT of every campaign_state row    {query:.3f} s",
        f"status --json, in process (CliRunner)               {status_ip:.3f} s  {status_ip / query:.1f}x",
        f"baseline: a process that imports the CLI            {imports:.3f} s",
        f"musharaka status --json, a process of its own       {process_status:.3f} s  {process_status / imports:.2f}x",
        f"prepare stage, engine functions called directly     {per_direct:.3f} s a run",
        f"prepare stage as a Prefect flow (heartbeat off)     {per_flow:.3f} s a run, {per_flow - per_direct:+.3f} s",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
