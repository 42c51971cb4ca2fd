"""Every test gets its own database, plans folder and output folder; Prefect runs in a shared temp home."""

import atexit
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from ruamel.yaml import YAML
from sqlalchemy import create_engine, text

from flows import runtime
from flows.cli import main
from state.db import get_engine
from state.settings import PROJECT_ROOT, get_settings
from state.signing import new_key_pair

# Prefect reads these when it is first imported; one ephemeral server serves the whole session.
_PREFECT_HOME = tempfile.mkdtemp(prefix="musharaka-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
runtime.apply_prefect_defaults()

# `MUSHARAKA_TEST_POSTGRES=postgresql+psycopg://postgres@127.0.0.1:5432/test make test-postgres` runs the
# suite again with each workspace on a fresh PostgreSQL database of that server (dropped afterwards).
POSTGRES_ADMIN_URL = os.environ.get("MUSHARAKA_TEST_POSTGRES", "")
_created_databases: list[str] = []


MACHINE_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def fresh_postgres_database() -> str:
    """A new, empty database on the PostgreSQL server the suite runs against (else the machine's); its URL."""
    name = f"musharaka_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL or MACHINE_POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    _created_databases.append(name)
    return (POSTGRES_ADMIN_URL or MACHINE_POSTGRES).rsplit("/", 1)[0] + f"/{name}"


def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    get_engine(url).dispose()
    admin = create_engine(POSTGRES_ADMIN_URL or MACHINE_POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    if name in _created_databases:
        _created_databases.remove(name)


@pytest.fixture(scope="session", autouse=True)
def _drop_leftover_databases() -> Iterator[None]:
    """Databases made outside the `ws` fixture (module-scoped workspaces) are dropped at the end."""
    yield
    for name in list(_created_databases):
        drop_postgres_database((POSTGRES_ADMIN_URL or MACHINE_POSTGRES).rsplit("/", 1)[0] + f"/{name}")


@dataclass
class Workspace:
    """A test's own copy of the plans, with its database and output folder."""

    root: Path
    plans: Path
    out: Path
    db_url: str
    keys: dict[str, Path]

    def run(self, *args: str, now: str | None = None) -> Result:
        """Invoke the CLI as a user would; `now` fixes the instant the command acts at."""
        argv = (["--now", now] if now else []) + list(args)
        return CliRunner().invoke(main, argv, catch_exceptions=False)

    def key(self, approver: str) -> list[str]:
        """The `--as` and `--key` arguments with which `approver` signs."""
        return ["--as", approver, "--key", str(self.keys[approver])]

    def approve(self, campaign: str, stage: str, approver: str, *extra: str, now: str | None = None) -> Result:
        return self.run("approve", campaign, stage, *self.key(approver), *extra, now=now)

    def reject(self, campaign: str, stage: str, approver: str, reason: str, *, now: str) -> Result:
        return self.run("reject", campaign, stage, *self.key(approver), "--reason", reason, now=now)

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path


def give_keys(registry_file: Path, folder: Path, valid_from: str = "2025-01-01T00:00:00+04:00") -> dict[str, Path]:
    """A key pair for every approver: private keys in `folder` (mode 0600), public ones in the registry."""
    yaml = YAML()
    registry = yaml.load(registry_file)
    folder.mkdir(exist_ok=True)
    keys = {}
    for approver in registry["approvers"]:
        pem, public = new_key_pair(None)
        path = folder / f"{approver['id']}.pem"
        path.write_bytes(pem)
        path.chmod(0o600)
        approver["keys"] = [{"id": f"{approver['id']}-1", "public": public, "valid_from": valid_from}]
        keys[approver["id"]] = path
    with registry_file.open("w", encoding="utf-8") as handle:
        yaml.dump(registry, handle)
    return keys


def make_workspace(root: Path, monkeypatch: pytest.MonkeyPatch, database: Path | None = None) -> Workspace:
    """A workspace in `root`: its plans (copied once, with keys) and output there, the database at `database`."""
    plans = root / "plans"
    if plans.exists():
        keys = {path.stem: path for path in (root / "keys").glob("*.pem")}
    else:
        shutil.copytree(PROJECT_ROOT / "plans", plans)
        keys = give_keys(plans / "approvers.yaml", root / "keys")
    if database is None and POSTGRES_ADMIN_URL:
        url = fresh_postgres_database()
    else:
        url = f"sqlite:///{database or root / 'state.db'}"
    workspace = Workspace(root, plans, root / "out", url, keys)
    monkeypatch.setenv("MUSHARAKA_PLANS_DIR", str(plans))
    monkeypatch.setenv("MUSHARAKA_OUTPUT_DIR", str(workspace.out))
    monkeypatch.setenv("MUSHARAKA_DATABASE_URL", url)
    monkeypatch.setenv("MUSHARAKA_ENGINE_KEY_FILE", str(root / "engine-key.pem"))
    get_settings.cache_clear()
    return workspace


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    workspace = make_workspace(tmp_path, monkeypatch)
    yield workspace
    get_engine(workspace.db_url).dispose()
    if workspace.db_url.startswith("postgresql"):
        drop_postgres_database(workspace.db_url)
    get_settings.cache_clear()


_exit_status: list[int] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _exit_status.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """End the test process with pytest's own status once its report is written.

    Tearing the interpreter down after the whole suite (an in-process Prefect server, native PDF and
    database libraries loaded) has crashed with a segmentation fault after every test had passed;
    nothing remains to run or report at this point, so the process ends here with the suite's status.
    """
    if _exit_status:
        atexit._run_exitfuncs()  # what the process registered to do at exit, such as stopping Prefect's server
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status[0])
