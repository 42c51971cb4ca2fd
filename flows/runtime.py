"""Prefect's defaults for this engine's in-process runs, set before Prefect is first imported."""

import os

from state.settings import get_settings

PREFECT_DEFAULTS = {
    # Flow-run logs go to Prefect's API; the console shows only what the engine itself reports.
    "PREFECT_LOGGING_LEVEL": "CRITICAL",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL",
    "PREFECT_INTERNAL_LOGGING_LEVEL": "CRITICAL",
    # the embedded server starts in 5-14 s on an idle machine; on a busy one Prefect's own 60 s can run out
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
}


def configure_prefect() -> None:
    """Apply the defaults without overriding what an operator has set; keep Prefect's home beside ours."""
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    home = get_settings().home / "var" / "prefect"
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_HOME", str(home))
