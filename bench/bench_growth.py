"""`status --json`, the KPI report and `audit verify` at 10, 100, 1,000 and 5,000 campaigns, on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_growth.py     # [--sizes 10,100,1000,5000] [--databases sqlite,postgresql]

A workspace of its own in a temporary folder (the sample plans, its own engine key); a SQLite file under it, and
a new database on the machine's PostgreSQL server (dropped afterwards). One synthetic log of the largest size is
made first: campaigns shaped like real ones (start; an ingestion; the six stages started, completed and
approved by a signed decision, the analyse outputs carrying a decision; two or three follow-up updates), hashed,
chained and signed as `append` writes them, so that `audit verify` finds nothing to report. Each size adds the
campaigns it lacks to the database in bulk and rebuilds the projections (`state.projection.rebuild`), then
measures, in this process, the function each command calls, in its read-only session:
  status   `overview.status_rows` and its JSON, as `musharaka status --json`;
  kpis     `outcomes.kpi_report` for 2025-H1, as `musharaka kpis --period 2025-H1 --json`;
  verify   `state.audit.verify_database` in one process, as `musharaka audit verify --processes 1`;
each timed (the best of a few runs, wall and CPU time) with the SQL statements it sends counted by a
`before_cursor_execute` listener; then each command as a user runs it, a process of its own (start-up
included; `audit verify` on every core, as it runs by default). A statement count that grows with the
campaigns is an N+1 query: the run fails.
"""

import argparse
import gc
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# bench/ and tests/ are not installed: their helpers come from the checkout this script runs in
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from sqlalchemy import create_engine, event, insert, text  # noqa: E402

from bench.chains import Item, add_chain, approved, campaign_started, decision, follow_ups, stage_run  # noqa: E402

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
T0 = datetime(2025, 1, 1, 8, tzinfo=UTC)
NOW = datetime(2025, 7, 1, 4, tzinfo=UTC)  # the half-year just ended: every campaign of the log is in it
PERIOD = "2025-H1"


def synthetic_log(campaigns: int, engine: Ed25519PrivateKey) -> list[list[dict[str, Any]]]:
    """Rows for the event table, signed by `engine`: the registry's chain, then one list of rows per campaign."""
    from musharaka.stages.plans import STAGES
    from musharaka.state.events import REGISTRY_CHAIN, digest, text_digest
    from musharaka.state.signing import SignedDecision, new_key_pair, sign
    from tests.stages.plans_fixture import SATISFACTION

    pem, public = new_key_pair(None)
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    approver = load_pem_private_key(pem, password=None)
    key = {"id": "k1", "public": public, "valid_from": "2024-01-01T00:00:00Z", "valid_until": None, "revoked_at": None}
    registry = {
        "approvers": [
            {"id": "dg.planning", "name": {"ar": "م", "en": "DG"}, "roles": ["dg-planning"], "keys": [key]},
            {"id": "planning.team", "name": {"ar": "ف", "en": "Team"}, "roles": ["campaign-team"], "keys": []},
        ],
        "delegations": [],
    }
    registry_digest = digest(registry)
    written = 0  # rows so far: row n is dated T0 + n minutes, so every chain's times rise
    chains: list[list[dict[str, Any]]] = []

    def chain(campaign: str, items: list[Item]) -> None:
        nonlocal written
        rows: list[dict[str, Any]] = []
        add_chain(rows, campaign, items, lambda n: T0 + timedelta(minutes=written + n), engine)
        written += len(rows)
        chains.append(rows)

    chain(REGISTRY_CHAIN, [("engine", "registry.recorded", {"registry": registry, "registry_digest": registry_digest})])
    plan = SATISFACTION.model_dump(mode="json")
    policy = SATISFACTION.gates.default.model_dump(mode="json")
    empty = text_digest("")
    for number in range(1, campaigns + 1):
        campaign = f"growth-{number:05d}"
        ingested = {
            "file_name": "c.csv",
            "rows_read": 0,
            "rows_stored": 0,
            "duplicates": 0,
            "digest": "d" * 64,
            "rows_digest": empty,
            "source": "csv",
            "rows_quarantined": 0,
            "quarantine_digest": empty,
            "columns_ignored": [],
        }
        items: list[Item] = [campaign_started(campaign, plan), ("planning.team", "contributions.ingested", ingested)]
        for stage in STAGES:
            outputs: dict[str, Any] = {"note": "x" * 600}
            if stage == "conduct":
                outputs = {**outputs, "total": 120}
            if stage == "analyse":
                outputs = {**outputs, "total": 120, "decision": decision(number)}
            items += stage_run(stage, outputs, policy, "2025-12-01T00:00:00Z")
            signed = SignedDecision(
                campaign=campaign,
                stage=stage,
                attempt=1,
                decision="approve",
                text="ok",
                outputs_digest=digest(outputs),
                signed_at=T0 + timedelta(minutes=written + len(items)),  # the minute its event is written
                approver="dg.planning",
                public_key="",
            )
            items.append(approved(stage, sign(signed, approver).model_dump(mode="json"), registry_digest))  # type: ignore[arg-type]
        items += follow_ups(number)
        chain(campaign, items)
    return chains


def counted(work: Callable[[], Any], repeat: int) -> tuple[float, float, int, Any]:
    """The best of `repeat` runs of `work`: wall time and this process's CPU time in seconds (the machine is
    shared: its CPU time moves less with the others' load); the SQL statements one run sends; what it returned."""
    from musharaka.state.db import get_engine

    sent: list[None] = []

    def count(*_: Any) -> None:
        sent.append(None)

    engine = get_engine()
    wall, cpu, result = float("inf"), float("inf"), None
    for n in range(repeat):
        if n == repeat - 1:
            event.listen(engine, "before_cursor_execute", count)
        began, began_cpu = time.perf_counter(), time.process_time()
        try:
            result = work()
        finally:
            if n == repeat - 1:
                event.remove(engine, "before_cursor_execute", count)
        wall, cpu = min(wall, time.perf_counter() - began), min(cpu, time.process_time() - began_cpu)
    return wall, cpu, len(sent), result


def status() -> int:
    from pydantic import TypeAdapter

    from musharaka.flows.engine import records
    from musharaka.flows.views import overview
    from musharaka.state.db import read_scope

    with read_scope() as session:
        rows = overview.status_rows(records.load_plan_set(), now=NOW, session=session)
    TypeAdapter(list[overview.StatusRow]).dump_json(rows, indent=2)
    return len(rows)


def kpis() -> list[tuple[str, str]]:
    from musharaka.flows.engine import records
    from musharaka.flows.views import outcomes
    from musharaka.state.db import read_scope

    with read_scope() as session:
        report = outcomes.kpi_report(records.load_plan_set(), PERIOD, now=NOW, session=session)
    report.model_dump_json(indent=2)
    return [(row.target_text, row.actual_text) for row in report.indicators]


def verify() -> int:
    from musharaka.state.audit import file_reader, verify_database
    from musharaka.state.db import read_scope
    from musharaka.state.seal import local_fingerprint
    from musharaka.state.settings import get_settings

    settings = get_settings()
    trusted = local_fingerprint(settings.engine_key_file)
    with read_scope() as session:
        found, events, _ = verify_database(
            session, document=file_reader(settings.output_dir), root=None, engine=trusted, processes=1
        )
    assert not found, f"the synthetic log does not verify: {found[:3]}"
    return events


def expected(name: str, size: int, events: int) -> object:
    """What each measure must find, worked out from how the log was made: status lists every campaign and the
    sample programme's six not started; the KPI report counts every campaign run and, of the decisions based on
    contributions (campaign numbers not divisible by 4), the share implemented (numbers not divisible by 3);
    verify reads every event."""
    if name == "status":
        return size + 6
    if name == "kpis":
        based = [n for n in range(1, size + 1) if n % 4]
        implemented = sum(1 for n in based if n % 3)
        return [("5", str(size)), ("90%", f"{round(100 * implemented / len(based))}%"), ("100%", "100%")]
    return events


def command(argv: list[str]) -> float:
    """A CLI command as a user runs it, a process of its own: wall time in seconds."""
    began = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "musharaka"), *argv], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"musharaka {' '.join(argv)} failed: {done.stderr[-2000:]}")
    return time.perf_counter() - began


Figures = dict[str, tuple[float, float, int, float]]  # measure: in process (wall, CPU), statements, the command


def measure(url: str, chains: list[list[dict[str, Any]]], sizes: list[int], repeat: int) -> dict[int, Figures]:
    from musharaka.state.db import get_engine, reset_tables, session_scope
    from musharaka.state.projection import rebuild
    from musharaka.state.settings import get_settings
    from musharaka.state.tables import Event

    os.environ["MUSHARAKA_DATABASE_URL"] = url
    get_settings.cache_clear()
    reset_tables(get_engine(url))
    results: dict[int, Figures] = {}
    have = 0  # chains in the database: the registry's, then the campaigns'
    for size in sizes:
        began = time.perf_counter()
        rows = [row for rows in chains[have : size + 1] for row in rows]
        with session_scope() as session:
            for start in range(0, len(rows), 5000):
                session.execute(insert(Event), rows[start : start + 5000])
        have = size + 1
        with session_scope() as session:
            rebuild(session=session)
        written = time.perf_counter() - began
        figures: Figures = {}
        at = ["--now", NOW.isoformat()]
        for name, work, argv in (
            ("status", status, [*at, "status", "--json"]),
            ("kpis", kpis, [*at, "kpis", "--period", PERIOD, "--json"]),
            ("verify", verify, ["audit", "verify"]),
        ):
            elapsed, cpu, statements, said = counted(work, repeat)
            assert said == expected(name, size, sum(len(c) for c in chains[:have])), f"{name} at {size}: {said}"
            figures[name] = (elapsed, cpu, statements, command(argv))
        results[size] = figures
        line = "  ".join(f"{n} {s:.3f} s {q} statements, command {c:.2f} s" for n, (s, _, q, c) in figures.items())
        print(f"  {size:>5,} campaigns (written and rebuilt in {written:.1f} s; load {os.getloadavg()[0]:.1f}): {line}")
    get_engine(url).dispose()
    return results


def table(name: str, results: dict[int, Figures]) -> list[str]:
    """A markdown table: in process, wall time, then CPU time and, in brackets, how many times the previous size's
    CPU time it is (the campaigns grow 10x, then 5x: a smaller factor is better than linear); the statements;
    the command's wall time."""
    sizes = sorted(results)
    lines = [
        f"{name}:",
        "| measure | " + " | ".join(f"{s:,} campaigns" for s in sizes) + " |",
        "|---|" + "---:|" * len(sizes),
    ]
    for key, label in (("status", "`status --json`"), ("kpis", "KPI report"), ("verify", "`audit verify`")):
        cells = [f"{results[s][key][0] * 1000:.0f} ms" for s in sizes]
        lines.append(f"| {label}, in process, wall | " + " | ".join(cells) + " |")
        cpu = [f"{results[sizes[0]][key][1] * 1000:.0f} ms"]
        for before, size in pairwise(sizes):
            grown = results[size][key][1] / results[before][key][1]
            cpu.append(f"{results[size][key][1] * 1000:.0f} ms (x{grown:.1f} for x{size / before:.0f})")
        lines.append(f"| {label}, in process, CPU | " + " | ".join(cpu) + " |")
        lines.append(f"| {label}, SQL statements | " + " | ".join(str(results[s][key][2]) for s in sizes) + " |")
        lines.append(f"| {label}, the command | " + " | ".join(f"{results[s][key][3]:.2f} s" for s in sizes) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,100,1000,5000", help="numbers of campaigns, rising")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=3, help="in-process runs of each measure; the best is kept")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))

    home = Path(tempfile.mkdtemp(prefix="musharaka-bench-growth-"))
    shutil.copytree(ROOT / "plans", home / "plans")
    for name in [n for n in os.environ if n.startswith(("MUSHARAKA_", "PREFECT_"))]:
        del os.environ[name]
    os.environ.update(MUSHARAKA_HOME=str(home), MUSHARAKA_ALLOW_NOW="1", PREFECT_HOME=str(home / "prefect"))
    from musharaka.state.seal import current_engine_key
    from musharaka.state.settings import get_settings

    get_settings.cache_clear()
    pg_name = f"musharaka_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    try:
        print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
        began = time.perf_counter()
        chains = synthetic_log(sizes[-1], current_engine_key(get_settings().engine_key_file))
        gc.freeze()  # the log held here is no work of the measures': no collection of theirs walks it
        events = sum(len(c) for c in chains)
        print(f"{sizes[-1]:,} campaigns, {events:,} events, made and signed in {time.perf_counter() - began:.1f} s")
        tables = []
        for database in args.databases.split(","):
            if database == "sqlite":
                url = f"sqlite:///{home / 'var' / 'growth.db'}"
            else:
                with admin.connect() as connection:
                    connection.execute(text(f'CREATE DATABASE "{pg_name}"'))
                url = ADMIN.rsplit("/", 1)[0] + f"/{pg_name}"
            print(f"{database}:")
            results = measure(url, chains, sizes, args.repeat)
            for size in sizes:
                counts = {n: results[size][n][2] for n in results[size]}
                assert counts == {n: results[sizes[0]][n][2] for n in counts}, f"{database}: N+1 at {size}: {counts}"
            tables += ["", *table(database, results)]
        print("\n".join(tables))
        print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
