"""Secrets stay secret: a database password is never printed, secret files others may read are refused,
the workspace's state is its owner's alone whatever the umask, and an edited plan cache is not believed."""

import base64
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from musharaka.state.signing import engine_key, new_key_pair, pseudonym_secret
from tests.conftest import Workspace, forget_settings
from tests.flows import exports
from tests.flows.exports import CAMPAIGN
from tests.flows.test_gates import assert_refused, history, started
from tests.flows.test_lifecycle import to_conduct

PASSWORD = "s3cret-Pa55"
# a server that refuses: nothing listens on port 1
REFUSING = f"postgresql+psycopg://planner:{PASSWORD}@127.0.0.1:1/musharaka"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- database URLs ----------------------------------------------------------------------------------


def test_a_database_password_is_not_printed_when_the_server_refuses(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MUSHARAKA_DATABASE_URL", REFUSING)
    forget_settings()
    for command in (["status"], ["demo"], ["history", CAMPAIGN]):
        result = ws.run(*command)
        assert result.exit_code == 1, result.output
        assert PASSWORD not in result.output + result.stderr
        assert "database error (postgresql+psycopg://planner:***@127.0.0.1:1/musharaka)" in result.stderr


def test_a_database_password_is_not_printed_by_a_command_of_its_own_process(ws: Workspace) -> None:
    """The command as a shell runs it: whatever it prints or logs, on either stream."""
    env = {**os.environ, **ws.env(), "MUSHARAKA_DATABASE_URL": REFUSING}
    done = subprocess.run(
        [sys.executable, "-m", "musharaka.flows.cli", "status"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert PASSWORD not in done.stdout + done.stderr
    assert "planner:***@127.0.0.1:1" in done.stderr


def test_a_database_url_that_cannot_be_read_is_named_without_its_password(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MUSHARAKA_DATABASE_URL", REFUSING.replace(":1/", ":fivefourthreetwo/"))
    forget_settings()
    result = ws.run("status")
    assert result.exit_code == 2
    assert PASSWORD not in result.output + result.stderr
    assert (
        "setting: MUSHARAKA_DATABASE_URL: expected a database URL such as postgresql+psycopg://user:password@host:5432/"
        "name or sqlite:///path/to/file.db, found 'postgresql+psycopg://planner:***@127.0.0.1:fivefourthreetwo/"
        "musharaka'"
    ) in result.stderr


# --- secret files -----------------------------------------------------------------------------------


def test_a_passphrase_file_others_can_read_is_refused_like_a_key(ws: Workspace) -> None:
    secret = ws.write("secret.txt", "correct horse battery staple\n")
    secret.chmod(0o644)
    result = ws.run("keys", "new", "dg.planning", "--dir", str(ws.root / "mine"), "--passphrase-file", str(secret))
    assert result.exit_code == 2
    assert f"{secret}: expected a passphrase only its owner can read (mode 600), found mode 644" in result.stderr
    assert not list((ws.root / "mine").glob("*.pem"))  # no key made with a passphrase others may know


@pytest.mark.prefect
def test_a_pseudonym_key_others_can_read_is_refused_and_nothing_is_ingested(ws: Workspace) -> None:
    exports.prepare_plan(ws)
    to_conduct(ws)
    key = ws.write("var/pseudonym.key", "c2VjcmV0LXNoYXJlZC13aXRoLWV2ZXJ5b25l\n")
    key.chmod(0o640)
    result = ws.run("ingest", CAMPAIGN, str(exports.google_forms(ws)), now="2025-08-15T08:00+04:00")
    assert result.exit_code == 2
    assert f"{key}: expected the pseudonym key only its owner can read (mode 600), found mode 640" in result.stderr
    assert "contributions.ingested" not in ws.run("history", CAMPAIGN, "--json").output


# --- owner-only state -------------------------------------------------------------------------------


@pytest.fixture(params=[0o022, 0o000], ids=["umask-022", "umask-000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    before = os.umask(request.param)
    yield request.param
    os.umask(before)


@pytest.mark.prefect
def test_var_and_the_database_files_are_the_owners_alone_whatever_the_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask: int
) -> None:
    home = tmp_path / "ministry"
    monkeypatch.setenv("MUSHARAKA_HOME", str(home))
    for name in ("MUSHARAKA_PLANS_DIR", "MUSHARAKA_OUTPUT_DIR", "MUSHARAKA_DATABASE_URL", "MUSHARAKA_ENGINE_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    forget_settings()
    from click.testing import CliRunner

    from musharaka.flows.cli.main import main

    assert CliRunner().invoke(main, ["init"]).exit_code == 0
    assert mode(home / "var") == 0o700
    assert CliRunner().invoke(main, ["people", "pin-registry"]).exit_code == 0
    assert CliRunner().invoke(main, ["--now", "2025-06-15T09:00+04:00", "start", CAMPAIGN]).exit_code == 0
    var = home / "var"
    database = [var / "musharaka.db", var / "musharaka.db-wal", var / "musharaka.db-shm"]
    assert all(p.exists() for p in database)
    assert {p.name: oct(mode(p)) for p in database} == {p.name: "0o600" for p in database}
    assert mode(var / "cache") == 0o700
    assert mode(var / "cache" / "plans.json") == 0o600 and mode(var / "cache" / "plans.key") == 0o600
    from musharaka.state.db import get_engine

    get_engine().dispose()


def test_a_database_in_a_folder_of_its_own_gets_the_folder_owner_only(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, umask: int
) -> None:
    database = ws.root / "state" / "2025" / "musharaka.db"
    monkeypatch.setenv("MUSHARAKA_DATABASE_URL", f"sqlite:///{database}")
    forget_settings()
    assert ws.run("status").exit_code == 0
    assert (mode(ws.root / "state"), mode(database.parent), mode(database)) == (0o700, 0o700, 0o600)
    from musharaka.state.db import get_engine

    get_engine(f"sqlite:///{database}").dispose()


# --- the plan cache ---------------------------------------------------------------------------------


@pytest.mark.prefect
def test_an_edited_plan_cache_is_read_again_from_the_plan_files(ws: Workspace) -> None:
    started(ws)  # the plans are read, and the result kept in var/cache/plans.json
    cache = ws.root / "var" / "cache" / "plans.json"
    mac, _, body = cache.read_bytes().partition(b"\n")
    data = json.loads(body)
    [dg] = [a for a in data["registry"]["approvers"] if a["id"] == "dg.planning"]
    # someone with write access to var/ swaps the Director General's public key for their own
    pem, public = new_key_pair(None)
    forged = ws.write("attacker.pem", pem.decode())
    forged.chmod(0o600)
    dg["keys"][0]["public"] = public
    cache.write_bytes(mac + b"\n" + json.dumps(data, ensure_ascii=False).encode())
    forget_settings()  # a new command: a new process, which has only the cache on disk

    args = ["approve", CAMPAIGN, "prepare", "--as", "dg.planning", "--key", str(forged), "--no-advance"]
    result = ws.run(*args, now="2025-06-15T10:00+04:00")
    assert_refused(ws, result, "unknown-key", "is not one of dg.planning's keys in the approvers registry")
    forget_settings()
    assert ws.approve(CAMPAIGN, "prepare", "dg.planning", "--no-advance", now="2025-06-15T10:05+04:00").exit_code == 0
    decided = [e["payload"] for e in history(ws) if e["type"] == "gate.decided"]
    assert [(d["signed"]["approver"], d["signed"]["decision"]) for d in decided] == [("dg.planning", "approve")]
    assert decided[0]["signed"]["public_key"] != public
    # the cache was written again from the files: it holds the registry's own key
    rewritten = json.loads(cache.read_bytes().partition(b"\n")[2])
    assert public not in json.dumps(rewritten)


def test_the_pseudonym_and_engine_keys_are_made_owner_only_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    var = tmp_path / "home" / "var"
    first = pseudonym_secret(var / "pseudonym.key")
    engine_key(var / "engine-key.pem")
    assert (mode(var), mode(var / "pseudonym.key"), mode(var / "engine-key.pem")) == (0o700, 0o600, 0o600)
    assert len(base64.b64decode(first)) == 32 and pseudonym_secret(var / "pseudonym.key") == first  # made once
