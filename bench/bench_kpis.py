"""The half-year KPI report over 1,000 campaigns, against reading the log once, in one run.

    .venv/bin/python bench/bench_kpis.py [--campaigns 1000] [--database sqlite:///var/bench-kpis.db]

It writes a synthetic log shaped like real campaigns (start; each of the six stages started,
completed and approved, the analyse outputs carrying a decision; two or three follow-up updates),
hashed and chained as `state.events.append` does, inserted in bulk; the projections are then built
by `state.projection.rebuild`, the function `append` projects with. It times:
  baseline   reading every event's payload from the database once (what any report from the log costs);
  kpis       `musharaka.flows.views.outcomes.kpi_report` for 2025-H1, in process (the indicators and the status table);
  command    `musharaka kpis --period 2025-H1 --json`, a process of its own (start-up included).
"""

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# bench/ and tests/ are not installed: their helpers come from the checkout this script runs in
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert
from sqlmodel import Session

from bench.chains import add_chain, approved, campaign_started, decision, follow_ups, stage_run
from musharaka.flows.engine import records
from musharaka.flows.views import outcomes
from musharaka.stages.plans import STAGES
from musharaka.state.db import get_engine, reset_tables
from musharaka.state.events import stream_events
from musharaka.state.projection import rebuild
from musharaka.state.tables import Event
from tests.stages.plans_fixture import SATISFACTION

T0 = datetime(2025, 1, 1, 8, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent


def synthetic_log(campaigns: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    plan = SATISFACTION.model_dump(mode="json")
    policy = {"roles": ["dg-planning"], "quorum": 1, "all_of": [], "escalation": [], "due_days": 5, "days": "calendar"}
    signed = {"note": "a signature, verified by audit and not by the report"}
    for number in range(1, campaigns + 1):
        campaign = f"bench-{number:05d}"
        items = [campaign_started(campaign, plan)]
        for stage in STAGES:
            outputs: dict[str, Any] = {"note": "x" * 600}
            if stage == "analyse":
                outputs = {**outputs, "total": 120, "decision": decision(number)}
            items += [*stage_run(stage, outputs, policy, "2025-12-01T00:00:00Z"), approved(stage, signed, "r" * 64)]
        items += follow_ups(number)
        add_chain(rows, campaign, items, lambda n: T0 + timedelta(minutes=n // 4))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--campaigns", type=int, default=1000)
    parser.add_argument("--database", default=f"sqlite:///{ROOT / 'var' / 'bench-kpis.db'}")
    args = parser.parse_args()
    os.environ["MUSHARAKA_DATABASE_URL"] = args.database
    db = get_engine(args.database)
    reset_tables(db)
    rows = synthetic_log(args.campaigns)
    with Session(db) as session:
        for start in range(0, len(rows), 5000):
            session.execute(insert(Event), rows[start : start + 5000])
        rebuild(session=session)
        session.commit()
    plans = records.load_plan_set(ROOT / "plans")
    now = datetime(2025, 7, 1, 4, tzinfo=UTC)

    with Session(db) as session:
        began = time.perf_counter()
        read = sum(len(row.payload) for row in stream_events(session))
        baseline = time.perf_counter() - began
    with Session(db) as session:
        began = time.perf_counter()
        report = outcomes.kpi_report(plans, "2025-H1", now=now, session=session)
        in_process = time.perf_counter() - began
    env = {**os.environ, "MUSHARAKA_PLANS_DIR": str(ROOT / "plans"), "MUSHARAKA_ALLOW_NOW": "1"}  # the 2025 calendar
    began = time.perf_counter()
    subprocess.run(
        [str(ROOT / ".venv/bin/musharaka"), "--now", now.isoformat(), "kpis", "--period", "2025-H1", "--json"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    command = time.perf_counter() - began
    figures = [(k.target_text, k.actual_text, k.gap_text) for k in report.indicators]
    print(f"{len(rows):,} events, {args.campaigns:,} campaigns ({read / 1e6:.1f} MB of payloads); table {figures}")
    print(f"| baseline: read every event's payload once | {baseline:.3f} | 1.00x |")
    print(f"| `kpi_report` for 2025-H1, in process | {in_process:.3f} | {in_process / baseline:.1f}x |")
    print(f"| `musharaka kpis --period 2025-H1 --json`, its own process | {command:.3f} | {command / baseline:.1f}x |")


if __name__ == "__main__":
    main()
