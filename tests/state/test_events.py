"""The event log: hash-chained, append-only, and the projections are exactly its replay."""

import hashlib
from datetime import UTC, datetime

import pytest
import rfc8785
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from musharaka.state.db import get_engine, session_scope
from musharaka.state.events import (
    GENESIS,
    SortedLines,
    canonical,
    chain_problems,
    event_hash,
    events_of,
    legacy_canonical,
    legacy_event_hash,
    stored_canonically,
)
from musharaka.state.projection import rebuild
from musharaka.state.tables import PROJECTIONS, Event
from tests.conftest import Workspace
from tests.flows.samples import CAMPAIGN, CONTRIBUTIONS, DECISION

T0 = datetime(2025, 6, 15, 5, 0, tzinfo=UTC)


def snapshot(session: Session) -> dict[str, list[tuple[object, ...]]]:
    """Every projection row, as plain tuples without surrogate ids, in a stable order."""
    tables = {}
    for table in PROJECTIONS:
        rows = session.exec(select(table)).all()
        dumped = [tuple(sorted((k, str(v)) for k, v in row.model_dump().items() if k != "id")) for row in rows]
        tables[table.__tablename__] = sorted(dumped)  # type: ignore[attr-defined]
    return tables


def drive(ws: Workspace) -> None:
    """A campaign with approvals, a rejection, a rework and contributions."""
    ws.run("start", CAMPAIGN, now="2025-06-15T09:00+04:00")
    ws.run("approve", CAMPAIGN, "prepare", *ws.key("dg.planning"), now="2025-06-16T09:00+04:00")
    ws.run("approve", CAMPAIGN, "plan", *ws.key("dg.planning"), now="2025-06-17T09:00+04:00")
    ws.run("submit", CAMPAIGN, "conduct", str(ws.write("c.csv", CONTRIBUTIONS)), now="2025-08-15T08:00+04:00")
    ws.run("advance", "--all", now="2025-08-15T09:00+04:00")
    ws.run("approve", CAMPAIGN, "conduct", *ws.key("dg.planning"), now="2025-08-16T09:00+04:00")
    ws.run("submit", CAMPAIGN, "analyse", str(ws.write("d.yaml", DECISION)), now="2025-08-17T09:00+04:00")
    ws.run("advance", "--all", now="2025-08-17T09:01+04:00")
    ws.run(
        "reject",
        CAMPAIGN,
        "analyse",
        *ws.key("dir.digital"),
        "--reason",
        "add figures",
        now="2025-08-18T09:00+04:00",
    )


@pytest.mark.prefect
def test_replaying_the_events_rebuilds_exactly_the_projections(ws: Workspace) -> None:
    drive(ws)
    with session_scope() as session:
        before = snapshot(session)
        assert before["gate_decision"] and before["stage_run"] and before["submission"]
        replayed = rebuild(session=session)
    with session_scope() as session:
        assert replayed == len(events_of(session=session)) > 20
        assert snapshot(session) == before


def test_chain_links_every_event_to_the_one_before(ws: Workspace) -> None:
    drive(ws)
    with session_scope() as session:
        events = events_of(CAMPAIGN, session=session)
        assert events[0].prev_hash == GENESIS
        assert chain_problems(events) == []


@pytest.mark.prefect
def test_an_edited_payload_breaks_the_chain_at_that_event(ws: Workspace) -> None:
    drive(ws)
    last = len(chain_of(ws))
    with get_engine().begin() as connection:
        connection.execute(
            text("update event set payload = replace(payload, 'add figures', 'fine') where seq = :s"), {"s": last}
        )
    assert chain_problems(chain_of(ws)) == [f"event {last}: its content does not match its hash"]


def chain_of(ws: Workspace) -> list[Event]:
    with session_scope() as session:
        return events_of(CAMPAIGN, session=session)


def test_the_database_refuses_a_second_event_with_the_same_sequence(ws: Workspace) -> None:
    ws.run("start", CAMPAIGN, "--no-advance", now="2025-06-15T09:00+04:00")
    with session_scope() as session:
        [first] = events_of(CAMPAIGN, session=session)
    fork = Event(
        campaign_id=CAMPAIGN,
        seq=first.seq,
        at=T0,
        actor="rogue",
        type="plan.recorded",
        payload="{}",
        prev_hash=GENESIS,
        hash="f" * 64,
    )
    with pytest.raises(IntegrityError), session_scope() as session:
        session.add(fork)


@pytest.mark.parametrize(
    "actor", ["dg.planning", 'quote " and \\ backslash', "عربي", "tab\there", "\u2028 line separator"]
)
def test_a_legacy_event_hash_covers_exactly_the_canonical_header(actor: str) -> None:
    at = datetime(2025, 6, 15, 5, 0, 0, 123456, tzinfo=UTC)
    header = legacy_canonical(["campaign", 7, "2025-06-15T05:00:00.123456Z", actor, "gate.decided", "p" * 64])
    expected = hashlib.sha256(f"{header}\n{{}}".encode()).hexdigest()
    assert legacy_event_hash("campaign", 7, at, actor, "gate.decided", "{}", "p" * 64) == expected


@pytest.mark.parametrize(
    "actor", ["dg.planning", 'quote " and \\ backslash', "عربي", "tab\there", "\u2028 line separator"]
)
def test_event_hash_is_the_sha256_of_the_jcs_envelope(actor: str) -> None:
    at = datetime(2025, 6, 15, 5, 0, 0, 123456, tzinfo=UTC)
    envelope = {
        "campaign": "campaign",
        "seq": 7,
        "at": "2025-06-15T05:00:00.123456Z",
        "actor": actor,
        "type": "gate.decided",
        "prev": "p" * 64,
        "payload": {"n": 1.5, "ok": True},
    }
    # the library's JCS of the whole envelope, against the envelope written around the stored payload text
    expected = hashlib.sha256(rfc8785.dumps(envelope)).hexdigest()
    assert event_hash("campaign", 7, at, actor, "gate.decided", '{"n":1.5,"ok":true}', "p" * 64) == expected


def test_a_payload_not_stored_in_jcs_is_told_apart() -> None:
    assert stored_canonically('{"n":1.5,"ok":true}')
    assert not stored_canonically('{"ok":true,"n":1.5}')  # keys out of order
    assert not stored_canonically('{"n":1.50}')
    assert not stored_canonically("{not json")


@pytest.mark.parametrize("run", [2, 3, 1000], ids=["runs of 2", "runs of 3", "one run in memory"])
def test_a_batch_sealed_chunk_by_chunk_has_the_digest_of_its_lines_sorted(run: int) -> None:
    # keys as tools write them: a response id may hold a space, a backslash or a newline, and Arabic
    chunks = [
        ["odk:uuid-9 d1", "kobo:a\\nb d2", "csv:z d3"],
        ["kobo:a\nb d4", "google:ب d5"],
        [],
        ["csv:a d6", "kobo:a\\ d7", "csv:a d6"],
    ]
    everything = sorted(line for chunk in chunks for line in chunk)
    expected = hashlib.sha256("\n".join(everything).encode()).hexdigest()  # what batches were sealed with

    with SortedLines(run=run) as sealed:
        for chunk in chunks:
            sealed.extend(chunk)
        assert (sealed.count, sealed.hexdigest()) == (8, expected)


def test_an_empty_batch_seals_the_digest_of_nothing() -> None:
    with SortedLines(run=2) as sealed:
        assert (sealed.count, sealed.hexdigest()) == (0, hashlib.sha256(b"").hexdigest())


def test_the_fast_canonical_form_is_byte_for_byte_rfc8785() -> None:
    """`canonical` writes plain values with Python's encoder: the bytes must be those of `rfc8785` exactly."""
    import rfc8785

    values = [
        {"b": 1, "a": [True, False, None, -(2**53 - 1), 2**53 - 1], "": "", "A": {"z": {}, "y": []}},
        {"نص": "قيمة", "ﬀ": 1, "😀": 2, "\ue000": 3, "z": '\u2028\u007f\x00\x1f\n\t\b\f\r"\\/'},
        {"stage": "plan", "outputs": {"note": "x" * 600, "counts": {str(i): i for i in range(12)}}},
        ("a", ["b", ("c",)]),
        {"mean": 2.5, "n": 3},
        "\U0001f600 and \u0600",
    ]
    for value in values:
        assert canonical(value) == rfc8785.dumps(value).decode()
