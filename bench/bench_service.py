"""The warm service: approvals in the web workspace, the next stage's run, the inbox over 1,000 gates,
and the same approval through the CLI without a service, in one run.

    .venv/bin/python bench/bench_service.py          # [--approvals 10] [--cli 5] [--inbox 1000] [--keep]

A workspace of its own in a temporary folder (the sample plans, every approver with an Ed25519 key,
the satisfaction survey's plan copied under new ids), SQLite under its var/. 1,000 campaigns at an
open prepare gate are written as synthetic events (hashed and chained as `append` does, projected by
`state.projection.rebuild`); the campaigns approved below are started for real and run to their
prepare gate by the service. `musharaka serve` runs as a process of its own; dg.planning enrols a
software passkey and signs in over HTTP as a browser does, twice: on a connection kept alive (as a
browser keeps it) and with a new connection for every request. It times, on both:
  baseline   GET /api/health, a bare round trip to the same server;
  web        POST /gates/C/prepare/decision and POST /gates/C/prepare/sign (the passkey's assertion),
             each approval of a campaign of its own; then, from the /sign answer, the next stage's run
             (named in the answer) to its end, by the service's own record of when it finished;
  inbox      GET / as dg.planning, with over 1,000 open gates theirs to decide (the rows are counted);
and then
  CLI        `musharaka approve C prepare --as dg.planning --key KEY`, a process of its own from start
             to exit: with the service running (it hands the run over and returns), then with the
             service stopped (Prefect's embedded server started inside the command, the plan stage run).
"""

import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# bench/ and tests/ are not installed: their helpers come from the checkout this script runs in
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from bench.chains import Item, add_chain  # noqa: E402
from musharaka.flows.cli.workspace import lay_out  # noqa: E402

# tests.conftest sets MUSHARAKA_HOME and PREFECT_HOME for a test session when imported: main() sets
# this benchmark's own afterwards
from tests.conftest import give_keys  # noqa: E402

TEMPLATE = "moheri-2025-q3-satisfaction"
MUSHARAKA = str(Path(sys.executable).parent / "musharaka")
MODES = ("kept", "new")  # the HTTP connection: kept alive (a browser), or new for each request
APPROVER = "dg.planning"  # decides the default prepare gate (role dg-planning, quorum 1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def workspace(home: Path, campaigns: list[str]) -> Path:
    """The sample plans with keys for every approver, and the template's plan under each new id; dg.planning's key."""
    lay_out(home)
    keys = give_keys(home / "plans" / "approvers.yaml", home / "keys")
    source = (home / "plans" / "campaigns" / f"{TEMPLATE}.yaml").read_text(encoding="utf-8")
    for campaign_id in campaigns:
        text = re.sub(r"^id: .*$", f"id: {campaign_id}", source, count=1, flags=re.MULTILINE)
        (home / "plans" / "campaigns" / f"{campaign_id}.yaml").write_text(text, encoding="utf-8")
    return keys[APPROVER]


def open_gates(count: int, now: datetime) -> None:
    """`count` campaigns at an open prepare gate (dg.planning's to decide), as synthetic events, projected by
    `rebuild`: the payloads `append` would write for a start, the prepare stage run and its gate opened."""
    from musharaka.flows.engine import records
    from musharaka.flows.engine.campaigns import plan_json
    from musharaka.stages.calendars import calendar_of
    from musharaka.stages.gates import due_at
    from musharaka.state.db import session_scope
    from musharaka.state.events import CampaignStarted, GateOpened, StageCompleted, StageStarted, digest
    from musharaka.state.projection import rebuild
    from musharaka.state.tables import Event

    template = records.load_plan_set().campaigns[TEMPLATE]
    policy = template.gates.for_stage("prepare")
    due = due_at(now, policy, template.window.timezone, calendar_of(template))
    outputs = {"note": "synthetic prepare outputs"}
    rows: list[dict[str, Any]] = []
    for campaign_id in [f"inbox-{n:05d}" for n in range(count)]:
        body = plan_json(template) | {"id": campaign_id}
        plan_digest = digest(body)
        owner = template.owner
        payloads: list[tuple[str, Any]] = [
            (owner, CampaignStarted(plan=body, plan_digest=plan_digest)),
            (owner, StageStarted(stage="prepare", attempt=1, submitter=owner, plan_digest=plan_digest)),
            (
                owner,
                StageCompleted(
                    stage="prepare", attempt=1, outputs=outputs, outputs_digest=digest(outputs), documents=[]
                ),
            ),
            (
                "engine",
                GateOpened(
                    stage="prepare",
                    attempt=1,
                    policy=policy.model_dump(mode="json"),
                    due_at=due,
                    submitter=owner,
                    outputs_digest=digest(outputs),
                ),
            ),
        ]
        items: list[Item] = [(actor, p.TYPE, p.model_dump(mode="json")) for actor, p in payloads]
        add_chain(rows, campaign_id, items, lambda _: now)
    with session_scope() as session:
        for start in range(0, len(rows), 5000):
            session.execute(insert(Event), rows[start : start + 5000])
        rebuild(session=session)


def start_campaigns(campaign_ids: list[str], now: datetime) -> None:
    """Started as `musharaka start --no-advance` records it; the service's sweep or an advance runs them."""
    from musharaka.flows.engine import campaigns, records
    from musharaka.state.db import session_scope

    plans = records.load_plan_set()
    for campaign_id in campaign_ids:
        plan = plans.campaigns[campaign_id]
        with session_scope() as session:
            campaigns.start(plan, actor=plan.owner, registry=plans.registry, now=now, session=session)


@contextmanager
def service(home: Path, port: int, env: dict[str, str]) -> Iterator[tuple[Any, float]]:
    """`musharaka serve` as a process of its own, until the block ends (SIGTERM; its group killed if it hangs)."""
    from musharaka.flows.service.discovery import find_service
    from musharaka.state.settings import get_settings

    log = home / "serve.log"
    began = time.perf_counter()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [MUSHARAKA, "serve", "--port", str(port)],
            env=env,
            cwd=home,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 240
        found = None
        while found is None:
            if process.poll() is not None:
                raise RuntimeError(f"the service exited {process.returncode}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no service after 240 s:\n{log.read_text()}")
            found = find_service(get_settings())
            time.sleep(0.1)
        yield found, time.perf_counter() - began
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        if process.returncode != 0:
            print(f"the service exited {process.returncode}:\n{log.read_text()}", file=sys.stderr)


def wait_for(client: httpx.Client, headers: dict[str, str], run_id: str, every: float = 0.05) -> dict[str, Any]:
    """The run's status once it has finished, asked every `every` seconds."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        answer = client.get(f"/api/runs/{run_id}", headers=headers)
        answer.raise_for_status()
        run: dict[str, Any] = answer.json()
        if run["state"] in ("completed", "failed"):
            return run
        time.sleep(every)
    raise TimeoutError(f"run {run_id} not finished after 120 s")


def timed(request: Callable[..., httpx.Response], *args: Any, **kwargs: Any) -> tuple[float, httpx.Response]:
    """The request's round trip in seconds, and its answer (which must be a 200)."""
    began = time.perf_counter()
    response = request(*args, **kwargs)
    elapsed = time.perf_counter() - began
    assert response.status_code == 200, (response.status_code, response.text[:500])
    return elapsed, response


def csrf_of(page: httpx.Response) -> str:
    """The session's CSRF token, from the page's <meta name="csrf">."""
    found = re.search(r'<meta name="csrf" content="([^"]+)">', page.text)
    assert found, page.text[:300]
    return found.group(1)


def sign_in(client: httpx.Client, key: Any) -> None:
    """Signed in with the passkey, as the browser does it (tests/web/test_sessions.py); the cookie stays in `client`."""
    headers = {"X-CSRF-Token": csrf_of(client.get("/signin"))}
    options = client.post("/signin/options", json={"person": key.person}, headers=headers)
    assert options.status_code == 200, options.text
    signed = client.post("/signin", json={"person": key.person, "credential": key.get(options.json())}, headers=headers)
    assert signed.status_code == 200, signed.text


def approve_on_the_web(
    client: httpx.Client, poll: httpx.Client, key: Any, api: dict[str, str], campaign_id: str
) -> dict[str, float]:
    """One approval as the browser makes it, then its next stage's run to the end; the times, in seconds."""
    gate = f"/gates/{campaign_id}/prepare"
    page = client.get(gate)
    found = re.search(r'id="digest">([0-9a-f]{64})<', page.text)
    assert found, page.text[:500]
    headers = {"X-CSRF-Token": csrf_of(page)}
    body = {"decision": "approve", "digest": found.group(1), "attempt": 1, "text": ""}
    decision, options = timed(client.post, f"{gate}/decision", json=body, headers=headers)
    credential = key.get(options.json())  # the passkey signs: the person's device, not the service
    sign, answer = timed(client.post, f"{gate}/sign", json={"credential": credential}, headers=headers)
    answered = datetime.now(UTC)
    run_id = answer.json()["run"]
    assert run_id, answer.text
    run = wait_for(poll, api, run_id)
    assert (run["state"], run["stage"], run["campaign_status"]) == ("completed", "plan", "awaiting-gate"), run
    finished = datetime.fromisoformat(run["finished_at"])
    return {"decision": decision, "sign": sign, "both": decision + sign, "run": (finished - answered).total_seconds()}


def approve_by_command(campaign_id: str, key: Path, env: dict[str, str]) -> tuple[float, datetime, str]:
    """`musharaka approve` as a process of its own: its time from start to exit, when it started, its output."""
    argv = [MUSHARAKA, "approve", campaign_id, "prepare", "--as", APPROVER, "--key", str(key)]
    started = datetime.now(UTC)
    began = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - began
    assert done.returncode == 0, done.stdout + done.stderr
    return elapsed, started, done.stdout


def stands(campaign_id: str) -> tuple[str, str]:
    """The campaign's stage and status, read from the database."""
    from musharaka.state.db import session_scope
    from musharaka.state.tables import CampaignState

    with session_scope() as session:
        state = session.get(CampaignState, campaign_id)
        assert state is not None
        return state.stage, state.status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--approvals", type=int, default=10, help="approvals in the web workspace, on each kind of connection"
    )
    parser.add_argument("--cli", type=int, default=5, help="approvals by command, with and without the service")
    parser.add_argument("--inbox", type=int, default=1000, help="campaigns at an open gate, written as events")
    parser.add_argument("--keep", action="store_true", help="keep the workspace; print its folder")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="musharaka-bench-service-"))
    port = free_port()
    for name in [n for n in os.environ if n.startswith(("MUSHARAKA_", "PREFECT_"))]:
        del os.environ[name]
    os.environ.update(
        MUSHARAKA_HOME=str(home),
        MUSHARAKA_PUBLIC_URL=f"http://localhost:{port}",  # passkeys are made for a host name, never an IP
        PREFECT_HOME=str(home / "prefect"),
    )
    from musharaka.state.settings import get_settings

    get_settings.cache_clear()
    try:
        run(args, home, port)
    finally:
        if args.keep:
            print(f"kept: MUSHARAKA_HOME={home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


def run(args: argparse.Namespace, home: Path, port: int) -> None:
    web = {mode: [f"web-{mode}-{n:03d}" for n in range(args.approvals)] for mode in MODES}
    handed = [f"cli-served-{n:03d}" for n in range(args.cli)]
    alone = [f"cli-alone-{n:03d}" for n in range(args.cli)]
    everyone = web["kept"] + web["new"] + handed + alone
    key_file = workspace(home, everyone)
    now = datetime.now(UTC)
    began = time.perf_counter()
    open_gates(args.inbox, now)
    synthetic = time.perf_counter() - began
    start_campaigns(everyone, now)
    env = dict(os.environ)
    load = os.getloadavg()[0]
    timings: dict[str, list[float]] = {}
    with service(home, port, env) as (found, up_in):
        rows = on_the_web(found, web, everyone, args.inbox, timings)
        with httpx.Client(base_url=found.url, timeout=60) as poll:
            for campaign_id in handed:  # the command hands the run to the service and returns
                elapsed, started, output = approve_by_command(campaign_id, key_file, env)
                given = re.search(r"run ([0-9a-f-]{36}) handed to the service", output)
                assert given, output
                ended = wait_for(poll, found.headers(), given.group(1))
                assert (ended["stage"], ended["campaign_status"]) == ("plan", "awaiting-gate"), ended
                timings.setdefault("cli served", []).append(elapsed)
                finished = datetime.fromisoformat(ended["finished_at"])
                timings.setdefault("cli served run", []).append((finished - started).total_seconds())
    for campaign_id in alone:  # the service has stopped: each command starts Prefect's embedded server
        elapsed, _, output = approve_by_command(campaign_id, key_file, env)
        assert stands(campaign_id) == ("plan", "awaiting-gate"), output
        timings.setdefault("cli alone", []).append(elapsed)
    loads = f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after (2 cores)"
    print(
        f"{args.inbox:,} campaigns at an open gate written in {synthetic:.1f} s; service up in {up_in:.1f} s; "
        f"{len(everyone)} campaigns started and run to their prepare gate by it; {loads}"
    )
    report(timings, rows)


def on_the_web(
    found: Any, web: dict[str, list[str]], started: list[str], inbox: int, timings: dict[str, list[float]]
) -> int:
    """The started campaigns run to their gate by the service; then the web figures, into `timings`; the
    number of rows the inbox lists."""
    from musharaka.state.settings import get_settings
    from tests.web.software_passkey import SoftwarePasskey

    api = found.headers()
    with contextlib.ExitStack() as stack:
        # as a browser does, one connection kept alive; and a new connection for every request
        clients = {
            "kept": stack.enter_context(httpx.Client(base_url=found.url, timeout=60)),
            "new": stack.enter_context(
                httpx.Client(base_url=found.url, timeout=60, limits=httpx.Limits(max_keepalive_connections=0))
            ),
        }
        poll = clients["new"]
        # the sweep may have queued some already: an advance then answers with the queued run
        advanced = poll.post("/api/advance", json={"campaign_ids": started}, headers=api)
        assert advanced.status_code == 200, advanced.text
        for campaign_id, run_id in advanced.json()["runs"].items():
            ready = wait_for(poll, api, run_id, every=0.2)
            assert (ready["stage"], ready["campaign_status"]) == ("prepare", "awaiting-gate"), (campaign_id, ready)

        key = SoftwarePasskey(APPROVER, "localhost", get_settings().public_url)
        key.enrol(datetime.now(UTC))
        for client in clients.values():
            sign_in(client, key)
            for _ in range(3):  # warm: the first requests of a session load templates and plans
                client.get("/api/health")
                client.get("/")
        for _ in range(30):
            for mode, client in clients.items():
                timings.setdefault(f"health {mode}", []).append(timed(client.get, "/api/health")[0])
        for pair in zip(web["kept"], web["new"], strict=True):  # alternated: the machine's load falls on both
            for mode, campaign_id in zip(MODES, pair, strict=True):
                for name, seconds in approve_on_the_web(clients[mode], poll, key, api, campaign_id).items():
                    timings.setdefault(f"{name} {mode}", []).append(seconds)
        rows = 0
        for _ in range(20):
            for mode, client in clients.items():
                elapsed, page = timed(client.get, "/")
                timings.setdefault(f"inbox {mode}", []).append(elapsed)
                rows = len(re.findall(r"<tr[ >]", page.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]))
                assert rows >= inbox, f"the inbox lists {rows} rows"
    return rows


def report(timings: dict[str, list[float]], rows: int) -> None:
    base = {mode: statistics.median(timings[f"health {mode}"]) for mode in MODES}
    print(f"\n{'':<54} {'connection kept alive':>25} {'a connection per request':>25}")
    print(f"{'measured, milliseconds':<54}" + f" {'median':>8} {'max':>8} {'ratio':>7}" * 2)
    for label, name in (
        ("baseline: GET /api/health", "health"),
        ("POST /gates/C/prepare/decision", "decision"),
        ("POST /gates/C/prepare/sign", "sign"),
        ("the approval: both requests", "both"),
        ("from the /sign answer to the next stage's run's end", "run"),
        (f"GET / (the inbox, {rows:,} rows)", "inbox"),
    ):
        cells = ""
        for mode in MODES:
            values = timings[f"{name} {mode}"]
            middle, worst = statistics.median(values), max(values)
            cells += f" {middle * 1000:>8.1f} {worst * 1000:>8.1f} {middle / base[mode]:>6.1f}x"
        print(f"{label:<54}{cells}")

    web = [a + b for a, b in zip(timings["both kept"], timings["run kept"], strict=True)]
    baseline = statistics.median(web)
    print(
        f"\n{'the approval until the next stage has run, seconds':<54} {'n':>3} {'median':>8} {'max':>8} {'ratio':>7}"
    )
    for label, values in (
        ("baseline: web, both requests + the run (kept alive)", web),
        ("musharaka approve, the service running: its exit", timings["cli served"]),
        ("  the same, until the run it handed over has ended", timings["cli served run"]),
        ("musharaka approve, no service (the run done at exit)", timings["cli alone"]),
    ):
        middle = statistics.median(values)
        print(f"{label:<54} {len(values):>3} {middle:>8.2f} {max(values):>8.2f} {middle / baseline:>6.1f}x")


if __name__ == "__main__":
    main()
