"""Reads never queue behind writes: on SQLite's WAL a reader sees the last commit while another process writes."""

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import InternalError, OperationalError

from musharaka.state import db
from musharaka.state.db import read_scope, session_scope
from tests.conftest import Workspace
from tests.flows.samples import CAMPAIGN

# A writer in another process: takes SQLite's write lock, moves the campaign on without committing, says so,
# and holds the lock until told to let go (a long ingestion does the same for minutes).
HOLDER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("UPDATE campaign_state SET stage = 'conduct' WHERE campaign_id = ?", (sys.argv[2],))
print("holding", flush=True)
sys.stdin.read()
db.execute("ROLLBACK")
"""


@pytest.fixture
def started(ws: Workspace) -> Workspace:
    assert ws.run("start", CAMPAIGN, "--no-advance", now="2025-06-15T09:00+04:00").exit_code == 0
    return ws


@pytest.fixture
def writer_holding_the_lock(started: Workspace) -> Iterator[subprocess.Popen[str]]:
    if not started.db_url.startswith("sqlite:///"):
        pytest.skip("SQLite's write lock; PostgreSQL's readers never wait for its writers")
    path = started.db_url.removeprefix("sqlite:///")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, path, CAMPAIGN],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
    try:
        yield holder
    finally:
        holder.communicate("", timeout=30)  # lets go: the writer rolls back and ends


def test_status_answers_at_once_while_another_process_holds_the_write_lock(
    started: Workspace, writer_holding_the_lock: subprocess.Popen[str]
) -> None:
    db._checked.clear()  # as in a fresh process: the schema is checked again, a read too
    began = time.monotonic()
    result = started.run("status", "--json", now="2025-06-16T09:00+04:00")
    took = time.monotonic() - began

    assert result.exit_code == 0, result.output
    assert took < 2, f"status waited {took:.1f} s behind the writer"
    (row,) = [r for r in json.loads(result.output) if r["campaign"] == CAMPAIGN]
    assert row["stage"] == "prepare"  # the last commit: the writer's change is not seen before it commits
    # and as a person runs it, a process of its own (SQLite would have waited 30 s, then said "locked")
    command = [sys.executable, "-m", "musharaka.flows.cli", "--now", "2025-06-16T09:00+04:00", "status"]
    began = time.monotonic()
    alone = subprocess.run(command, capture_output=True, text=True, timeout=60)
    took = time.monotonic() - began
    assert alone.returncode == 0, alone.stderr
    assert CAMPAIGN in alone.stdout and took < 10, f"status took {took:.1f} s"
    assert writer_holding_the_lock.poll() is None  # the writer held the lock all along


def test_a_read_scope_is_refused_any_write_and_leaves_writers_able_to_write(started: Workspace) -> None:
    refused = "readonly database|read-only transaction"  # SQLite's words, PostgreSQL's
    with pytest.raises((OperationalError, InternalError), match=refused), read_scope() as session:
        session.exec(text("UPDATE campaign_state SET stage = 'conduct'"))  # type: ignore[call-overload]
    # the same pooled connection, taken again by a writer, writes
    with session_scope() as session:
        session.exec(text("UPDATE campaign_state SET stage = 'conduct'"))  # type: ignore[call-overload]
    with read_scope() as session:
        stages = session.exec(text("SELECT stage FROM campaign_state")).all()  # type: ignore[call-overload]
    assert [s for (s,) in stages] == ["conduct"]


def test_a_writer_still_waits_for_the_lock(started: Workspace, writer_holding_the_lock: subprocess.Popen[str]) -> None:
    # a writer must not read a chain head another writer is about to move: it queues (here up to a short timeout)
    path = Path(started.db_url.removeprefix("sqlite:///"))
    waiting = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys; db = sqlite3.connect(sys.argv[1], timeout=0.5, isolation_level=None); "
            "db.execute('BEGIN IMMEDIATE')",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert "database is locked" in waiting.stderr
