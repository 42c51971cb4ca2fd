"""`musharaka serve` for real: the CLI finds it, hands it an advance and returns at once; the run is a
Prefect flow run under the id the CLI printed; a command with --now runs as before; the sweep moves a
campaign nobody advanced; the API wants the token; stopping the service removes its file and its
Prefect server.

One service start for the whole module: on a 2-core machine Prefect's server takes its time."""

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from musharaka.flows.service.discovery import Service, find_service
from musharaka.state.settings import get_settings
from tests.conftest import Workspace
from tests.flows.prefect_server import free_port
from tests.flows.samples import CAMPAIGN
from tests.web.software_passkey import SoftwarePasskey
from tests.web.test_sessions import decide, open_digest, sign_in

pytestmark = pytest.mark.server

SWEPT = "moheri-2025-q3-video-call"  # started without an advance: the sweep alone moves it


def _spawn_service(ws: Workspace, log: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MUSHARAKA_"))},
        **ws.env(),
        "MUSHARAKA_ALLOW_NOW": "1",
    }
    argv = [sys.executable, "-m", "musharaka.flows.cli", "serve", "--port", str(port), "--sweep-every", "2"]
    with log.open("wb") as out:
        return subprocess.Popen(
            argv, env=env, cwd=ws.root, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _wait_for_service(process: subprocess.Popen[bytes], log: Path, timeout: float) -> Service:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the service exited {process.returncode}:\n{log.read_text()}"
        service = find_service(get_settings())
        if service is not None:
            return service
        time.sleep(0.2)
    raise TimeoutError(f"no service after {timeout:.0f} s:\n{log.read_text()}")


def _wait_for_run(service: Service, run_id: str, timeout: float) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = httpx.get(f"{service.url}/api/runs/{run_id}", headers=service.headers(), timeout=10)
        assert response.status_code == 200, response.text
        run = dict(response.json())
        if run["state"] in ("completed", "failed"):
            return run
        time.sleep(0.2)
    raise TimeoutError(f"run {run_id} not finished after {timeout:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the service alone (it stops its own Prefect server); its whole group killed if it hangs."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        raise


def test_the_cli_hands_an_advance_to_the_running_service_and_the_service_cleans_up_when_stopped(
    ws: Workspace, tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    port = free_port()
    began = time.monotonic()
    process = _spawn_service(ws, log, port)
    try:
        service = _wait_for_service(process, log, timeout=240)
        started_in = time.monotonic() - began
        service_file = get_settings().service_file
        assert stat.S_IMODE(service_file.stat().st_mode) == 0o600
        prefect_api = re.search(r"Prefect at (\S+),", log.read_text())
        assert prefect_api, log.read_text()

        wrong = {"Authorization": "Bearer not-the-token"}
        refused = httpx.post(f"{service.url}/api/advance", json={"campaign_ids": [CAMPAIGN]}, headers=wrong)
        assert refused.status_code == 401 and service.token not in refused.text
        assert httpx.get(f"{service.url}/api/runs/any").status_code == 401  # no token at all

        assert ws.run("start", CAMPAIGN, "--no-advance").exit_code == 0
        asked = time.monotonic()
        handed = ws.run("advance", CAMPAIGN)
        handed_in = time.monotonic() - asked
        assert handed.exit_code == 0, handed.output
        found = re.search(rf"^{CAMPAIGN}: run ([0-9a-f-]{{36}}) handed to the service at {service.url}$", handed.output)
        assert found, handed.output
        assert handed_in < 5, f"the hand-off took {handed_in:.1f} s"

        run = _wait_for_run(service, found.group(1), timeout=120)
        finished_in = time.monotonic() - asked
        assert (run["state"], run["result"], run["message"]) == ("completed", "awaiting-gate", None), run
        assert (run["stage"], run["campaign_status"]) == ("prepare", "awaiting-gate")
        flow_run = httpx.get(f"{prefect_api.group(1)}/flow_runs/{found.group(1)}", timeout=10).json()
        assert (flow_run["name"], flow_run["state_type"]) == (f"lifecycle-{CAMPAIGN}", "COMPLETED")
        rows = {row["campaign"]: row for row in json.loads(ws.run("status", "--json").output)}
        assert (rows[CAMPAIGN]["stage"], rows[CAMPAIGN]["status"]) == ("prepare", "awaiting-gate")

        # an approver signs the gate off in the web workspace: the answer names the next stage's run,
        # which the warm service runs at once
        # with no public address set, people open the service by host name at its port, and the links
        # an administrator hands out say so
        link = ws.run("people", "invite", "dir.digital").output.strip().splitlines()[-1]
        assert link.startswith(f"http://localhost:{port}/enrol/"), link
        key = SoftwarePasskey("dg.planning", "localhost", f"http://localhost:{port}")
        key.enrol(datetime.now(UTC))
        with httpx.Client(base_url=service.url, timeout=30) as client:
            assert sign_in(client, key).status_code == 200
            digest = open_digest(client, CAMPAIGN)
            signed_at = time.monotonic()
            answer = decide(client, key, CAMPAIGN, {"decision": "approve", "digest": digest, "attempt": 1, "text": ""})
            assert answer.status_code == 200, answer.text
        run = _wait_for_run(service, answer.json()["run"], timeout=120)
        next_stage_in = time.monotonic() - signed_at
        assert (run["state"], run["stage"], run["campaign_status"]) == ("completed", "plan", "awaiting-gate"), run

        # a moved clock is for rehearsals and replays: the service acts at the clock's, so this runs here
        replayed = ws.run("advance", CAMPAIGN, now=datetime.now(UTC).isoformat())
        assert replayed.exit_code == 0 and "handed to the service" not in replayed.output, replayed.output
        assert f"{CAMPAIGN}: plan (attempt 1) awaiting-gate" in replayed.output

        assert ws.run("start", SWEPT, "--no-advance").exit_code == 0
        deadline = time.monotonic() + 120
        while rows[SWEPT]["status"] != "awaiting-gate" and time.monotonic() < deadline:
            time.sleep(0.5)
            rows = {row["campaign"]: row for row in json.loads(ws.run("status", "--json").output)}
        assert (rows[SWEPT]["stage"], rows[SWEPT]["status"]) == ("prepare", "awaiting-gate")
    finally:
        _stop(process)
    print(
        f"service up in {started_in:.1f} s; advance handed over in {handed_in:.2f} s; run done {finished_in:.1f} s; "
        f"next stage after a web approval done in {next_stage_in:.1f} s"
    )

    assert process.returncode == 0, log.read_text()
    assert not service_file.exists()
    with pytest.raises(httpx.TransportError):  # its Prefect server went with it
        httpx.get(f"{prefect_api.group(1)}/health", timeout=2)
