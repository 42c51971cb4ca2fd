"""`audit verify` sends the same few statements to the database whether the log holds 3 campaigns or 30; a long
log split among processes verifies, and replays, as it does in one.

It used to read each campaign's contributions and quarantined rows with two statements of their own: 10,004
statements for 5,000 campaigns, half of the command's time. The campaigns here are written directly (signed
by the workspace's engine key, each with an ingested batch of stored and quarantined rows) so that the test
needs no Prefect flow.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, insert, select

from bench.chains import add_chain
from musharaka.state import spans
from musharaka.state.db import create_tables, get_engine, read_scope, session_scope
from musharaka.state.events import held_digest, quarantine_line, row_content, rows_digest, text_digest
from musharaka.state.projection import rebuild
from musharaka.state.signing import engine_key
from musharaka.state.tables import PROJECTIONS, Contribution, Event, QuarantinedRow
from tests.conftest import Workspace
from tests.stages.plans_fixture import SATISFACTION

T0 = datetime(2025, 3, 1, 8, tzinfo=UTC)


def write_campaigns(ws: Workspace, first: int, count: int) -> None:
    """Campaigns number `first` to `first + count - 1`: each started, then a batch of two stored rows and one
    quarantined row ingested, sealed by their digests."""
    key = engine_key(ws.root / "engine-key.pem")
    events: list[dict[str, Any]] = []
    stored: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    for number in range(first, first + count):
        campaign = f"many-{number:03d}"
        lines = []
        for row in range(2):
            submitted = T0 + timedelta(hours=row)
            fields = {"channel": "web", "audience": "public", "participant": "", "segments": "{}"}
            answers = f'{{"q1":"{number}-{row}"}}'
            digest = text_digest(row_content(submitted, *fields.values(), answers))
            stored.append(
                {
                    "campaign_id": campaign,
                    "batch": "2",
                    "row_key": f"k{row}",
                    "submitted_at": submitted,
                    "answers": answers,
                    "digest": digest,
                    "source": "csv",
                    **fields,
                }
            )
            lines.append(f"k{row} {digest}")
        cells = '{"q1":""}'
        held.append(
            {"campaign_id": campaign, "batch": "2", "row_key": "k9", "row": 4, "reasons": "q1: empty", "cells": cells}
        )
        assert quarantine_line("k9", 4, "q1: empty", cells) == f"k9 4 {held_digest('q1: empty', cells)}"
        ingested = {
            "file_name": "c.csv",
            "rows_read": 3,
            "rows_stored": 2,
            "duplicates": 0,
            "digest": "d" * 64,
            "rows_digest": rows_digest(lines),
            "rows_quarantined": 1,
            "quarantine_digest": rows_digest([quarantine_line("k9", 4, "q1: empty", cells)]),
        }
        plan = {**SATISFACTION.model_dump(mode="json"), "id": campaign}
        items = [
            ("planning.team", "campaign.started", {"plan": plan, "plan_digest": "p" * 64}),
            ("planning.team", "contributions.ingested", ingested),
        ]
        add_chain(events, campaign, items, lambda n: T0 + timedelta(days=1, minutes=n), key)
    create_tables(get_engine(ws.db_url))
    with get_engine(ws.db_url).begin() as connection:
        connection.execute(insert(Event), events)
        connection.execute(insert(Contribution), stored)
        connection.execute(insert(QuarantinedRow), held)


def statements_of_verify(ws: Workspace) -> tuple[int, str]:
    """How many statements `audit verify` sends, and what it prints."""
    sent: list[str] = []

    def count(*args: Any) -> None:
        sent.append(args[2])

    engine = get_engine(ws.db_url)
    event.listen(engine, "before_cursor_execute", count)
    try:
        result = ws.run("audit", "verify", *ws.engine())
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert result.exit_code == 0, result.output
    return len(sent), result.output


def test_verify_sends_as_many_statements_for_30_campaigns_as_for_3(ws: Workspace) -> None:
    write_campaigns(ws, 1, 3)
    few, said = statements_of_verify(ws)
    assert "ok: 6 events in 3 chains verify" in said
    write_campaigns(ws, 4, 27)
    many, said = statements_of_verify(ws)
    assert "ok: 60 events in 30 chains verify" in said
    assert many == few
    assert few <= 10


def test_a_changed_row_among_many_campaigns_is_still_named_at_its_batch(ws: Workspace) -> None:
    write_campaigns(ws, 1, 12)
    with get_engine(ws.db_url).begin() as connection:
        table = Contribution.__table__  # type: ignore[attr-defined]
        connection.execute(table.update().where(table.c.campaign_id == "many-007").values(answers='{"q1":"x"}'))
        held = QuarantinedRow.__table__  # type: ignore[attr-defined]
        connection.execute(held.delete().where(held.c.campaign_id == "many-011"))
    result = ws.run("audit", "verify", *ws.engine())
    assert result.exit_code == 1
    problems = [line for line in result.stderr.splitlines() if line.startswith("many-")]
    assert problems == [
        "many-007 event 2: contribution row 13 of this batch was changed after it was stored",
        "many-011 event 2: this batch quarantined 1 rows; 0 are there now and they do not match the sealed digest "
        "(quarantined rows deleted, added or changed)",
    ]


def test_verify_split_among_processes_names_the_same_problems(ws: Workspace, monkeypatch: Any) -> None:
    """A long log is split among processes (here every log, and three of them): the same campaigns, the same
    events counted, the same problems named, in the same order."""
    write_campaigns(ws, 1, 12)
    monkeypatch.setattr(spans, "PARALLEL_FROM", 0)
    with read_scope(get_engine(ws.db_url)) as session:
        assert len(spans.spans_of(session, 3)) == 3  # 24 events: 8 in each
    split = ws.run("audit", "verify", "--processes", "3", *ws.engine())
    assert split.exit_code == 0, split.output
    assert "ok: 24 events in 12 chains verify" in split.output
    with get_engine(ws.db_url).begin() as connection:
        table = Contribution.__table__  # type: ignore[attr-defined]
        connection.execute(table.delete().where(table.c.campaign_id.in_(["many-002", "many-012"])))
        events = Event.__table__  # type: ignore[attr-defined]
        connection.execute(events.update().where(events.c.campaign_id == "many-006").values(actor="someone.else"))
    split = ws.run("audit", "verify", "--processes", "3", *ws.engine())
    assert split.exit_code == 1
    assert [line for line in split.stderr.splitlines() if line.startswith("many-")] == [
        "many-002 event 2: this batch stored 2 rows; 0 are there now and they do not match the sealed digest "
        "(rows deleted, added or replaced)",
        "many-006 event 1: its payload, actor, time or type does not match its hash",
        "many-012 event 2: this batch stored 2 rows; 0 are there now and they do not match the sealed digest "
        "(rows deleted, added or replaced)",
    ]


def projections(ws: Workspace) -> dict[str, list[tuple[Any, ...]]]:
    """Every projection table's rows, without the numbers the database gave them."""
    with get_engine(ws.db_url).connect() as connection:
        found = {}
        for table in PROJECTIONS:
            core = table.__table__  # type: ignore[attr-defined]
            columns = [c for c in core.c if c.name != "id"]
            found[core.name] = [tuple(row) for row in connection.execute(select(*columns).order_by(*columns))]
        return found


def test_a_rebuild_split_among_processes_gives_the_same_projections(ws: Workspace, monkeypatch: Any) -> None:
    write_campaigns(ws, 1, 12)
    assert ws.run("state", "rebuild").exit_code == 0  # one process: the log is short
    alone = projections(ws)
    assert len(alone["campaign_state"]) == 12
    monkeypatch.setattr(spans, "PARALLEL_FROM", 0)
    with session_scope(get_engine(ws.db_url)) as session:
        assert rebuild(session=session, processes=3) == 24
    assert projections(ws) == alone
