"""Prefect's defaults for this engine's in-process runs, set before Prefect is first imported."""

import logging
import os
from datetime import datetime

from musharaka.state.files import owner_only_folder
from musharaka.state.settings import get_settings

PREFECT_DEFAULTS = {
    # Flow-run logs go to Prefect's API; the console shows only what the engine itself reports.
    "PREFECT_LOGGING_LEVEL": "CRITICAL",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL",
    "PREFECT_INTERNAL_LOGGING_LEVEL": "CRITICAL",
    # the embedded server starts in 5-14 s on an idle machine; on a busy one Prefect's own 60 s can run out
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
}


# The embedded server's event services (task-run recorder, event persister, triggers, actions) write
# to its SQLite database while this process creates the next flow run; SQLite then refuses one of the
# two writes ("database is locked"), the server answers 503 and Prefect's client waits 2 s to retry -
# most of a stage's orchestration cost when it happens. In-process runs need none of them: flow runs
# and their states are still recorded. A real server (PREFECT_API_URL) keeps its own settings.
EMBEDDED_SERVER_DEFAULTS = {
    f"PREFECT_SERVER_SERVICES_{service}_ENABLED": "false"
    for service in ("TASK_RUN_RECORDER", "EVENT_PERSISTER", "TRIGGERS", "ACTIONS")
}


def apply_prefect_defaults() -> None:
    """The defaults above, without overriding what an operator has set; before Prefect is imported."""
    defaults = PREFECT_DEFAULTS if "PREFECT_API_URL" in os.environ else PREFECT_DEFAULTS | EMBEDDED_SERVER_DEFAULTS
    for key, value in defaults.items():
        if key not in os.environ:
            os.environ[key] = value
            SET_HERE.add(key)


SET_HERE: set[str] = set()
"""The defaults this process set, as opposed to an operator's settings."""


def real_server_environment(env: dict[str, str]) -> dict[str, str]:
    """`env` for a Prefect server of its own process (`musharaka serve` starts one). On a PostgreSQL
    database it records task runs, as any Prefect server does, and its UI shows each stage's activities:
    the embedded server's default this process set for the recorder is dropped. On SQLite the recorder's
    writes queue with the runs' own (+1.7 s a stage measured, BENCHMARKS.md), so it stays off there unless
    the operator turns it on."""
    database = env.get("PREFECT_API_DATABASE_CONNECTION_URL", "")
    if not database.startswith("postgresql"):
        return env
    recorder = "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED"
    return {key: value for key, value in env.items() if key != recorder or key not in SET_HERE}


def configure_prefect() -> None:
    """Apply the defaults; keep Prefect's home beside ours unless PREFECT_HOME says otherwise."""
    apply_prefect_defaults()
    home = owner_only_folder(get_settings().home / "var" / "prefect")
    os.environ.setdefault("PREFECT_HOME", str(home))


class _OursOrWarnings(logging.Filter):
    """Passes what the engine's flows and tasks log, and Prefect's own warnings and errors; not Prefect's
    notes on every run ("Beginning flow run", "Finished in state Completed()"), which the UI shows as
    states already. Each record sent costs the server a write, which queues with the runs' own."""

    def __init__(self, prefect_folder: str) -> None:
        super().__init__()
        self.prefect_folder = prefect_folder

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not record.pathname.startswith(self.prefect_folder)


def run_logs_to_prefect() -> None:
    """What flows and tasks log through Prefect's run logger, from INFO up, to Prefect's API (its UI shows
    it beside each run) and not to the console, which shows only what the engine reports. Called once
    Prefect is imported: its logging set-up on import would undo it."""
    import prefect  # imported already: this only names its folder

    folder = os.path.dirname(prefect.__file__) + os.sep
    for name in ("prefect.flow_runs", "prefect.task_runs"):
        run_logger = logging.getLogger(name)
        run_logger.setLevel(logging.INFO)
        run_logger.propagate = False
        for handler in run_logger.handlers:  # on the API's handler: a handler of one's own still sees it all
            if not any(isinstance(f, _OursOrWarnings) for f in handler.filters):
                handler.addFilter(_OursOrWarnings(folder))


LIFECYCLE_DEPLOYMENT = "lifecycle/lifecycle"  # flow name / deployment name in prefect.yaml


def server_configured() -> bool:
    """Whether runs go to a Prefect server's workers: PREFECT_API_URL names one, and MUSHARAKA_RUN_FLOWS_HERE
    does not keep them in this process (which then records them on that server)."""
    from prefect.settings import get_current_settings

    return get_current_settings().api.url is not None and not get_settings().run_flows_here


def submit_lifecycles(campaign_ids: list[str], now: datetime) -> dict[str, str]:
    """One run of the lifecycle deployment per campaign, for a worker to pick up; their flow-run ids.

    Each run acts at `now`, as the in-process run would; the command does not wait for it.
    """
    from prefect.deployments import run_deployment

    submitted = {}
    for campaign_id in campaign_ids:
        run = run_deployment(
            LIFECYCLE_DEPLOYMENT,
            parameters={"campaign_id": campaign_id, "now": now},
            timeout=0,
            flow_run_name=f"lifecycle-{campaign_id}",
        )
        submitted[campaign_id] = str(run.id)  # type: ignore[union-attr]  # called from sync code: a FlowRun
    return submitted
