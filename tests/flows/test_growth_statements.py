"""`status`, the KPI report and `decisions` send as many SQL statements for 30 campaigns as for 3: none reads
campaign by campaign (an N+1 query would make a programme of thousands wait on thousands of round trips).

`decisions` used to read each decision's campaign with a statement of its own. The campaigns are written
directly as events (bench/bench_growth.py's log: started, the six stages approved, the analyse outputs carrying
a decision, two or three follow-up updates) and projected by `rebuild`, so that the test needs no Prefect flow.
"""

import json
from typing import Any

from sqlalchemy import event, insert

from bench.bench_growth import synthetic_log
from musharaka.state.db import create_tables, get_engine, session_scope
from musharaka.state.projection import rebuild
from musharaka.state.signing import engine_key
from musharaka.state.tables import Event
from tests.conftest import Workspace

NOW = "2025-07-01T08:00+04:00"


def write(ws: Workspace, chains: list[list[dict[str, Any]]]) -> None:
    engine = get_engine(ws.db_url)
    create_tables(engine)
    with engine.begin() as connection:
        connection.execute(insert(Event), [row for rows in chains for row in rows])
    with session_scope(engine) as session:
        rebuild(session=session)


def counted(ws: Workspace, *args: str) -> tuple[int, str]:
    """How many statements a command sends, and what it prints."""
    sent: list[str] = []

    def count(*_: Any) -> None:
        sent.append("")

    engine = get_engine(ws.db_url)
    event.listen(engine, "before_cursor_execute", count)
    try:
        result = ws.run(*args, now=NOW)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert result.exit_code == 0, result.output
    return len(sent), result.output


def test_status_kpis_and_decisions_send_as_many_statements_for_30_campaigns_as_for_3(ws: Workspace) -> None:
    chains = synthetic_log(30, engine_key(ws.root / "engine-key.pem"))  # the registry's chain, then 30 campaigns
    commands = {
        "status": ("status", "--json"),
        "kpis": ("kpis", "--period", "2025-H1", "--json"),
        "decisions": ("decisions", "--json"),
    }
    write(ws, chains[:4])
    few = {name: counted(ws, *argv) for name, argv in commands.items()}
    write(ws, chains[4:])
    many = {name: counted(ws, *argv) for name, argv in commands.items()}

    # what each lists: every growth-NNNNN campaign; the KPI table counts them; a decision each
    for found, campaigns in ((few, 3), (many, 30)):
        listed = [row["campaign"] for row in json.loads(found["status"][1])]
        assert sum(1 for c in listed if c.startswith("growth-")) == campaigns
        indicators = json.loads(found["kpis"][1])["indicators"]
        assert indicators[0]["actual_text"] == str(campaigns)
        decided = json.loads(found["decisions"][1])
        assert [d["campaign"] for d in decided] == [f"growth-{n:05d}" for n in range(1, campaigns + 1)]
    # campaign 30 (divisible by 3): two updates, in progress; campaign 29: implemented
    assert [(d["status"], d["percent"]) for d in decided[-2:]] == [("implemented", 100), ("in-progress", 50)]
    assert decided[0]["title"]["en"] == "Beneficiaries' satisfaction with the ministry's digital services"

    assert {name: count for name, (count, _) in many.items()} == {name: count for name, (count, _) in few.items()}
