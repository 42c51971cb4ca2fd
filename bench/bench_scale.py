"""Status over many campaigns on PostgreSQL: in process, and as a command of its own.

    .venv/bin/python bench/bench_scale.py            # [--campaigns 1000] [--keep]

A fresh PostgreSQL database on the machine's server gets 1,000 campaigns, each at its prepare gate
(dropped afterwards unless --keep). Figures are ratios against baselines measured in the same run:
  in process  `status --json` through the CLI against one SELECT of every campaign_state row;
  command     `musharaka status --json` as a process of its own, against a Python process that only
              connects with SQLAlchemy and psycopg and reads every campaign_state row, and against
              one that reads them through the project's SQLModel models (alternated, best of 15).
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
# bench/ and tests/ are not installed: their helpers come from the checkout this script runs in
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
    parser.add_argument("--keep", action="store_true", help="keep the database and folder; print their names")
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
        MUSHARAKA_ALLOW_NOW="1",  # `status` as of the day the throwaway campaigns start
        PREFECT_HOME=str(home / "prefect"),
    )
    try:
        run(args, url)
    finally:
        from musharaka.state.db import get_engine

        get_engine(url).dispose()
        if args.keep:
            print(f"kept: MUSHARAKA_DATABASE_URL={url} MUSHARAKA_PLANS_DIR={home / 'plans'}")
        else:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            shutil.rmtree(home, ignore_errors=True)


def run(args: argparse.Namespace, url: str) -> None:
    from datetime import UTC, datetime

    from musharaka.flows import runtime
    from musharaka.flows.engine import campaigns, records, runs
    from musharaka.state.db import session_scope

    runtime.configure_prefect()
    now = datetime(2025, 6, 15, 5, 0, tzinfo=UTC)
    plans = records.load_plan_set()
    template = plans.campaigns["moheri-2025-q3-satisfaction"]
    ids = [f"bench-{n:05d}" for n in range(args.campaigns)]
    # The database is the record: each campaign starts from its own copy of the plan, run to its first gate.
    for campaign_id in ids:
        plan = template.model_copy(update={"id": campaign_id})
        plans.campaigns[campaign_id] = plan
        with session_scope() as session:
            campaigns.start(plan, actor=plan.owner, now=now, session=session)
    started = time.perf_counter()
    for campaign_id in ids:  # each to its prepare gate: status then shows 1,000 open gates
        with session_scope() as session:
            job = runs.begin_stage(campaign_id, plans, now=now, session=session)
        assert job is not None
        with session_scope() as session:
            runs.finish_stage(job, runs.run_stage_function(job, now), [], now=now, session=session)
    setup = time.perf_counter() - started

    from click.testing import CliRunner

    from musharaka.flows.cli.main import main as cli

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

    def baseline_process() -> None:  # the least any Python command reading the states does
        read = (
            "from sqlalchemy import create_engine, text\n"
            f"with create_engine({url!r}).connect() as c: c.execute(text('SELECT * FROM campaign_state')).all()"
        )
        subprocess.run([sys.executable, "-c", read], check=True, capture_output=True)

    def models_process() -> None:  # the same through the project's models: SQLModel's ORM, pydantic
        read = (
            "from sqlmodel import Session, create_engine, select\n"
            "from state.tables import CampaignState\n"
            f"with Session(create_engine({url!r})) as s: s.exec(select(CampaignState)).all()"
        )
        subprocess.run([sys.executable, "-c", read], check=True, capture_output=True)

    status_in_process()  # warm: engine, plan cache
    query = timed(baseline_query)
    status_ip = timed(status_in_process)
    # alternated, so a burst of the machine's other load falls on both alike; best of 15 each
    imports, models, process_status = float("inf"), float("inf"), float("inf")
    for _ in range(15):
        imports = min(imports, timed(baseline_process, repeat=1))
        models = min(models, timed(models_process, repeat=1))
        process_status = min(process_status, timed(status_process, repeat=1))
    lines = [
        f"campaigns: {args.campaigns} on PostgreSQL (set-up {setup:.0f} s)",
        f"baseline: one SELECT of every campaign_state row    {query:.3f} s",
        f"status --json, in process (CliRunner)               {status_ip:.3f} s  {status_ip / query:.1f}x",
        f"baseline: a process that reads campaign_state       {imports:.3f} s",
        f"a process that reads it through the models (ORM)    {models:.3f} s  {models / imports:.2f}x",
        f"musharaka status --json, a process of its own       {process_status:.3f} s  {process_status / imports:.2f}x"
        f"  ({process_status - models:+.3f} s over the models' read)",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
