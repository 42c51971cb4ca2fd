"""Prefect kept warm for the service's life: the server PREFECT_API_URL names, else one of our own.

A CLI command in Prefect's ephemeral mode starts an embedded server for each run (5-14 s on an idle
machine, over a minute on a busy one). The service pays that once: it starts `prefect server start` as
a child process and points this process at it, so every later flow run only talks to a server that is
already up. Call `warm_prefect` before Prefect is imported: Prefect reads its settings on import.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from musharaka.flows import runtime
from musharaka.state.settings import get_settings

STARTUP_TIMEOUT_SECONDS = 180.0  # a loaded 2-core machine has taken over a minute
STOP_GRACE_SECONDS = 10.0


class PrefectUnavailable(RuntimeError):
    """Prefect's server cannot be reached or started; the message says which and where to look."""


@dataclass
class WarmPrefect:
    """The server this process uses: its API address, and the child process if we started it."""

    api_url: str
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    def stop(self) -> None:
        """Stop our child server (its whole process group): SIGTERM, then SIGKILL if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_GRACE_SECONDS)
        except ProcessLookupError:  # already gone
            pass


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    """Whether the Prefect API at `api_url` (ending in /api) answers its health check."""
    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _tail(path: Path, lines: int = 20) -> str:
    if not path.exists():
        return "(the log is empty)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) or "(the log is empty)"


def start_server(*, timeout: float = STARTUP_TIMEOUT_SECONDS) -> WarmPrefect:
    """`prefect server start` on a free loopback port, in its own process group, logging to
    home/var/prefect-server.log; returns once its API answers, or raises naming the log."""
    var = get_settings().home / "var"
    log_path = var / "prefect-server.log"
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = runtime.real_server_environment(dict(os.environ))
    env.pop("PREFECT_API_URL", None)
    # the engine's console stays quiet (CRITICAL); the server's own log file should say why it failed
    if os.environ.get("PREFECT_SERVER_LOGGING_LEVEL") == runtime.PREFECT_DEFAULTS["PREFECT_SERVER_LOGGING_LEVEL"]:
        env["PREFECT_SERVER_LOGGING_LEVEL"] = "WARNING"
    argv = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    warm = WarmPrefect(api_url, process, log_path)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise PrefectUnavailable(
                    f"Prefect's server exited with code {process.returncode} while starting; "
                    f"its log, {log_path}, ends:\n{_tail(log_path)}"
                )
            if healthy(api_url):
                return warm
            time.sleep(0.5)
        raise PrefectUnavailable(
            f"Prefect's server did not answer {api_url}/health within {timeout:.0f} s; "
            f"its log, {log_path}, ends:\n{_tail(log_path)}"
        )
    except BaseException:  # a timeout, or Ctrl-C while waiting: leave no server behind
        warm.stop()
        raise


@contextmanager
def warm_prefect(*, timeout: float = STARTUP_TIMEOUT_SECONDS) -> Iterator[WarmPrefect]:
    """Prefect ready for this process until the block ends: PREFECT_API_URL's server if set (it must
    answer), else a child server of our own, stopped when the block ends."""
    if "prefect" in sys.modules:  # its settings are fixed: PREFECT_API_URL set now would not be seen
        raise RuntimeError("warm_prefect must run before Prefect is imported: Prefect reads its settings on import")
    runtime.configure_prefect()  # the engine's defaults and PREFECT_HOME under home/var/prefect
    configured = os.environ.get("PREFECT_API_URL")
    if configured:
        if not healthy(configured, timeout=5.0):
            raise PrefectUnavailable(
                f"PREFECT_API_URL={configured}: no answer from {configured.rstrip('/')}/health; "
                "start that server, or unset PREFECT_API_URL to let the service start its own"
            )
        yield WarmPrefect(configured)
        return
    warm = start_server(timeout=timeout)
    os.environ["PREFECT_API_URL"] = warm.api_url
    try:
        yield warm
    finally:
        _send_pending_logs()
        os.environ.pop("PREFECT_API_URL", None)
        warm.stop()


def _send_pending_logs(timeout: float = 5.0) -> None:
    """The run logs not yet sent, sent while the server still answers: once it has stopped, Prefect would
    try again and again at the process's exit, for minutes."""
    if "prefect.logging.handlers" not in sys.modules:
        return
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=timeout, at_exit=False)
