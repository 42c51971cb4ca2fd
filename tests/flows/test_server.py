"""On a real Prefect server: an approval through the CLI runs the next stage through the lifecycle
deployment and a worker, and the campaign moves in our database; with MUSHARAKA_RUN_FLOWS_HERE the command
runs it itself, recorded on the same server."""

import json
import re
import subprocess
from pathlib import Path

import httpx
import pytest

from musharaka.flows.engine import records
from musharaka.state.db import session_scope
from musharaka.state.events import chain_problems, events_of
from tests.conftest import Workspace
from tests.flows.prefect_server import MUSHARAKA, prefect_server
from tests.flows.samples import CAMPAIGN

pytestmark = pytest.mark.server


def test_an_approval_runs_the_next_stage_on_a_worker_through_the_deployment(ws: Workspace, tmp_path: Path) -> None:
    assert ws.run("start", CAMPAIGN, now="2025-06-15T09:00+04:00").exit_code == 0  # in-process: prepare
    with prefect_server(tmp_path / "prefect", ws) as server:
        approved = server.run(
            MUSHARAKA, "--now", "2025-06-16T09:00+04:00", "approve", CAMPAIGN, "prepare", *ws.key("dg.planning")
        )
        assert "gate passed" in approved.stdout
        submitted = re.search(r"lifecycle/lifecycle deployment \(flow run ([0-9a-f-]{36})\)", approved.stdout)
        assert submitted, approved.stdout

        run = server.wait_for_run(submitted.group(1), timeout=240)
        assert run["state_type"] == "COMPLETED", server.log_tail("worker-0")
        assert run["work_pool_name"] == "musharaka"

        status = json.loads(server.run(MUSHARAKA, "status", "--json").stdout)
        row = next(r for r in status if r["campaign"] == CAMPAIGN)
        assert (row["stage"], row["status"]) == ("plan", "awaiting-gate")

        # the sweep deployment runs one at a time (prefect.yaml): the server holds it to a limit of one
        sweep = httpx.get(f"{server.api_url}/deployments/name/advance-all/advance", timeout=30).json()
        assert sweep["global_concurrency_limit"]["limit"] == 1
        assert sweep["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"

        # MUSHARAKA_RUN_FLOWS_HERE: the next stage runs in the approving command's own process, no worker
        # involved, and the server records its flow run all the same
        approver = row["gate"]["may_decide"][0].split(" ")[0]
        here = subprocess.run(
            [MUSHARAKA, "--now", "2025-06-17T09:00+04:00", "approve", CAMPAIGN, "plan", *ws.key(approver)],
            env={**server.env, "MUSHARAKA_RUN_FLOWS_HERE": "1"},
            cwd=server.workspace,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        assert here.returncode == 0, here.stdout + here.stderr
        assert "gate passed" in here.stdout and "deployment" not in here.stdout
        found = httpx.post(
            f"{server.api_url}/flow_runs/filter",
            json={"flow_runs": {"name": {"any_": [f"conduct-{CAMPAIGN}"]}}},
            timeout=30,
        ).json()
        assert [(r["state_type"], r["work_pool_name"]) for r in found] == [("COMPLETED", None)]

    with session_scope() as session:
        events = events_of(CAMPAIGN, session=session)
        assert chain_problems(events) == []
        campaign = records.campaign_state(CAMPAIGN, session=session)
    assert campaign.stage == "conduct"
    # prepare in the test's process, plan on the worker, conduct in the approving command's
    assert [e.type for e in events].count("stage.started") == 3
