"""Auditors: tamper with a real database as a rogue administrator would, and see verify name the event."""

import json
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from musharaka.state.events import canonical, event_hash
from musharaka.state.seal import sign_hash
from musharaka.state.signing import load_private
from tests.conftest import Workspace
from tests.flows.samples import CAMPAIGN
from tests.state.test_events import drive

pytestmark = pytest.mark.prefect  # runs flows on Prefect's server

VIDEO = "moheri-2025-q3-video-call"


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One campaign driven through approvals, contributions, a rejection and documents, built once."""
    root = tmp_path_factory.mktemp("golden")
    with pytest.MonkeyPatch.context() as patch:
        from tests.conftest import make_workspace

        # a SQLite file on every pass: the tampering tests below edit it, and copy it, as a file
        ws = make_workspace(root, patch, database=root / "state.db")
        drive(ws)
        ws.run("start", VIDEO, now="2025-07-20T09:00+04:00")
        ws.approve(VIDEO, "prepare", "dg.planning", now="2025-07-21T09:00+04:00")
        ws.approve(VIDEO, "plan", "dg.planning", now="2025-07-22T09:00+04:00")
        extended = ws.run(
            "extend",
            VIDEO,
            "--closes",
            "2025-10-15",
            "--reason",
            "exams",
            *ws.key("dg.planning"),
            now="2025-08-10T09:00+04:00",
        )
        assert extended.exit_code == 0, extended.stderr
        yield root


def copy_of(golden: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A copy of a golden workspace (plans, keys, documents, `var/`, database) at `home`, as the test's own."""
    from tests.conftest import make_workspace

    # the test's own home: what it changes, a document or the pseudonym key, no other test sees
    shutil.copytree(golden, home, ignore=shutil.ignore_patterns("state.db*"))
    ws = make_workspace(home, monkeypatch, database=home / "state.db")
    source, copy = sqlite3.connect(golden / "state.db"), sqlite3.connect(home / "state.db")
    source.backup(copy)  # WAL-safe: what is committed, whether or not it reached the main file
    source.close()
    copy.close()
    return ws


@pytest.fixture
def rogue(golden: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """A copy of the golden workspace, for this test to tamper with."""
    yield copy_of(golden, tmp_path / "rogue", monkeypatch)


def sql(ws: Workspace, statement: str, *args: object) -> None:
    connection = sqlite3.connect(ws.db_url.removeprefix("sqlite:///"))
    with connection:
        connection.execute(statement, args)
    connection.close()


def rows(ws: Workspace, statement: str, *args: object) -> list[tuple[Any, ...]]:
    """What a statement on the workspace's SQLite file answers; a change it makes is committed."""
    connection = sqlite3.connect(ws.db_url.removeprefix("sqlite:///"))
    with connection:
        found = connection.execute(statement, args).fetchall()
    connection.close()
    return found


def seq_of(ws: Workspace, event_type: str) -> int:
    [(seq,)] = rows(ws, "select min(seq) from event where campaign_id = ? and type = ?", CAMPAIGN, event_type)
    return int(seq)  # type: ignore[call-overload]


def verify_names(ws: Workspace, seq: int, words: str) -> None:
    result = ws.run("audit", "verify")
    assert result.exit_code == 1, result.output
    assert f"{CAMPAIGN} event {seq}: " in result.stderr and words in result.stderr, result.stderr
    first = [line for line in result.stderr.splitlines() if line.startswith(CAMPAIGN)]
    assert len(first) == 1  # only the first broken event of the chain


def test_an_untouched_log_verifies(rogue: Workspace) -> None:
    result = rogue.run("audit", "verify")
    assert result.exit_code == 0, result.stderr
    assert "contributions and documents match" in result.output


@pytest.mark.parametrize("column", ["payload", "actor", "at"])
def test_an_edited_field_is_named(rogue: Workspace, column: str) -> None:
    seq = seq_of(rogue, "gate.decided")
    change = {
        "payload": "replace(payload, 'dg.planning', 'dir.digital')",
        "actor": "'dir.digital'",
        "at": "replace(at, '2025-06-16', '2025-06-14')",
    }[column]
    sql(rogue, f"update event set {column} = {change} where campaign_id = ? and seq = ?", CAMPAIGN, seq)
    verify_names(rogue, seq, "does not match its hash")


def test_a_deleted_event_is_named(rogue: Workspace) -> None:
    seq = seq_of(rogue, "gate.decided")
    sql(rogue, "delete from event where campaign_id = ? and seq = ?", CAMPAIGN, seq)
    verify_names(rogue, seq, f"missing: the sequence jumps from {seq - 1} to {seq + 1}")


def test_an_inserted_event_is_named(rogue: Workspace) -> None:
    seq = seq_of(rogue, "gate.decided")
    [(last,)] = rows(rogue, "select max(seq) from event where campaign_id = ?", CAMPAIGN)
    for moving in range(int(last), seq - 1, -1):  # type: ignore[call-overload]
        sql(rogue, "update event set seq = seq + 1 where campaign_id = ? and seq = ?", CAMPAIGN, moving)
    sql(
        rogue,
        "insert into event (campaign_id, seq, at, actor, type, payload, prev_hash, hash) "
        "select campaign_id, ?, at, 'legal.advisor', type, payload, prev_hash, hash from event "
        "where campaign_id = ? and seq = ?",
        seq,
        CAMPAIGN,
        seq + 1,
    )
    verify_names(rogue, seq, "does not match its hash")


def test_two_swapped_events_are_named(rogue: Workspace) -> None:
    seq = seq_of(rogue, "gate.decided")
    sql(rogue, "update event set seq = -1 where campaign_id = ? and seq = ?", CAMPAIGN, seq)
    sql(rogue, "update event set seq = ? where campaign_id = ? and seq = ?", seq, CAMPAIGN, seq + 1)
    sql(rogue, "update event set seq = ? where campaign_id = ? and seq = -1", seq + 1, CAMPAIGN)
    verify_names(rogue, seq, "does not link to the event before it")


def test_a_changed_contribution_row_is_named_at_its_batch(rogue: Workspace) -> None:
    seq = seq_of(rogue, "contributions.ingested")
    sql(rogue, "update contribution set audience = 'researchers' where id = (select min(id) from contribution)")
    verify_names(rogue, seq, "contribution row 1 of this batch was changed")


def test_a_deleted_contribution_row_is_named_at_its_batch(rogue: Workspace) -> None:
    seq = seq_of(rogue, "contributions.ingested")
    sql(rogue, "delete from contribution where id = (select max(id) from contribution)")
    verify_names(rogue, seq, "this batch stored 5 rows; 4 are there now")


def test_a_changed_document_is_named_at_its_stage(rogue: Workspace) -> None:
    seq = seq_of(rogue, "stage.completed")
    [(payload,)] = rows(rogue, "select payload from event where campaign_id = ? and seq = ?", CAMPAIGN, seq)
    document = rogue.out / json.loads(str(payload))["documents"][0]["path"]
    document.write_bytes(document.read_bytes().replace(b"<h2>", b"<h2>!", 1))  # in this test's own copy
    verify_names(rogue, seq, "document")
    verify_names(rogue, seq, "was changed after it was recorded")


def engine_of(ws: Workspace) -> Ed25519PrivateKey:
    """The workspace's engine key, as an insider who took it from the engine's machine holds it."""
    return load_private(ws.root / "engine-key.pem", None)


def rehash_from(ws: Workspace, seq: int, campaign: str = CAMPAIGN, *, resign: bool = True) -> None:
    """What a rogue with the database can do: recompute every hash from `seq` on; with `resign`, one who also
    took the engine's key re-signs them (the checks of what the events say must still catch them)."""
    key = engine_of(ws) if resign else None
    chain = rows(ws, "select seq, at, actor, type, payload from event where campaign_id = ? order by seq", campaign)
    found = rows(ws, "select hash from event where campaign_id = ? and seq = ?", campaign, seq - 1)
    prev = str(found[0][0]) if found else "0" * 64
    for number, at, actor, kind, payload in chain:
        if int(str(number)) < seq:
            continue
        moment = datetime.fromisoformat(str(at))
        new = event_hash(campaign, int(str(number)), moment, str(actor), str(kind), str(payload), prev)
        sql(
            ws,
            "update event set prev_hash = ?, hash = ?, engine_signature = ?, person_signature = '' "
            "where campaign_id = ? and seq = ?",
            prev,
            new,
            sign_hash(key, new) if key else "",
            campaign,
            number,
        )
        prev = new


def rewrite_payload(ws: Workspace, campaign: str, seq: int, change: Any, *, resign: bool = True) -> None:
    """Edit an event's payload as a rogue would, then recompute the chain's hashes from it on (and re-sign them,
    as one who took the engine's key would: see `rehash_from`)."""
    [(payload,)] = rows(ws, "select payload from event where campaign_id = ? and seq = ?", campaign, seq)
    body = json.loads(str(payload))
    change(body)
    sql(ws, "update event set payload = ? where campaign_id = ? and seq = ?", canonical(body), campaign, seq)
    rehash_from(ws, seq, campaign, resign=resign)


def test_a_rewritten_extension_date_is_named(rogue: Workspace) -> None:
    [(seq,)] = rows(rogue, "select seq from event where campaign_id = ? and type = 'window.extended'", VIDEO)
    rewrite_payload(rogue, VIDEO, int(str(seq)), lambda body: body.update(closes="2025-12-31"))
    result = rogue.run("audit", "verify")
    assert result.exit_code == 1
    assert f"{VIDEO} event {seq}: the recorded decision differs from what was signed" in result.stderr


def test_a_decision_claiming_authority_it_did_not_have_is_named(rogue: Workspace) -> None:
    seq = seq_of(rogue, "gate.decided")
    rewrite_payload(rogue, CAMPAIGN, seq, lambda body: body.update(capacity="escalation"))
    verify_names(rogue, seq, "the cited registry gives role for dg.planning")


def test_a_rewritten_registry_is_named(rogue: Workspace) -> None:
    def promote(body: dict[str, Any]) -> None:
        team = next(a for a in body["registry"]["approvers"] if a["id"] == "planning.team")
        team["roles"].append("dg-planning")

    rewrite_payload(rogue, "_registry", 1, promote)
    result = rogue.run("audit", "verify")
    assert result.exit_code == 1
    assert "_registry event 1: the registry it records does not match its digest" in result.stderr


def forge_text(body: dict[str, Any]) -> None:
    """The recorded text and the signed text alike: only the signature can tell."""
    body["text"] = body["signed"]["text"] = "approved without reading"


def test_a_rewritten_decision_fails_its_signature_even_when_rehashed(rogue: Workspace) -> None:
    seq = seq_of(rogue, "gate.decided")
    rewrite_payload(rogue, CAMPAIGN, seq, forge_text)
    verify_names(rogue, seq, "the signature of dg.planning does not verify")


def checkpoint(ws: Workspace) -> Path:
    path = ws.root / "checkpoint.json"
    result = ws.run("audit", "checkpoint", "--out", str(path), now="2025-09-01T12:00+04:00")
    assert result.exit_code == 0, result.stderr
    return path


def test_truncation_is_caught_only_with_a_checkpoint(rogue: Workspace) -> None:
    filed = checkpoint(rogue)
    [(last,)] = rows(rogue, "select max(seq) from event where campaign_id = ?", CAMPAIGN)
    sql(rogue, "delete from event where campaign_id = ? and seq >= ?", CAMPAIGN, int(last) - 1)  # type: ignore[call-overload]
    assert rogue.run("audit", "verify").exit_code == 0  # a shorter chain is still a valid chain
    result = rogue.run("audit", "verify", "--checkpoint", str(filed), *rogue.engine())
    assert result.exit_code == 1
    assert f"{CAMPAIGN} event {last}: in the checkpoint but gone from the log (truncated)" in result.stderr


def test_a_wholesale_rewrite_is_caught_with_a_checkpoint(rogue: Workspace) -> None:
    filed = checkpoint(rogue)
    seq = seq_of(rogue, "stage.started")
    sql(rogue, "update event set actor = 'dir.digital' where campaign_id = ? and seq = ?", CAMPAIGN, seq)
    rehash_from(rogue, seq)
    assert rogue.run("audit", "verify").exit_code == 0
    result = rogue.run("audit", "verify", "--checkpoint", str(filed), *rogue.engine())
    assert result.exit_code == 1 and "differs from the checkpoint (the chain was rewritten)" in result.stderr


def test_an_altered_checkpoint_is_refused(rogue: Workspace) -> None:
    filed = checkpoint(rogue)
    body = json.loads(filed.read_text())
    body["heads"][CAMPAIGN][0] -= 1
    filed.write_text(json.dumps(body))
    result = rogue.run("audit", "verify", "--checkpoint", str(filed), *rogue.engine())
    assert result.exit_code == 1 and "the checkpoint's own signature does not verify" in result.stderr


# --- replay -------------------------------------------------------------------------------------


def replayed(ws: Workspace, at: str, campaign: str = CAMPAIGN) -> dict:  # type: ignore[type-arg]
    result = ws.run("replay", campaign, "--at", at, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_replay_before_and_after_the_rejection_and_the_rework(rogue: Workspace) -> None:
    before = replayed(rogue, "2025-08-18T08:59+04:00")
    assert (before["stage"], before["attempt"], before["status"]) == ("analyse", 1, "awaiting-gate")
    after = replayed(rogue, "2025-08-18T09:00+04:00")
    assert (after["stage"], after["attempt"], after["status"]) == ("analyse", 2, "pending")
    [analyse] = [g for g in after["gates"] if g["stage"] == "analyse"]
    [decision] = analyse["decisions"]
    assert (decision["approver"], decision["decision"], decision["why"]) == ("dir.digital", "reject", "add figures")
    assert after["contributions"] == 5 and "dg.planning" in {a["id"] for a in after["approvers"]}


def test_replay_shows_the_window_before_and_after_an_extension(rogue: Workspace) -> None:
    history = json.loads(rogue.run("history", VIDEO, "--json").output)
    [extended] = [e for e in history if e["type"] == "window.extended"]
    moment = datetime.fromisoformat(extended["at"])
    before = replayed(rogue, (moment - timedelta(seconds=1)).isoformat(), VIDEO)
    after = replayed(rogue, moment.isoformat(), VIDEO)
    assert before["window_extended_to"] is None and after["window_extended_to"] == "2025-10-15"
    assert (before["window_closes"], before["window_state"]) == ("2025-09-30", "open")
    assert "until 2025-10-16 00:00 +04" in after["detail"]


def test_replay_before_the_start_is_refused(rogue: Workspace) -> None:
    result = rogue.run("replay", CAMPAIGN, "--at", "2025-01-01T00:00+04:00")
    assert result.exit_code == 1 and "had not started" in result.stderr


def test_state_rebuild_changes_nothing(rogue: Workspace) -> None:
    before = rogue.run("status", "--json", now="2025-09-01T12:00+04:00").output
    gates = rogue.run("gates", "--json", now="2025-09-01T12:00+04:00").output
    result = rogue.run("state", "rebuild")
    assert result.exit_code == 0 and "projections rebuilt from" in result.output
    assert rogue.run("status", "--json", now="2025-09-01T12:00+04:00").output == before
    assert rogue.run("gates", "--json", now="2025-09-01T12:00+04:00").output == gates


# --- bundles ------------------------------------------------------------------------------------


def test_an_exported_bundle_verifies_offline_and_fails_on_any_changed_byte(rogue: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "bundle"
    result = rogue.run("audit", "export", "--campaign", CAMPAIGN, str(folder), now="2025-09-01T12:00+04:00")
    assert result.exit_code == 0, result.stderr
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert {
        "events.jsonl",
        "heads.json",
        "contributions.json",
        "keys.json",
        "manifest.json",
        "report.ar.html",
        "report.en.html",
    } <= names
    assert any(n.startswith("documents/") for n in names)
    rogue.db_url = "sqlite:////nonexistent/nothing.db"  # offline: the database is out of reach
    verified = rogue.run("audit", "verify", "--bundle", str(folder), *rogue.engine())
    assert verified.exit_code == 0, verified.stderr
    for name in sorted(names):
        path = folder / name
        original = path.read_bytes()
        middle = len(original) // 2
        path.write_bytes(original[:middle] + bytes([original[middle] ^ 0x01]) + original[middle + 1 :])
        result = rogue.run("audit", "verify", "--bundle", str(folder), *rogue.engine())
        assert result.exit_code == 1, name
        path.write_bytes(original)
