"""`audit verify` believes no time a signer or an operator chose: a decision, an extension or a withdrawal signed
outside its gate's opening and its recording is named, and revocation and escalation are judged at the
recording instant. Each log is tampered with as a rogue administrator would: rows edited and every hash after
them recomputed, with no one's key (or, for a backdated signature, with a signer who colludes)."""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session, col, select

from musharaka.state.db import get_engine
from musharaka.state.events import canonical, event_hash
from musharaka.state.seal import sign_hash
from musharaka.state.signing import SignedDecision, SignedWithdrawal, load_private, sign
from musharaka.state.tables import Event
from tests.conftest import Workspace
from tests.flows.samples import CAMPAIGN, CONTRIBUTIONS
from tests.flows.test_gates import ESCALATION, GPA, edit_gates, edit_registry, gpa_in_conduct, started
from tests.flows.test_lifecycle import ok, to_conduct

pytestmark = pytest.mark.prefect  # runs flows on Prefect's server


def forge(
    ws: Workspace,
    campaign: str,
    seq: int,
    payload: Callable[[dict[str, Any]], None] | None = None,
    at: datetime | None = None,
) -> None:
    """Edit one stored event's payload or time, then recompute the hash of it and of every event after it, and
    re-sign them as one who also took the engine's key would (what the events say must still give them away)."""
    engine = load_private(ws.root / "engine-key.pem", None)
    with Session(get_engine(ws.db_url)) as session:
        chain = session.exec(select(Event).where(Event.campaign_id == campaign).order_by(col(Event.seq))).all()
        prev = chain[seq - 2].hash if seq > 1 else "0" * 64
        for event in chain[seq - 1 :]:
            if event.seq == seq and payload is not None:
                body = json.loads(event.payload)
                payload(body)
                event.payload = canonical(body)
            if event.seq == seq and at is not None:
                event.at = at.astimezone(UTC)  # as the log stores it, and hashes it
            event.prev_hash = prev
            event.hash = event_hash(campaign, event.seq, event.at, event.actor, event.type, event.payload, prev)
            event.engine_signature, event.person_signature = sign_hash(engine, event.hash), ""
            session.add(event)
            prev = event.hash
        session.commit()


def seq_of(ws: Workspace, campaign: str, event_type: str) -> int:
    with Session(get_engine(ws.db_url)) as session:
        query = select(Event.seq).where(Event.campaign_id == campaign, Event.type == event_type)
        return max(session.exec(query))


def resigned(ws: Workspace, signer: str, signed_at: str) -> Callable[[dict[str, Any]], None]:
    """What a signer colluding with the administrator does: the recorded message signed again, backdated."""
    key = load_private(ws.keys[signer], None)

    def change(body: dict[str, Any]) -> None:
        kind = SignedWithdrawal if "batch" in body["signed"] else SignedDecision
        message = kind.model_validate(body["signed"]).model_copy(
            update={"signed_at": datetime.fromisoformat(signed_at)}
        )
        body["signed"] = sign(message, key).model_dump(mode="json")

    return change


def verify_names(ws: Workspace, campaign: str, seq: int, words: str) -> None:
    result = ws.run("audit", "verify")
    assert result.exit_code == 1, result.output
    assert f"{campaign} event {seq}: {words}" in result.stderr, result.stderr


def test_an_approval_signed_months_before_its_gate_opened_is_named(ws: Workspace) -> None:
    started(ws, when="2025-06-15T09:00+04:00")
    ok(ws, "approve", CAMPAIGN, "prepare", *ws.key("dg.planning"), "--no-advance", now="2025-06-15T10:00+04:00")
    assert ws.run("audit", "verify").exit_code == 0
    seq = seq_of(ws, CAMPAIGN, "gate.decided")
    forge(ws, CAMPAIGN, seq, resigned(ws, "dg.planning", "2025-03-01T09:00:00+04:00"))
    verify_names(
        ws,
        CAMPAIGN,
        seq,
        "the signing time is impossible: it is dated 2025-03-01T09:00:00+04:00, before its gate opened at "
        "2025-06-15T05:00:00+00:00",
    )
    # and offline, in an exported bundle
    bundle = ws.root / "bundle"
    ok(ws, "audit", "export", "--campaign", CAMPAIGN, str(bundle), now="2025-06-15T11:00+04:00")
    offline = ws.run("audit", "verify", "--bundle", str(bundle), *ws.engine())
    assert offline.exit_code == 1 and f"{CAMPAIGN} event {seq}: the signing time is impossible" in offline.stderr


def test_an_extension_signed_before_conduct_started_is_named(ws: Workspace) -> None:
    gpa_in_conduct(ws)  # conduct starts at 2025-04-15 09:00, Muscat time
    ok(
        ws,
        "extend",
        GPA,
        "--closes",
        "2025-09-30",
        "--reason",
        "exams",
        *ws.key("dg.planning"),
        now="2025-06-10T10:00+04:00",
    )
    seq = seq_of(ws, GPA, "window.extended")
    forge(ws, GPA, seq, resigned(ws, "dg.planning", "2025-04-01T09:00:00+04:00"))
    impossible = "the signing time is impossible: it is dated 2025-04-01T09:00:00+04:00, "
    verify_names(ws, GPA, seq, f"{impossible}before conduct (attempt 1) started at 2025-04-15T05:00:00+00:00")


def test_a_withdrawal_signed_before_its_batch_was_ingested_is_named(ws: Workspace) -> None:
    to_conduct(ws)
    ok(ws, "ingest", CAMPAIGN, str(ws.write("c.csv", CONTRIBUTIONS)), now="2025-08-15T08:00+04:00")
    batch = seq_of(ws, CAMPAIGN, "contributions.ingested")
    ok(
        ws,
        "withdraw",
        CAMPAIGN,
        str(batch),
        "--reason",
        "a draft",
        *ws.key("planning.team"),
        now="2025-08-15T08:30+04:00",
    )
    seq = seq_of(ws, CAMPAIGN, "contributions.withdrawn")
    forge(ws, CAMPAIGN, seq, resigned(ws, "planning.team", "2025-08-01T09:00:00+04:00"))
    impossible = "the withdrawal's signing time is impossible: it is dated 2025-08-01T09:00:00+04:00, "
    verify_names(ws, CAMPAIGN, seq, f"{impossible}before batch {batch} was ingested at 2025-08-15T04:00:00+00:00")


def test_a_decision_moved_to_after_its_keys_revocation_is_named_whatever_its_signing_time(ws: Workspace) -> None:
    edit_registry(ws, lambda r: r["approvers"][0]["keys"][0].update(revoked_at="2025-06-15T10:00:00+04:00"))
    started(ws, when="2025-06-15T09:00+04:00")
    ok(ws, "approve", CAMPAIGN, "prepare", *ws.key("dg.planning"), "--no-advance", now="2025-06-15T09:30+04:00")
    assert ws.run("audit", "verify").exit_code == 0  # in force when signed and when recorded
    seq = seq_of(ws, CAMPAIGN, "gate.decided")
    # signed half an hour before the revocation, recorded (says the log now) a minute after it
    forge(ws, CAMPAIGN, seq, at=datetime.fromisoformat("2025-06-15T10:01:00+04:00"))
    verify_names(ws, CAMPAIGN, seq, "the signing key was not a key of dg.planning in force in the cited registry")


def test_an_escalation_moved_to_before_the_due_time_is_named(ws: Workspace) -> None:
    edit_gates(ws, CAMPAIGN, "prepare", ESCALATION)
    started(ws, when="2025-06-15T09:00+04:00")  # due at 2025-06-17T20:00Z
    ok(ws, "approve", CAMPAIGN, "prepare", *ws.key("undersecretary"), "--no-advance", now="2025-06-17T20:01:00Z")
    assert ws.run("audit", "verify").exit_code == 0
    seq = seq_of(ws, CAMPAIGN, "gate.decided")
    # signed at 20:01, recorded (says the log now) at 19:59: within the skew, but before the gate was overdue
    forge(ws, CAMPAIGN, seq, at=datetime.fromisoformat("2025-06-17T19:59:00+00:00"))
    no_authority = "the cited registry gave no authority for it: undersecretary may decide this gate by escalation "
    verify_names(ws, CAMPAIGN, seq, f"{no_authority}only once it is overdue")
