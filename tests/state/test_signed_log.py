"""Every event is signed: a database administrator with plain SQL and no key of anyone's appends forgeries with
every hash recomputed, and `audit verify` names them; rotating the engine key keeps the log verifiable."""

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from musharaka.state.events import GENESIS, canonical, digest, event_hash, utc_text
from musharaka.state.seal import engine_fingerprint, engine_held, sign_hash
from musharaka.state.signing import SignedDecision, fingerprint, load_private, public_text, sign
from tests.conftest import Workspace, make_workspace
from tests.flows.samples import CAMPAIGN

AT_GATE = "2025-06-15T09:00+04:00"  # the campaign starts and its prepare gate opens


@pytest.fixture
def gated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """A campaign at its prepare gate, open, awaiting the Director General; the database a SQLite file."""
    ws = make_workspace(tmp_path, monkeypatch, database=tmp_path / "state.db")
    assert ws.run("start", CAMPAIGN, now=AT_GATE).exit_code == 0
    yield ws


def rows(ws: Workspace, statement: str, *args: object) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(ws.db_url.removeprefix("sqlite:///"))
    found = connection.execute(statement, args).fetchall()
    connection.close()
    return found


def forge(
    ws: Workspace,
    campaign: str,
    kind: str,
    payload: dict[str, Any],
    *,
    actor: str,
    at: datetime,
    engine: Ed25519PrivateKey | None = None,
) -> int:
    """Append an event with plain SQL, its hash recomputed in the JCS form and linked to the chain's head, as a
    rogue administrator would; sealed with `engine` when given (a key of the rogue's own). Returns its seq."""
    last = rows(ws, "select seq, hash from event where campaign_id = ? order by seq desc limit 1", campaign)
    seq, prev = (last[0][0] + 1, last[0][1]) if last else (1, GENESIS)
    body = canonical(payload)
    own = event_hash(campaign, seq, at, actor, kind, body, prev)
    public, signature = (public_text(engine.public_key()), sign_hash(engine, own)) if engine else ("", "")
    connection = sqlite3.connect(ws.db_url.removeprefix("sqlite:///"))
    with connection:
        connection.execute(
            "insert into event (campaign_id, seq, at, actor, type, payload, prev_hash, hash, engine_key, "
            "engine_signature, person_signature) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '')",
            (
                campaign,
                seq,
                at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
                actor,
                kind,
                body,
                prev,
                own,
                public,
                signature,
            ),
        )
    connection.close()
    return int(seq)


def attacker_approval(ws: Workspace, attacker: Ed25519PrivateKey, *, engine: Ed25519PrivateKey | None) -> list[int]:
    """The first attack of issue 16: a registry version adding the attacker's key to the Director General, and
    an approval of the open prepare gate signed with it, citing that version; returns both events' seqs."""
    [(registry_body,)] = rows(ws, "select payload from event where campaign_id = '_registry' order by seq desc")
    registry = json.loads(registry_body)["registry"]
    for person in registry["approvers"]:
        if person["id"] == "dg.planning":
            person["keys"].append(
                {"id": "dg-2", "public": public_text(attacker.public_key()), "valid_from": "2025-01-01T00:00:00Z"}
            )
    at = datetime(2025, 6, 16, 5, 0, tzinfo=UTC)
    version = forge(
        ws,
        "_registry",
        "registry.recorded",
        {"registry": registry, "registry_digest": digest(registry)},
        actor="engine",
        at=at,
        engine=engine,
    )
    [(opened,)] = rows(ws, "select payload from event where campaign_id = ? and type = 'gate.opened'", CAMPAIGN)
    decision = SignedDecision(
        public_key="",
        campaign=CAMPAIGN,
        stage="prepare",
        attempt=1,
        decision="approve",
        text="",
        outputs_digest=json.loads(opened)["outputs_digest"],
        signed_at=at,
        approver="dg.planning",
    )
    approval = {
        "stage": "prepare",
        "attempt": 1,
        "approver": "dg.planning",
        "decision": "approve",
        "text": "",
        "principal": "dg.planning",
        "capacity": "role",
        "roles": ["director-general"],
        "signed": sign(decision, attacker).model_dump(mode="json"),
        "registry_digest": digest(registry),
    }
    decided = forge(ws, CAMPAIGN, "gate.decided", approval, actor="dg.planning", at=at, engine=engine)
    return [version, decided]


def readiness(ws: Workspace) -> str:
    return str(ws.write("readiness.yaml", "management_support: I sponsor it myself.\n"))


@pytest.mark.prefect
def test_an_untouched_signed_log_verifies_and_says_which_engine_key_it_trusted(gated: Workspace) -> None:
    result = gated.run("audit", "verify")
    assert result.exit_code == 0, result.stderr
    trusted = engine_fingerprint(public_text(load_private(gated.root / "engine-key.pem", None).public_key()))
    assert f"local engine key {trusted}" in result.stderr
    [(signer,)] = rows(gated, "select distinct engine_key from event")  # every event, one key
    assert engine_fingerprint(signer) == trusted


@pytest.mark.prefect
def test_an_appended_registry_version_and_approval_with_an_attackers_key_are_named(gated: Workspace) -> None:
    version, decided = attacker_approval(gated, Ed25519PrivateKey.generate(), engine=None)
    result = gated.run("audit", "verify")
    assert result.exit_code == 1
    assert f"_registry event {version}: it carries no engine signature" in result.stderr
    assert f"{CAMPAIGN} event {decided}: it carries no engine signature" in result.stderr


@pytest.mark.prefect
def test_forgeries_sealed_with_a_key_of_the_attackers_own_are_named(gated: Workspace) -> None:
    rogue_engine = Ed25519PrivateKey.generate()
    version, decided = attacker_approval(gated, Ed25519PrivateKey.generate(), engine=rogue_engine)
    rogue = engine_fingerprint(public_text(rogue_engine.public_key()))
    result = gated.run("audit", "verify")
    assert result.exit_code == 1
    assert f"_registry event {version}: it is signed by key {rogue}, which is not a key the engine held" in (
        result.stderr
    )
    assert f"{CAMPAIGN} event {decided}: it is signed by key {rogue}" in result.stderr


@pytest.mark.prefect
def test_state_rebuild_refuses_a_forged_log_and_the_decision_stays_unrecorded(gated: Workspace) -> None:
    done = {"status": "implemented", "percent": 100, "note": "implemented", "evidence": None}
    seq = forge(gated, CAMPAIGN, "decision.updated", done, actor="engine", at=datetime(2025, 6, 20, tzinfo=UTC))
    rebuilt = gated.run("state", "rebuild")
    assert rebuilt.exit_code == 1
    assert f"{CAMPAIGN} event {seq}: it carries no engine signature" in rebuilt.stderr
    assert "state rebuild refused: the log does not verify" in rebuilt.stderr
    assert rows(gated, "select count(*) from decision_update") == [(0,)]


@pytest.mark.prefect
def test_an_unsigned_decision_update_appended_after_a_checkpoint_is_named_with_and_without_it(
    gated: Workspace,
) -> None:
    filed = gated.root / "checkpoint.json"
    assert gated.run("audit", "checkpoint", "--out", str(filed), now="2025-06-15T10:00+04:00").exit_code == 0
    done = {"status": "implemented", "percent": 100, "note": "implemented", "evidence": None}
    seq = forge(gated, CAMPAIGN, "decision.updated", done, actor="dir.digital", at=datetime(2025, 6, 20, tzinfo=UTC))
    for extra in ([], ["--checkpoint", str(filed), *gated.engine()]):
        result = gated.run("audit", "verify", *extra)
        assert result.exit_code == 1
        assert f"{CAMPAIGN} event {seq}: it carries no engine signature" in result.stderr


@pytest.mark.prefect
def test_an_engine_signature_copied_from_another_event_does_not_verify(gated: Workspace) -> None:
    [(public, signature)] = rows(
        gated, "select engine_key, engine_signature from event where campaign_id = ? and seq = 1", CAMPAIGN
    )
    done = {"status": "implemented", "percent": 100, "note": "", "evidence": None}
    seq = forge(gated, CAMPAIGN, "decision.updated", done, actor="engine", at=datetime(2025, 6, 20, tzinfo=UTC))
    connection = sqlite3.connect(gated.db_url.removeprefix("sqlite:///"))
    with connection:
        connection.execute(
            "update event set engine_key = ?, engine_signature = ? where campaign_id = ? and seq = ?",
            (public, signature, CAMPAIGN, seq),
        )
    connection.close()
    result = gated.run("audit", "verify")
    assert result.exit_code == 1
    assert f"{CAMPAIGN} event {seq}: its engine signature (key {engine_fingerprint(public)}) does not verify" in (
        result.stderr
    )


@pytest.mark.prefect
def test_verify_with_another_engine_fingerprint_names_every_chain(gated: Workspace) -> None:
    result = gated.run("audit", "verify", "--engine", "0123456789abcdef")
    assert result.exit_code == 1
    assert f"{CAMPAIGN} event 1: it is signed by key" in result.stderr
    assert "which is not a key the engine held (trusted engine key 0123456789abcdef)" in result.stderr
    assert "_registry event 1:" in result.stderr


@pytest.mark.prefect
def test_an_event_by_a_person_proven_with_their_key_carries_their_signature(gated: Workspace) -> None:
    # the planning department's account needs no key; the Director General proves it is them
    submitted = gated.run("submit", CAMPAIGN, "prepare", readiness(gated), *gated.key("dg.planning"), now=AT_GATE)
    assert submitted.exit_code == 0, submitted.stderr
    [(actor, signed)] = rows(
        gated,
        "select actor, person_signature from event where campaign_id = ? and type = 'submission.recorded'",
        CAMPAIGN,
    )
    assert actor == "dg.planning"
    seal = json.loads(signed)
    public = public_text(load_private(gated.keys["dg.planning"], None).public_key())
    assert (seal["person"], seal["public_key"]) == ("dg.planning", public)
    assert gated.run("audit", "verify").exit_code == 0
    others = rows(gated, "select count(*) from event where person_signature != '' and actor != 'dg.planning'")
    assert others == [(0,)]  # the engine's own events carry the engine's signature only


@pytest.mark.prefect
def test_a_person_signature_by_a_key_not_theirs_is_named(gated: Workspace) -> None:
    gated.run("submit", CAMPAIGN, "prepare", readiness(gated), *gated.key("dg.planning"), now=AT_GATE)
    [(seq, event_hash_, signed)] = rows(
        gated,
        "select seq, hash, person_signature from event where campaign_id = ? and type = 'submission.recorded'",
        CAMPAIGN,
    )
    stranger = Ed25519PrivateKey.generate()
    seal = {**json.loads(signed), "public_key": public_text(stranger.public_key())}
    seal["signature"] = sign_hash(stranger, event_hash_)
    connection = sqlite3.connect(gated.db_url.removeprefix("sqlite:///"))
    with connection:
        connection.execute(
            "update event set person_signature = ? where campaign_id = ? and seq = ?", (canonical(seal), CAMPAIGN, seq)
        )
    connection.close()
    result = gated.run("audit", "verify")
    assert result.exit_code == 1
    assert f"{CAMPAIGN} event {seq}: it is signed by dg.planning with key {fingerprint(seal['public_key'])}" in (
        result.stderr
    )


@pytest.mark.prefect
def test_a_rotated_engine_key_keeps_the_log_verifiable_from_either_fingerprint(gated: Workspace) -> None:
    old = engine_fingerprint(public_text(load_private(gated.root / "engine-key.pem", None).public_key()))
    rotated = gated.run("audit", "rotate-key", now="2025-06-15T10:00+04:00")
    assert rotated.exit_code == 0, rotated.stderr
    new_key = load_private(gated.root / "engine-key.pem", None)
    new = engine_fingerprint(public_text(new_key.public_key()))
    assert f"engine key {old} replaced by {new}" in rotated.output
    assert (gated.root / f"engine-key.pem.retired-{old[:16]}").exists()
    # the next events are signed by the new key
    assert gated.approve(CAMPAIGN, "prepare", "dg.planning", now="2025-06-16T09:00+04:00").exit_code == 0
    signers = [
        engine_fingerprint(k)
        for (k,) in rows(gated, "select engine_key from event where campaign_id = ? order by seq", CAMPAIGN)
    ]
    assert signers[0] == old and signers[-1] == new
    for trusted in (old, new):
        result = gated.run("audit", "verify", "--engine", trusted)
        assert result.exit_code == 0, result.stderr
    chain = rows(gated, "select seq from event where campaign_id = '_engine'")
    assert chain == [(1,)]
    # a checkpoint and a bundle sealed by the new key count under the fingerprint the auditor was first given
    filed, bundle = gated.root / "checkpoint.json", gated.root / "bundle"
    assert gated.run("audit", "checkpoint", "--out", str(filed), now="2025-06-16T10:00+04:00").exit_code == 0
    assert gated.run("audit", "export", "--all", str(bundle), now="2025-06-16T10:00+04:00").exit_code == 0
    for trusted in (old, new):
        for given in (["--checkpoint", str(filed)], ["--bundle", str(bundle)]):
            result = gated.run("audit", "verify", *given, "--engine", trusted)
            assert result.exit_code == 0, (given, result.stderr)
    stranger = gated.run("audit", "verify", "--bundle", str(bundle), "--engine", "f" * 64)
    assert stranger.exit_code == 1 and f"sealed by key {new}, not the engine key {'f' * 64}" in stranger.stderr


@pytest.mark.prefect
def test_is_this_a_key_the_engine_held_follows_the_rotations(gated: Workspace) -> None:
    from sqlmodel import Session, col, select

    from musharaka.state.db import get_engine
    from musharaka.state.tables import Event

    first = public_text(load_private(gated.root / "engine-key.pem", None).public_key())
    gated.run("audit", "rotate-key", now="2025-06-15T10:00+04:00")
    second = public_text(load_private(gated.root / "engine-key.pem", None).public_key())
    with Session(get_engine(gated.db_url)) as session:
        chain = list(session.exec(select(Event).where(Event.campaign_id == "_engine").order_by(col(Event.seq))))
    stranger = public_text(Ed25519PrivateKey.generate().public_key())
    assert engine_held(second, engine_fingerprint(first), chain)
    assert engine_held(first, engine_fingerprint(second), chain)
    assert not engine_held(stranger, engine_fingerprint(first), chain)
    assert not engine_held(first, engine_fingerprint(stranger), chain)


@pytest.mark.prefect
def test_a_forged_rotation_to_the_attackers_key_is_named(gated: Workspace) -> None:
    current = public_text(load_private(gated.root / "engine-key.pem", None).public_key())
    attacker = Ed25519PrivateKey.generate()
    from musharaka.state.seal import rotation_message

    mine = public_text(attacker.public_key())
    proof = attacker.sign(rotation_message(current, mine))
    import base64

    payload = {"previous": current, "public_key": mine, "proof": base64.b64encode(proof).decode()}
    at = datetime(2025, 6, 15, 7, tzinfo=UTC)
    forge(gated, "_engine", "engine.key-rotated", payload, actor="engine", at=at, engine=attacker)
    done = {"status": "implemented", "percent": 100, "note": "", "evidence": None}
    seq = forge(
        gated, CAMPAIGN, "decision.updated", done, actor="engine", at=datetime(2025, 6, 20, tzinfo=UTC), engine=attacker
    )
    result = gated.run("audit", "verify")
    assert result.exit_code == 1
    assert "_engine event 1: it is not signed by the key it retires" in result.stderr
    fake = engine_fingerprint(mine)
    assert f"{CAMPAIGN} event {seq}: it is signed by key {fake}, which is not a key the engine held" in result.stderr
    assert "_registry" not in result.stderr  # the events the engine's real key signed still verify


def test_a_payload_json_cannot_carry_is_refused_naming_the_field() -> None:
    from musharaka.state.events import NotCanonical

    with pytest.raises(NotCanonical, match=r"outputs\.ratios\[1\]: nan is not representable"):
        canonical({"outputs": {"ratios": [0.5, float("nan")]}})
    with pytest.raises(NotCanonical, match=r"^count: "):
        canonical({"count": 2**60})


def test_the_envelope_time_is_the_exact_utc_text() -> None:
    assert utc_text(datetime(2025, 6, 15, 9, 0, tzinfo=UTC)) == "2025-06-15T09:00:00.000000Z"


@pytest.mark.prefect
def test_a_payload_not_stored_in_its_canonical_form_is_named(gated: Workspace) -> None:
    [(payload,)] = rows(gated, "select payload from event where campaign_id = ? and seq = 1", CAMPAIGN)
    connection = sqlite3.connect(gated.db_url.removeprefix("sqlite:///"))
    with connection:
        spaced = json.dumps(json.loads(payload), indent=1, ensure_ascii=False)
        connection.execute("update event set payload = ? where campaign_id = ? and seq = 1", (spaced, CAMPAIGN))
    connection.close()
    result = gated.run("audit", "verify")
    assert result.exit_code == 1
    assert f"{CAMPAIGN} event 1: its payload is not stored in its canonical form (JCS)" in result.stderr


def test_an_invitation_by_a_proven_administrator_before_any_campaign_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = make_workspace(tmp_path, monkeypatch, database=tmp_path / "state.db")
    invited = ws.run("people", "invite", "dg.planning", *ws.key("it.administrator"))
    assert invited.exit_code == 0, invited.stderr
    [(signed,)] = rows(ws, "select person_signature from event where type = 'person.invited'")
    assert json.loads(signed)["person"] == "it.administrator"
    result = ws.run("audit", "verify")
    assert result.exit_code == 0, result.stderr
