"""At scale, on PostgreSQL: three workers advance six campaigns while approvers sign gates and
contributions are ingested, all in processes of their own; nothing is lost or forked."""

import json
import re
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from musharaka.state.db import session_scope
from musharaka.state.events import chain_problems, events_of
from musharaka.state.settings import get_settings
from tests.conftest import Workspace, drop_postgres_database, fresh_postgres_database
from tests.flows.prefect_server import MUSHARAKA, PREFECT, PrefectServer, prefect_server
from tests.flows.samples import CAMPAIGN, CONTRIBUTIONS

pytestmark = pytest.mark.server

NOW = "2025-08-16T09:00+04:00"
RUN_ID = re.compile(r"flow run ([0-9a-f-]{36})")


@pytest.fixture
def on_postgres(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """The workspace on a PostgreSQL database, whichever database the suite runs on."""
    if ws.db_url.startswith("postgresql"):
        yield ws
        return
    url = fresh_postgres_database()
    monkeypatch.setenv("MUSHARAKA_DATABASE_URL", url)
    get_settings.cache_clear()
    ws.db_url = url
    try:
        yield ws
    finally:
        drop_postgres_database(url)


def _stage_attempt(payload: str) -> tuple[str, int]:
    body = json.loads(payload)
    return body["stage"], body["attempt"]


def _approver(ws: Workspace, campaign: str, stage: str) -> list[str]:
    """Who may decide the campaign's open gate at `NOW`, as `status` lists them."""
    rows = json.loads(ws.run("status", "--json", now=NOW).output)
    gate = next(r for r in rows if r["campaign"] == campaign)["gate"]
    assert gate["stage"] == stage, gate
    return [name.split(" ")[0] for name in gate["may_decide"]]


def _at_once(server: PrefectServer, commands: list[list[str]]) -> list[subprocess.CompletedProcess[str]]:
    """Start every command together and wait for all within one deadline; any still running then is
    killed, so none outlives the test holding database connections, and the test fails naming it."""
    started = [
        subprocess.Popen(
            argv, env=server.env, cwd=server.workspace, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for argv in commands
    ]
    deadline = time.monotonic() + 300
    finished = []
    try:
        for argv, process in zip(commands, started, strict=True):
            try:
                out, err = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise AssertionError(f"{argv} still running after 300 s:\n{server.log_tail('server')}") from None
            finished.append(subprocess.CompletedProcess(argv, process.returncode, out, err))
    finally:
        for process in started:  # one that ran out of time is not left running once the server is gone
            if process.poll() is None:
                process.kill()
                process.communicate()
    return finished


def _advance(server: PrefectServer, campaign: str) -> list[str]:
    """`musharaka advance`, as an approval whose next stage was not submitted says to run; a server too
    busy to take it (503 after its client's retries) gets two more tries. The flow-run ids it submitted."""
    argv = [MUSHARAKA, "--now", NOW, "advance", campaign]
    for _ in range(3):
        done = subprocess.run(
            argv, env=server.env, cwd=server.workspace, capture_output=True, text=True, timeout=240, check=False
        )
        if done.returncode == 0:
            return RUN_ID.findall(done.stdout)
    raise AssertionError(f"{argv} exited {done.returncode}:\n{done.stdout}{done.stderr}")


def _round(ws: Workspace, server: PrefectServer, stage: str, campaigns: list[str], extra: list[list[str]]) -> None:
    """Approve `stage` of every campaign at once (two approvers on some), with `extra` commands alongside;
    then wait for every flow run the approvals and an `advance` sweep submitted."""
    approvals = []
    for number, campaign in enumerate(campaigns):
        allowed = _approver(ws, campaign, stage)
        for approver in allowed[: 2 if number % 2 == 0 else 1]:
            approvals.append([MUSHARAKA, "--now", NOW, "approve", campaign, stage, *ws.key(approver)])
    sweep = [PREFECT, "deployment", "run", "advance-all/advance", "--param", f"now={NOW}"]
    results = _at_once(server, [*approvals, *extra, sweep])
    for result in results[len(approvals) :]:
        assert result.returncode == 0, f"{result.args}: {result.stdout}{result.stderr}"
    run_ids = []
    for result in results:
        # a second approver may find the gate already passed: refused (1) is fine, anything else is not
        assert result.returncode in (0, 1), f"{result.args}: {result.stdout}{result.stderr}"
        run_ids += RUN_ID.findall(result.stdout) + re.findall(r"UUID: ([0-9a-f-]{36})", result.stdout)
    assert sum(r.returncode == 0 and "approve" in r.args for r in results) >= len(campaigns)
    for result in results:
        if "the next stage did not run" in result.stderr:  # recorded, but the server did not take the run
            run_ids += _advance(server, result.args[result.args.index("approve") + 1])
    for run_id in run_ids:
        run = server.wait_for_run(run_id, timeout=300)
        workers = "\n".join(server.log_tail(f"worker-{n}") for n in range(3))
        assert run["state_type"] == "COMPLETED", (run["name"], (run.get("state") or {}).get("message"), workers)


def test_workers_approvers_and_ingestions_at_once_lose_and_fork_nothing(on_postgres: Workspace, tmp_path: Path) -> None:
    ws = on_postgres
    campaigns = [r["campaign"] for r in json.loads(ws.run("status", "--json", now=NOW).output)]
    assert len(campaigns) == 6
    for campaign in campaigns:
        assert ws.run("start", campaign, now="2025-06-15T09:00+04:00").exit_code == 0  # prepare, to its gate
    header, *rows = CONTRIBUTIONS.splitlines()
    batches = [ws.write(f"batch-{n}.csv", "\n".join([header, *rows[n::3]]) + "\n") for n in range(3)]
    ingest = [[MUSHARAKA, "--now", NOW, "submit", CAMPAIGN, "conduct", str(path)] for path in batches]

    # Prefect's own database on PostgreSQL too: on SQLite, a slow machine's writers (server services, three
    # workers, a dozen commands) wait on one lock until the server answers 503 past its clients' retries.
    prefect_database = fresh_postgres_database()
    started = time.monotonic()
    try:
        with prefect_server(
            tmp_path / "prefect", ws, workers=3, database_url=prefect_database.replace("+psycopg", "+asyncpg")
        ) as server:
            _round(ws, server, "prepare", campaigns, ingest)
            _round(ws, server, "plan", campaigns, [])
    finally:
        drop_postgres_database(prefect_database)
    assert time.monotonic() - started < 900

    assert ws.run("audit", "verify").exit_code == 0
    with session_scope() as session:
        for campaign in campaigns:
            events = events_of(campaign, session=session)
            assert chain_problems(events) == []
            assert [e.seq for e in events] == list(range(1, len(events) + 1))
            for kind in ("gate.opened", "stage.started", "stage.completed"):
                counts = Counter(_stage_attempt(e.payload) for e in events if e.type == kind)
                assert set(counts.values()) == {1}, (campaign, kind, counts)  # each once, never twice
            opened = {_stage_attempt(e.payload) for e in events if e.type == "gate.opened"}
            assert {("prepare", 1), ("plan", 1)} <= opened
    status = {r["campaign"]: r for r in json.loads(ws.run("status", "--json", now=NOW).output)}
    assert all(row["stage"] == "conduct" for row in status.values()), status
    ingested = json.loads(ws.run("history", CAMPAIGN, "--json").output)
    assert [e["type"] for e in ingested].count("contributions.ingested") == 3
