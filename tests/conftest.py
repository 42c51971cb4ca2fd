"""Every test gets its own database, plans folder and output folder; Prefect runs in a shared temp home."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from flows.cli import main
from state.db import get_engine
from state.settings import PROJECT_ROOT, get_settings

# Prefect reads these when it is first imported; one ephemeral server serves the whole session.
_PREFECT_HOME = tempfile.mkdtemp(prefix="musharaka-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "CRITICAL")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@dataclass
class Workspace:
    """A test's own copy of the plans, with its database and output folder."""

    root: Path
    plans: Path
    out: Path
    db_url: str

    def run(self, *args: str, now: str | None = None) -> Result:
        """Invoke the CLI as a user would; `now` fixes the instant the command acts at."""
        argv = (["--now", now] if now else []) + list(args)
        return CliRunner().invoke(main, argv, catch_exceptions=False)

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    plans = tmp_path / "plans"
    shutil.copytree(PROJECT_ROOT / "plans", plans)
    workspace = Workspace(tmp_path, plans, tmp_path / "out", f"sqlite:///{tmp_path / 'state.db'}")
    monkeypatch.setenv("MUSHARAKA_PLANS_DIR", str(plans))
    monkeypatch.setenv("MUSHARAKA_OUTPUT_DIR", str(workspace.out))
    monkeypatch.setenv("MUSHARAKA_DATABASE_URL", workspace.db_url)
    get_settings.cache_clear()
    yield workspace
    get_engine(workspace.db_url).dispose()
    get_settings.cache_clear()
