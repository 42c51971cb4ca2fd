"""Every test has a workspace of its own (home, database, plans, output); Prefect runs in a shared temp home.

Nothing a test does lands in the repository or the folder pytest runs in: the session runs in a temporary
MUSHARAKA_HOME of its own, and the `ws` fixture gives each test its own home (its `var/` with the pseudonym key
and the plan cache, its `out/`). MUSHARAKA_* variables of the shell that starts the suite are set aside.

Some tests need what not every machine has: the PostgreSQL server (127.0.0.1:5432, or the one
MUSHARAKA_TEST_POSTGRES names), headless Chromium, poppler's pdftotext. Where one is missing they are skipped,
naming what is missing. With MUSHARAKA_TEST_REQUIRE_ALL=1 (for CI) they fail instead: a CI machine that has
lost one of them cannot pass by skipping the tests that need it.
"""

import atexit
import faulthandler
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from ruamel.yaml import YAML
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from musharaka.flows import runtime
from musharaka.flows.cli.main import main
from musharaka.flows.cli.workspace import copy_sample_plans
from musharaka.flows.engine import governance
from musharaka.flows.planfiles import loading
from musharaka.state import migrate
from musharaka.state.audit import engine_fingerprint
from musharaka.state.db import get_engine
from musharaka.state.settings import get_settings
from musharaka.state.signing import engine_key, new_key_pair, public_text

# The settings fall back to the current folder: a test without a workspace of its own would write there.
for _name in [name for name in os.environ if name.startswith("MUSHARAKA_") and not name.startswith("MUSHARAKA_TEST_")]:
    del os.environ[_name]
SESSION_HOME = tempfile.mkdtemp(prefix="musharaka-home-")
os.environ["MUSHARAKA_HOME"] = SESSION_HOME
# Tests replay campaigns on the 2025 calendar with `--now`, which a real workspace does not take.
os.environ.setdefault("MUSHARAKA_ALLOW_NOW", "1")
atexit.register(shutil.rmtree, SESSION_HOME, ignore_errors=True)
get_settings.cache_clear()

# Spread over processes (`make test`), the suite's controller starts one Prefect server before the test
# processes start (`pytest_configure`) and names it here: every flow of every test process, and of every
# command a test starts, runs in its own process on that server, none starting an embedded one of its own.
SHARED_PREFECT_API_URL = os.environ.get("MUSHARAKA_TEST_PREFECT_API_URL", "")
# `make test-fast` runs no test marked `prefect`: Prefect may start no server at all, so that a test that
# needs one and is not marked fails at once ("No Prefect API URL provided") instead of slowing the loop.
FAST = os.environ.get("MUSHARAKA_TEST_FAST") == "1"
if FAST:
    os.environ["PREFECT_SERVER_ALLOW_EPHEMERAL_MODE"] = "false"
elif SHARED_PREFECT_API_URL:
    os.environ["PREFECT_API_URL"] = SHARED_PREFECT_API_URL
    os.environ["MUSHARAKA_RUN_FLOWS_HERE"] = "1"

# Prefect reads these when it is first imported; otherwise one ephemeral server serves the whole session.
_PREFECT_HOME = tempfile.mkdtemp(prefix="musharaka-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
atexit.register(shutil.rmtree, _PREFECT_HOME, ignore_errors=True)  # registered first: runs after Prefect's own
runtime.apply_prefect_defaults()


def require(available: bool, reason: str) -> None:
    """Go on if `available`; else skip the test saying `reason`, or fail it when MUSHARAKA_TEST_REQUIRE_ALL=1."""
    if available:
        return
    if os.environ.get("MUSHARAKA_TEST_REQUIRE_ALL") == "1":
        pytest.fail(f"{reason} (MUSHARAKA_TEST_REQUIRE_ALL=1: this test may not be skipped)", pytrace=False)
    pytest.skip(reason)


# `MUSHARAKA_TEST_POSTGRES=postgresql+psycopg://postgres@127.0.0.1:5432/test make test-postgres` runs the
# suite again with each workspace on a fresh PostgreSQL database of that server (dropped afterwards).
POSTGRES_ADMIN_URL = os.environ.get("MUSHARAKA_TEST_POSTGRES", "")
MACHINE_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# the server the PostgreSQL tests make their databases on
ADMIN_URL = POSTGRES_ADMIN_URL or MACHINE_POSTGRES
_created_databases: list[str] = []


@cache
def _postgres_problem() -> str:
    """Why the PostgreSQL server cannot be used, or "" when it accepts a connection; asked once a session."""
    # two seconds, so a machine without the server loses little time finding out
    admin = create_engine(ADMIN_URL, connect_args={"connect_timeout": 2}, poolclass=NullPool)
    try:
        with admin.connect():
            return ""
    except OperationalError as error:
        return str(error.orig or error).strip().splitlines()[0]
    finally:
        admin.dispose()


def require_postgres() -> None:
    """Skip (or fail, see `require`) the test when the PostgreSQL server does not answer."""
    problem = _postgres_problem()
    where = make_url(ADMIN_URL).render_as_string(hide_password=True)
    require(not problem, f"needs the PostgreSQL server of {where}, which does not answer: {problem}")


def _database_url(name: str) -> str:
    """The URL of database `name` on the server the PostgreSQL tests use."""
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _create_database(template: str = "template1") -> str:
    """A new database on the server, a copy of `template`; its name (dropped at the session's end at the latest)."""
    name = f"musharaka_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    _created_databases.append(name)
    return name


@cache
def _migrated_template() -> str:
    """A database at the schema's head revision, made once a session (once per test process). Copying it
    takes a few milliseconds where migrating a database takes a tenth of a second or more; a copy is
    otherwise a database like any other, and a test's copy is its own."""
    name = _create_database()
    engine = create_engine(_database_url(name), poolclass=NullPool)
    migrate.ensure_current(engine)
    engine.dispose()  # PostgreSQL copies a template only while no one is connected to it
    return name


def fresh_postgres_database(*, migrated: bool = False) -> str:
    """A new database on the PostgreSQL server the suite runs against (else the machine's); its URL.
    Empty, or with the engine's tables already at head when `migrated` (what a workspace's first command
    would make of an empty one)."""
    require_postgres()
    return _database_url(_create_database(_migrated_template() if migrated else "template1"))


def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    get_engine(url).dispose()
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
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
        drop_postgres_database(_database_url(name))


@dataclass
class Workspace:
    """A test's own home: its copy of the sample plans, its database, output folder and `var/`."""

    root: Path
    plans: Path
    out: Path
    db_url: str
    keys: dict[str, Path]

    def env(self) -> dict[str, str]:
        """The settings' variables with which a process of its own (a command, a worker) works here."""
        return {
            "MUSHARAKA_HOME": str(self.root),
            "MUSHARAKA_PLANS_DIR": str(self.plans),
            "MUSHARAKA_OUTPUT_DIR": str(self.out),
            "MUSHARAKA_DATABASE_URL": self.db_url,
            "MUSHARAKA_ENGINE_KEY_FILE": str(self.root / "engine-key.pem"),
            "MUSHARAKA_ALLOW_NOW": "1",
        }

    def run(self, *args: str, now: str | None = None) -> Result:
        """Invoke the CLI as a user would; `now` fixes the instant the command acts at."""
        argv = (["--now", now] if now else []) + list(args)
        return CliRunner().invoke(main, argv, catch_exceptions=False)

    def engine(self) -> list[str]:
        """The `--engine` argument: the engine key's fingerprint, as the operator gives it to auditors."""
        key = engine_key(self.root / "engine-key.pem")
        return ["--engine", engine_fingerprint(public_text(key.public_key()))]

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


def pin_registry(plans: Path) -> None:
    """Pin the registry file as it is now as the first version, as `musharaka people pin-registry` does."""
    registry, problems = loading.load_plans([plans / "approvers.yaml"])
    assert registry.registry is not None, problems
    governance.write_root(registry.registry, plans)


def forget_settings() -> None:
    """Drop what the process remembers of the settings and of the plans read under them."""
    get_settings.cache_clear()
    # the last plans loaded, and each file's check, kept in the process: another test's files
    loading._LOADED.clear()
    loading._CHECKED.clear()


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """Each test reads the settings of its own environment, never those a test before it left cached."""
    forget_settings()
    yield
    forget_settings()  # after the test's own environment is undone (its monkeypatch goes first)


def make_workspace(
    root: Path, monkeypatch: pytest.MonkeyPatch, database: Path | None = None, *, empty: bool = False
) -> Workspace:
    """`root` as the home: the sample plans copied there once (with keys), output there, the database at
    `database` (else in `root`, or on PostgreSQL in the PostgreSQL pass). A PostgreSQL database comes with
    the engine's tables, as a workspace's first command leaves it, unless `empty`."""
    plans = root / "plans"
    if plans.exists():
        keys = {path.stem: path for path in (root / "keys").glob("*.pem")}
    else:
        copy_sample_plans(plans)
        keys = give_keys(plans / "approvers.yaml", root / "keys")
        pin_registry(plans)
    if database is None and POSTGRES_ADMIN_URL:
        url = fresh_postgres_database(migrated=not empty)
    else:
        url = f"sqlite:///{database or root / 'state.db'}"
    workspace = Workspace(root, plans, root / "out", url, keys)
    for name, value in workspace.env().items():
        monkeypatch.setenv(name, value)
    forget_settings()
    return workspace


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[Workspace]:
    """The test's own workspace, its home the test's temporary folder; its database empty for a test marked
    `empty_database` (one about what the first command does to a database)."""
    empty = request.node.get_closest_marker("empty_database") is not None
    workspace = make_workspace(tmp_path, monkeypatch, empty=empty)
    yield workspace
    get_engine(workspace.db_url).dispose()
    if workspace.db_url.startswith("postgresql"):
        drop_postgres_database(workspace.db_url)
    forget_settings()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium for every browser test of the session (Playwright runs one at a time)."""
    from tests.web.browser import launched  # it imports this module

    with launched() as browser:
        yield browser


# the tests that take longest, by kind; the rest take a second or less
_HEAVY = ("server", "browser", "prefect")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slowest kinds of test first: spread over processes (`make test`), no process is left with a long
    test to run alone at the end. Every test is independent of the others, so the order is free."""
    rank = {name: place for place, name in enumerate(_HEAVY)}
    items.sort(key=lambda item: min((rank[m.name] for m in item.iter_markers() if m.name in rank), default=len(rank)))


_shared_prefect: list[Any] = []


def pytest_configure(config: pytest.Config) -> None:
    """The controller of a run spread over processes starts the Prefect server they share (see above)."""
    spread = (config.getoption("numprocesses", None) or 0) > 0 and not hasattr(config, "workerinput")
    if not spread or SHARED_PREFECT_API_URL or FAST:
        return
    from musharaka.flows.service.prefect_warm import start_server

    (Path(SESSION_HOME) / "var").mkdir(exist_ok=True)
    # Prefect's own database on PostgreSQL where the machine has it: on SQLite, the test processes' flow
    # runs queue on one write lock, and Prefect's client waits two seconds each time the server gives up
    database = "" if _postgres_problem() else fresh_postgres_database()
    if database:
        os.environ["PREFECT_API_DATABASE_CONNECTION_URL"] = database.replace("+psycopg", "+asyncpg")
    try:
        server = start_server()  # its log: SESSION_HOME/var/prefect-server.log
    finally:
        os.environ.pop("PREFECT_API_DATABASE_CONNECTION_URL", None)  # the server's alone
    _shared_prefect.append((server, database))
    os.environ["MUSHARAKA_TEST_PREFECT_API_URL"] = server.api_url  # the test processes, started next, inherit it


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """pytest turns its fault handler off here; one stays on for the interpreter's teardown, so a crash
    there (such as the plan loader's `_forget` prevents) prints every thread's stack instead of nothing."""
    faulthandler.enable(all_threads=True)
    for server, database in _shared_prefect:
        server.stop()
        if database:
            drop_postgres_database(database)
