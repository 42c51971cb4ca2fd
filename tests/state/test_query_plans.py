"""Every query a command runs for one campaign finds its rows through an index: none reads a whole table.

The commands run for real, on a campaign collecting contributions; every statement they send that names a
campaign is caught and its plan read back from the database (SQLite's `EXPLAIN QUERY PLAN`; PostgreSQL's
`EXPLAIN` with sequential scans discouraged, since on a table this small it would rightly prefer one).
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Connection, event

from musharaka.flows.engine import records
from musharaka.state.db import get_engine, read_scope
from tests.conftest import Workspace
from tests.flows import exports
from tests.flows.samples import CAMPAIGN
from tests.flows.test_lifecycle import ok, to_conduct

pytestmark = pytest.mark.prefect  # runs flows on Prefect's server

NOW = "2025-08-15T08:00+04:00"


@contextmanager
def statements(url: str) -> Iterator[list[tuple[str, Any]]]:
    """Every statement sent to the database inside the block, with its parameters."""
    caught: list[tuple[str, Any]] = []
    engine = get_engine(url)

    def catch(_conn: Connection, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
        if not many:
            caught.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", catch)
    try:
        yield caught
    finally:
        event.remove(engine, "before_cursor_execute", catch)


def per_campaign(statement: str) -> bool:
    """A read of one campaign's (or a few named campaigns') rows: its WHERE names them. Writes, and reads of the
    whole programme (every open gate, the whole log for `audit verify`), are not in question."""
    text = " ".join(statement.split()).lower()
    where = text.partition(" where ")[2]
    return text.startswith("select") and re.search(r"campaign_id (= \?|= %\(|in \()", where) is not None


def full_scans(connection: Connection, statement: str, parameters: Any) -> list[str]:
    """The plan's lines that read a table (or an index) whole."""
    if connection.dialect.name == "sqlite":
        plan = [row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
        # `SCAN t` reads the table, `SCAN t USING INDEX` the whole index; `SEARCH` finds rows by key
        # and a campaign's contributions (a million rows) are never sorted apart: an index gives their order
        sorted_apart = "FROM contribution" in statement and any("TEMP B-TREE FOR ORDER BY" in line for line in plan)
        return [line for line in plan if (line.startswith("SCAN ") and "CONSTANT ROW" not in line) or sorted_apart]
    connection.exec_driver_sql("SET enable_seqscan = off")
    plan = [row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)]
    connection.exec_driver_sql("RESET enable_seqscan")
    return [line.strip() for line in plan if "Seq Scan" in line or "Full Scan" in line]


def test_no_query_a_command_runs_for_a_campaign_reads_a_whole_table(ws: Workspace) -> None:
    exports.prepare_plan(ws)
    to_conduct(ws)
    commands = [
        ("ingest", CAMPAIGN, str(exports.google_forms(ws))),
        ("ingest", CAMPAIGN, str(exports.kobo(ws))),
        ("status", "--json"),
        ("history", CAMPAIGN),
        ("contributions", CAMPAIGN),
        ("contributions", CAMPAIGN, "--quarantined"),
        ("gates",),
        ("decisions", "--campaign", CAMPAIGN),
        ("kpis", "--period", "2025-H2", "--json"),
        ("audit", "verify", "--campaign", CAMPAIGN, *ws.engine()),
    ]
    with statements(ws.db_url) as caught:
        for command in commands:
            ok(ws, *command, now=NOW)
        with read_scope() as session:  # what the analysis and the KPIs read: the campaign's rows in time order
            frame = records.contributions_of(CAMPAIGN, session=session)
    assert len(frame) == 6  # Google Forms' four responses and KoboToolbox's two
    asked = {(s, repr(p)): (s, p) for s, p in caught if per_campaign(s)}  # each once (PostgreSQL's are dicts)
    assert len(asked) >= 10  # the commands did read per campaign: the check below has something to check

    scans = {}
    with get_engine(ws.db_url).connect() as connection:
        for statement, parameters in asked.values():
            found = full_scans(connection, statement, parameters)
            if found:
                scans[" ".join(statement.split())] = found
    assert scans == {}
