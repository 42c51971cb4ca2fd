"""Two approvers deciding the same gate at the same instant, from two processes, on both databases."""

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from musharaka.state.db import session_scope
from musharaka.state.events import chain_problems, events_of
from tests.conftest import Workspace, drop_postgres_database, forget_settings, fresh_postgres_database
from tests.flows.samples import CAMPAIGN

pytestmark = pytest.mark.prefect  # runs flows on Prefect's server

# Imports first, then waits for a common instant, so both commands really start together.
AT_THE_SIGNAL = (
    "import sys, time; from musharaka.flows.cli.main import main; "
    "time.sleep(max(0.0, float(sys.argv[1]) - time.time())); main(sys.argv[2:])"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The workspace's SQLite file, or a fresh PostgreSQL database on the suite's server (skipped without one)."""
    if request.param == "sqlite" or ws.db_url.startswith("postgresql"):  # the PostgreSQL pass: already one
        yield ws.db_url
        return
    url = fresh_postgres_database()
    monkeypatch.setenv("MUSHARAKA_DATABASE_URL", url)
    forget_settings()
    ws.db_url = url
    try:
        yield url
    finally:
        drop_postgres_database(url)


def test_two_approvals_at_once_are_both_recorded_and_the_next_stage_starts_once(
    ws: Workspace, database: str, tmp_path: Path
) -> None:
    plan = ws.plans / f"campaigns/{CAMPAIGN}.yaml"
    two = "gates:\n  prepare:\n    roles: [dg-planning, director]\n    quorum: 2\n"
    plan.write_text(plan.read_text(encoding="utf-8").replace("gates:\n", two, 1), encoding="utf-8")
    assert ws.run("start", CAMPAIGN, now="2025-06-15T09:00+04:00").exit_code == 0

    signal = str(time.time() + 4)
    processes = []
    for approver in ("dg.planning", "dir.digital"):
        env = {**os.environ, "MUSHARAKA_DATABASE_URL": database, "PREFECT_HOME": str(tmp_path / approver)}
        argv = ["--now", "2025-06-16T09:00+04:00", "approve", CAMPAIGN, "prepare", *ws.key(approver)]
        processes.append(
            subprocess.Popen(
                [sys.executable, "-c", AT_THE_SIGNAL, signal, *argv],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outputs = [process.communicate(timeout=180) for process in processes]
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, out + err
    assert sum("gate passed" in out for out, _ in outputs) == 1

    with session_scope() as session:
        events = events_of(CAMPAIGN, session=session)
        assert chain_problems(events) == []
        decided = [json.loads(e.payload)["approver"] for e in events if e.type == "gate.decided"]
        started = [json.loads(e.payload)["stage"] for e in events if e.type == "stage.started"]
    assert sorted(decided) == ["dg.planning", "dir.digital"]
    assert started.count("plan") == 1
    status = json.loads(ws.run("status", "--json", now="2025-06-16T10:00+04:00").output)
    row = next(r for r in status if r["campaign"] == CAMPAIGN)
    assert (row["stage"], row["status"]) == ("plan", "awaiting-gate")
