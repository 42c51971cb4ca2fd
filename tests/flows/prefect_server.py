"""A real Prefect server, work pool and workers for a test: every process in its own group, all stopped."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from musharaka.flows.cli.workspace import lay_out
from tests.conftest import Workspace

PREFECT = str(Path(sys.executable).parent / "prefect")
MUSHARAKA = str(Path(sys.executable).parent / "musharaka")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PrefectServer:
    """The server's address, the environment and folder every process of the test uses, and what was started."""

    api_url: str
    env: dict[str, str]
    logs: Path
    workspace: Path  # the home every process works in: prefect.yaml's, and the deployments' pull step's
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def spawn(self, name: str, *argv: str) -> subprocess.Popen[bytes]:
        """A long-running process (server, worker) in its own process group, its output in a log file."""
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(
            argv, env=self.env, cwd=self.workspace, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append(process)
        return process

    def run(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """A command that finishes (create the pool, deploy, approve), bounded in time."""
        done = subprocess.run(
            argv, env=self.env, cwd=self.workspace, capture_output=True, text=True, timeout=timeout, check=False
        )
        assert done.returncode == 0, f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        return done

    def flow_run(self, run_id: str) -> dict:  # type: ignore[type-arg]
        response = httpx.get(f"{self.api_url}/flow_runs/{run_id}", timeout=30)
        response.raise_for_status()
        return dict(response.json())

    def wait_for_run(self, run_id: str, timeout: float) -> dict:  # type: ignore[type-arg]
        """The flow run once it is final (completed, failed, crashed, cancelled), or a timeout error."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                run = self.flow_run(run_id)
            except httpx.TransportError:  # a server busy with many runs may answer late: ask again
                time.sleep(1)
                continue
            if run["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
                return run
            time.sleep(0.5)
        raise TimeoutError(f"flow run {run_id} not final after {timeout:.0f} s: {self.flow_run(run_id)['state_type']}")

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the process's whole group; kill it if it has not gone within ten seconds."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


@contextmanager
def prefect_server(
    home: Path, workspace: Workspace, *, workers: int = 1, database_url: str | None = None
) -> Iterator[PrefectServer]:
    """A server on a free loopback port with its own home (`home`) and database (SQLite unless
    `database_url`), the `musharaka` process pool, every deployment of the prefect.yaml `musharaka init`
    writes into the workspace, and `workers` workers polling the pool, all working in the workspace."""
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    home.mkdir(parents=True, exist_ok=True)
    lay_out(workspace.root)  # adds prefect.yaml beside the plans, as a ministry's own workspace has it
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MUSHARAKA_"))},
        **workspace.env(),  # MUSHARAKA_HOME: where `deploy` runs and where prefect.yaml's pull step sends the runs
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": database_url or f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_CLI_PROMPT": "false",
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "PREFECT_WORKER_PREFETCH_SECONDS": "5",
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    env.pop("PREFECT_FLOWS_HEARTBEAT_FREQUENCY")  # unset: no heartbeat thread in flow runs
    server = PrefectServer(api_url, env, home, workspace.root)
    try:
        server.spawn("server", PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port))
        _wait_healthy(server, timeout=120)
        server.run(PREFECT, "work-pool", "create", "musharaka", "--type", "process")
        server.run(PREFECT, "--no-prompt", "deploy", "--all", timeout=180)
        for number in range(workers):
            server.spawn(f"worker-{number}", PREFECT, "worker", "start", "--pool", "musharaka", "--name", f"w{number}")
        yield server
    finally:
        for process in reversed(server.processes):
            _stop(process)


def _wait_healthy(server: PrefectServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.processes[0].poll() is not None:
            raise RuntimeError(f"the Prefect server exited:\n{server.log_tail('server')}")
        try:
            if httpx.get(f"{server.api_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"the Prefect server did not answer within {timeout:.0f} s:\n{server.log_tail('server')}")
