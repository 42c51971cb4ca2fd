"""Decisions signed with a passkey, checked offline by `audit verify` and in an exported bundle.

The passkeys here are software authenticators (keys made for each test, assertions built as a device
builds them: tests/state/test_passkeys.py), enrolled through the same invitation and enrolment the
browser uses, and the decision is recorded through the same engine call as the web workspace's.
"""

import base64
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from musharaka.flows.engine import decisions, people, records
from musharaka.stages.approvers import Delegation, Passkey
from musharaka.state.db import session_scope, transaction
from musharaka.state.events import RegistryRecorded, events_of, payload_of
from musharaka.state.passkeys import algorithm_of, b64url
from musharaka.state.projection import open_gate
from musharaka.state.proof import delegation_message
from musharaka.state.signing import PASSKEY, SignedDecision
from tests.conftest import Workspace, make_workspace
from tests.flows.samples import CAMPAIGN
from tests.flows.test_gates import history, started
from tests.state.test_audit import rewrite_payload
from tests.state.test_passkeys import ORIGIN, RP_ID, Signer, _assertion, _eddsa, _es256, _rs256

pytestmark = pytest.mark.prefect  # runs flows on Prefect's server

ENROLLED = datetime.fromisoformat("2025-06-15T10:00+04:00")  # after the start
SIGNED = datetime.fromisoformat("2025-06-16T09:00+04:00")


def enrol(make: Callable[[], tuple[bytes, Signer]], person: str = "dg.planning") -> Signer:
    """A passkey made for `person` from an administrator's invitation; its signer, as the device holds it."""
    public, sign = make()
    plans = records.load_plan_set()
    assert plans.registry is not None
    registry = plans.registry
    secret = transaction(lambda s: people.invite(registry, person, actor="administrator", now=ENROLLED, session=s))
    passkey = Passkey(
        id=f"{person}-passkey-1",
        credential_id=b64url(b"credential-1"),
        public_key=b64url(public),
        algorithm=algorithm_of(public),  # type: ignore[arg-type]
        rp_id=RP_ID,
        origin=ORIGIN,
        valid_from=ENROLLED,
    )
    transaction(lambda s: people.enrol(secret, registry, passkey, now=ENROLLED, session=s))
    return sign


def open_digest() -> str:
    with session_scope() as session:
        gate = open_gate(CAMPAIGN, session=session)
        assert gate is not None
        return gate.outputs_digest


def approval(text: str = "") -> SignedDecision:
    """dg.planning's approval of the open prepare gate, as the web workspace builds it before the passkey signs."""
    return SignedDecision(
        campaign=CAMPAIGN,
        stage="prepare",
        attempt=1,
        decision="approve",
        text=text,
        outputs_digest=open_digest(),
        signed_at=SIGNED,
        approver="dg.planning",
        public_key=PASSKEY,
    )


def signed_by(sign: Signer, unsigned: SignedDecision) -> SignedDecision:
    """The decision with the passkey's assertion over its message, as the device returns it."""
    return unsigned.model_copy(update={"assertion": _assertion(sign, unsigned.message())})


def approve_with_passkey(ws: Workspace, sign: Signer, *, text: str = "موافق") -> None:
    decisions.submit(CAMPAIGN, signed_by(sign, approval(text)), plans=records.load_plan_set(), now=SIGNED)


def decided(ws: Workspace) -> dict[str, Any]:
    return next(e for e in history(ws) if e["type"] == "gate.decided")


@pytest.mark.parametrize("make", [_es256, _rs256, _eddsa], ids=["ES256", "RS256", "EdDSA"])
def test_a_passkey_decision_is_recorded_and_verifies(ws: Workspace, make: Callable[[], tuple[bytes, Signer]]) -> None:
    started(ws)
    approve_with_passkey(ws, enrol(make))
    event = decided(ws)
    assert (event["actor"], event["payload"]["signed"]["assertion"]["credential_id"]) == (
        "dg.planning",
        "Y3JlZGVudGlhbC0x",
    )
    result = ws.run("audit", "verify")
    assert result.exit_code == 0, result.stderr
    # the registry the decision cites holds the passkey as enrolled: an auditor needs nothing else
    with session_scope() as session:
        recorded = [payload_of(e) for e in events_of("_registry", session=session)]
    [registry] = [
        p.registry
        for p in recorded
        if isinstance(p, RegistryRecorded) and p.registry_digest == event["payload"]["registry_digest"]
    ]
    dg = next(a for a in registry["approvers"] if a["id"] == "dg.planning")
    assert [p["id"] for p in dg["passkeys"]] == ["dg.planning-passkey-1"]


def test_a_passkey_decision_made_for_another_message_is_refused_and_recorded(ws: Workspace) -> None:
    started(ws)
    sign = enrol(_es256)
    shown = approval()
    # the device signed the approval shown; a rejection is submitted with that assertion
    swapped = shown.model_copy(
        update={"decision": "reject", "text": "x", "assertion": _assertion(sign, shown.message())}
    )
    with pytest.raises(records.Refused, match="another message") as refusal:
        decisions.submit(CAMPAIGN, swapped, plans=records.load_plan_set(), now=SIGNED)
    assert refusal.value.code == "bad-signature"
    assert history(ws)[-1]["payload"]["code"] == "bad-signature"


def flip(text: str) -> str:
    """The same base64url text with one bit of its decoded bytes changed."""
    raw = bytearray(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    raw[len(raw) // 2] ^= 0x01
    return b64url(bytes(raw))


@pytest.fixture
def on_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A workspace whose database is a SQLite file on every pass: the rogue below edits it with SQL."""
    return make_workspace(tmp_path / "rogue", monkeypatch, database=tmp_path / "rogue.db")


@pytest.mark.parametrize("part", ["authenticator_data", "client_data_json", "signature", "text"])
def test_audit_verify_names_a_passkey_decision_changed_in_any_byte(on_file: Workspace, part: str) -> None:
    ws = on_file
    started(ws)
    approve_with_passkey(ws, enrol(_es256))
    seq = decided(ws)["seq"]

    def tamper(body: dict[str, Any]) -> None:
        if part == "text":
            body["text"] = body["signed"]["text"] = "approved without reading"
        else:
            body["signed"]["assertion"][part] = flip(body["signed"]["assertion"][part])

    rewrite_payload(ws, CAMPAIGN, seq, tamper)  # and every hash after it recomputed, as a rogue would
    result = ws.run("audit", "verify")
    assert result.exit_code == 1
    assert f"{CAMPAIGN} event {seq}: the signature of dg.planning does not verify" in result.stderr


def test_an_exported_bundle_checks_a_passkey_decision_offline(ws: Workspace, tmp_path: Path) -> None:
    started(ws)
    approve_with_passkey(ws, enrol(_es256))
    folder = tmp_path / "bundle"
    result = ws.run("audit", "export", "--campaign", CAMPAIGN, str(folder), now="2025-06-17T12:00+04:00")
    assert result.exit_code == 0, result.stderr
    ws.db_url = "sqlite:////nonexistent/nothing.db"  # offline: the database is out of reach
    assert ws.run("audit", "verify", "--bundle", str(folder), *ws.engine()).exit_code == 0
    keys = json.loads((folder / "keys.json").read_text(encoding="utf-8"))
    assert [(k["id"], k["kind"]) for k in keys["dg.planning"] if k["kind"] == "passkey"] == [
        ("dg.planning-passkey-1", "passkey")
    ]
    events = folder / "events.jsonl"
    original = events.read_text(encoding="utf-8")
    signature = decided(ws)["payload"]["signed"]["assertion"]["signature"]
    assert original.count(signature) == 1
    events.write_text(original.replace(signature, flip(signature)), encoding="utf-8")
    result = ws.run("audit", "verify", "--bundle", str(folder), *ws.engine())
    assert result.exit_code == 1
    assert "events.jsonl" in result.stderr  # the sealed manifest no longer matches what the bundle holds


def test_a_rewritten_gate_no_longer_matches_the_outputs_its_approval_signed(on_file: Workspace) -> None:
    ws = on_file
    started(ws)
    approve_with_passkey(ws, enrol(_es256))
    opened = next(e for e in history(ws) if e["type"] == "gate.opened")
    decision = decided(ws)["seq"]
    rewrite_payload(ws, CAMPAIGN, opened["seq"], lambda body: body.update(outputs_digest="ab" * 32))
    result = ws.run("audit", "verify")
    assert result.exit_code == 1
    assert f"{CAMPAIGN} event {decision}: it signs outputs" in result.stderr
    assert "but the gate opened on abababababab" in result.stderr


def test_a_passkey_signature_is_not_taken_long_after_it_was_made(ws: Workspace) -> None:
    started(ws)
    sign = enrol(_es256)
    signed = signed_by(sign, approval())
    later = SIGNED + timedelta(minutes=11)
    with pytest.raises(records.Refused, match="more than 0:10:00 ago") as refusal:
        decisions.submit(CAMPAIGN, signed, plans=records.load_plan_set(), now=later)
    assert refusal.value.code == "replayed"


def test_a_delegation_is_signed_by_its_delegators_passkey_and_a_rewritten_one_is_named(on_file: Workspace) -> None:
    ws = on_file
    started(ws)
    sign = enrol(_es256)
    registry = records.load_plan_set().registry
    assert registry is not None
    lent = Delegation(
        delegator="dg.planning",
        delegate="dir.digital",
        starts=ENROLLED,
        ends=ENROLLED + timedelta(days=7),
        reason="leave",
    )
    stranger = _assertion(_es256()[1], delegation_message(lent))  # a key that is not dg.planning's passkey
    with pytest.raises(records.Refused, match="does not hold") as refusal:
        transaction(lambda s: people.delegate(registry, lent, stranger, now=ENROLLED, session=s))
    assert refusal.value.code == "bad-signature"
    signed = _assertion(sign, delegation_message(lent))
    transaction(lambda s: people.delegate(registry, lent, signed, now=ENROLLED, session=s))
    assert ws.run("audit", "verify").exit_code == 0
    with session_scope() as session:
        [seq] = [e.seq for e in events_of("_registry", session=session) if e.type == "delegation.recorded"]
    longer = (ENROLLED + timedelta(days=70)).isoformat()
    rewrite_payload(ws, "_registry", seq, lambda body: body["delegation"].update(ends=longer))
    result = ws.run("audit", "verify")
    assert result.exit_code == 1
    assert f"_registry event {seq}: the delegation by dg.planning does not verify" in result.stderr
