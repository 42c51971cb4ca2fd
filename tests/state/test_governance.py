"""The registry as a root of trust: a version takes effect only when its predecessor's administrators sign it,
from a pinned first version; checkpoints and bundles count only under the engine key the auditor was given."""

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from musharaka.stages.approvers import ApproversRegistry
from musharaka.stages.gates import authority
from musharaka.stages.plans import GatePolicy
from musharaka.state.db import get_engine
from musharaka.state.events import REGISTRY_CHAIN, GateDecided, RegistryRecorded, canonical, digest, event_hash
from musharaka.state.seal import sign_hash
from musharaka.state.signing import SignedDecision, load_private, public_text, sign
from tests.conftest import Workspace, forget_settings, make_workspace
from tests.flows.samples import CAMPAIGN
from tests.flows.test_gates import edit_registry, gate, history, sign_registry, started
from tests.state.test_audit import rewrite_payload, rows, sql


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """The test's workspace, its database a SQLite file on every pass: the rogue below writes to it with plain SQL."""
    workspace = make_workspace(tmp_path, monkeypatch, database=tmp_path / "state.db")
    yield workspace
    get_engine(workspace.db_url).dispose()
    forget_settings()


FORGED_AT = "2025-06-15T10:00:00+04:00"


def append_with_sql(ws: Workspace, campaign: str, actor: str, kind: str, payload: dict[str, Any], at: str) -> int:
    """What a rogue with the database can do: append an event, its hash computed as the engine would; returns its
    sequence number. It is sealed with the engine's key, as one who also took that key would: without it, the
    missing engine signature names it first (tests/state/test_signed_log.py); with it, only the registry's own
    governance can."""
    [(last, prev)] = rows(ws, "select seq, hash from event where campaign_id = ? order by seq desc limit 1", campaign)
    seq, body, moment = int(str(last)) + 1, canonical(payload), datetime.fromisoformat(at)
    sealed = event_hash(campaign, seq, moment, actor, kind, body, str(prev))
    stored = moment.astimezone(UTC).replace(tzinfo=None)  # as the engine stores it: UTC, without a zone
    engine = load_private(ws.root / "engine-key.pem", None)
    sql(
        ws,
        "insert into event (campaign_id, seq, at, actor, type, payload, prev_hash, hash, engine_key, engine_signature) "
        "values (?,?,?,?,?,?,?,?,?,?)",
        campaign,
        seq,
        stored.isoformat(sep=" ", timespec="microseconds"),
        actor,
        kind,
        body,
        str(prev),
        sealed,
        public_text(engine.public_key()),
        sign_hash(engine, sealed),
    )
    return seq


def forge_key_for_the_director_general(ws: Workspace) -> int:
    """The attack: a registry version giving dg.planning an attacker's key, and an approval of the open prepare
    gate signed with it, appended with plain SQL; returns the forged registry event's sequence."""
    attacker = Ed25519PrivateKey.generate()
    [(payload,)] = rows(ws, "select payload from event where campaign_id = ? order by seq desc limit 1", REGISTRY_CHAIN)
    body = json.loads(str(payload))["registry"]
    dg = next(a for a in body["approvers"] if a["id"] == "dg.planning")
    dg["keys"].append(
        {
            "id": "dg.planning-2",
            "public": public_text(attacker.public_key()),
            "valid_from": "2025-01-01T00:00:00+04:00",
            "valid_until": None,
            "revoked_at": None,
        }
    )
    forged = RegistryRecorded(registry=body, registry_digest=digest(body))
    seq = append_with_sql(ws, REGISTRY_CHAIN, "engine", forged.TYPE, forged.model_dump(mode="json"), FORGED_AT)
    opened = next(e for e in history(ws) if e["type"] == "gate.opened")["payload"]
    signed = sign(
        SignedDecision(
            campaign=CAMPAIGN,
            stage="prepare",
            attempt=1,
            decision="approve",
            text="",
            outputs_digest=opened["outputs_digest"],
            signed_at=datetime.fromisoformat(FORGED_AT),
            approver="dg.planning",
            public_key="",
        ),
        attacker,
    )
    power = authority(
        ApproversRegistry.model_validate(body),
        "dg.planning",
        GatePolicy.model_validate(opened["policy"]),
        now=datetime.fromisoformat(FORGED_AT),
        due=datetime.fromisoformat(opened["due_at"]),
    )
    decided = GateDecided(
        stage="prepare",
        attempt=1,
        approver="dg.planning",
        decision="approve",
        text="",
        principal=power.principal,
        capacity=power.capacity,
        roles=list(power.roles),
        signed=signed.model_dump(mode="json"),
        registry_digest=digest(body),
    )
    append_with_sql(ws, CAMPAIGN, "dg.planning", decided.TYPE, decided.model_dump(mode="json"), FORGED_AT)
    return seq


@pytest.mark.prefect
def test_a_registry_version_appended_with_sql_is_named_with_and_without_a_checkpoint(ws: Workspace) -> None:
    started(ws)
    filed = ws.root / "checkpoint.json"
    assert ws.run("audit", "checkpoint", "--out", str(filed), now="2025-06-15T09:30+04:00").exit_code == 0
    seq = forge_key_for_the_director_general(ws)
    named = f"_registry event {seq}: registry version"
    why = "is signed by 0 of the 1 administrator(s) needed (none signed; administrators of the version before it"
    for args in ([], ["--checkpoint", str(filed), *ws.engine()]):
        result = ws.run("audit", "verify", *args)
        assert result.exit_code == 1, result.output
        assert named in result.stderr and why in result.stderr, result.stderr
        assert f"{CAMPAIGN} event" not in result.stderr  # the forged approval is otherwise a perfect one


@pytest.mark.prefect
def test_state_rebuild_refuses_a_forged_registry_and_the_gate_stays_open(ws: Workspace) -> None:
    started(ws)
    seq = forge_key_for_the_director_general(ws)
    result = ws.run("state", "rebuild")
    assert result.exit_code == 1
    assert f"the people registry in the log does not hold: _registry event {seq}" in result.stderr
    pending = gate(ws)  # still pending: the forged approval did not count
    assert (pending["stage"], pending["approvals"]) == ("prepare", [])


@pytest.mark.prefect
def test_the_engine_records_nothing_more_on_a_forged_registry(ws: Workspace) -> None:
    started(ws)
    forge_key_for_the_director_general(ws)
    before = len(history(ws))
    result = ws.approve(CAMPAIGN, "prepare", "dir.digital", now="2025-06-15T11:00+04:00")
    assert result.exit_code == 1 and "the people registry in the log does not hold" in result.stderr
    assert len(history(ws)) == before


@pytest.mark.prefect
def test_a_version_claiming_the_signed_file_but_holding_another_key_is_named(ws: Workspace) -> None:
    started(ws)
    [(payload,)] = rows(ws, "select payload from event where campaign_id = ? and seq = 1", REGISTRY_CHAIN)
    recorded = json.loads(str(payload))
    body = json.loads(json.dumps(recorded["registry"]))
    body["approvers"][0]["keys"][0]["public"] = public_text(Ed25519PrivateKey.generate().public_key())
    forged = {**recorded, "registry": body, "registry_digest": digest(body), "source": recorded["registry"]}
    seq = append_with_sql(ws, REGISTRY_CHAIN, "engine", "registry.recorded", forged, FORGED_AT)
    result = ws.run("audit", "verify")
    assert result.exit_code == 1
    assert f"_registry event {seq}: the registry it records is not the signed registry file" in result.stderr


def add_key(registry: dict[str, Any]) -> None:
    registry["approvers"][0]["keys"].append(
        {"id": "dg-new", "public": public_text(Ed25519PrivateKey.generate().public_key()), "valid_from": FORGED_AT}
    )


@pytest.mark.prefect
def test_an_unsigned_change_of_approvers_yaml_is_refused_and_nothing_is_recorded(ws: Workspace) -> None:
    started(ws)
    before = history(ws)
    edit_registry(ws, add_key, signed=False)
    result = ws.approve(CAMPAIGN, "prepare", "dg.planning", now="2025-06-15T11:00+04:00")
    assert result.exit_code == 1
    assert "refused (registry-unsigned)" in result.stderr
    assert "is signed by 0 of the 1 administrator(s) needed (none signed" in result.stderr
    assert "musharaka people sign-registry --as ID --key FILE" in result.stderr
    assert history(ws) == before  # not even a refusal: the decision was never judged
    assert rows(ws, "select count(*) from event where campaign_id = ?", REGISTRY_CHAIN) == [(1,)]
    # in Arabic, the refusal first says what it means for the approver, then the engine's detail
    arabic = ws.run(
        "--lang", "ar", "approve", CAMPAIGN, "prepare", *ws.key("dg.planning"), now="2025-06-15T11:00+04:00"
    )
    assert arabic.exit_code == 1
    meaning, detail = arabic.stderr.splitlines()[:2]
    assert meaning == "عُدِّل سجل الأشخاص ولم يوقّع مسؤولوه نسخته الجديدة بعد، فلم يُسجَّل شيء. أبلِغ مسؤولي السجل."
    assert "(registry-unsigned)" in detail


@pytest.mark.prefect
def test_a_change_takes_effect_once_the_threshold_of_administrators_has_signed(ws: Workspace) -> None:
    def two_administrators(registry: dict[str, Any]) -> None:
        registry["administrators"] = {"threshold": 2}
        registry["approvers"][0]["duties"] = ["approver", "administrator"]  # dg.planning

    edit_registry(ws, two_administrators)  # before anything is recorded: pinned anew
    started(ws)
    edit_registry(ws, add_key, signed=False)
    sign_registry(ws, "it.administrator")
    once = ws.approve(CAMPAIGN, "prepare", "dg.planning", now="2025-06-15T11:00+04:00")
    assert once.exit_code == 1
    assert "is signed by 1 of the 2 administrator(s) needed (it.administrator signed" in once.stderr
    sign_registry(ws, "dg.planning")
    twice = ws.approve(CAMPAIGN, "prepare", "dg.planning", now="2025-06-15T11:00+04:00")
    assert twice.exit_code == 0, twice.stderr
    recorded = rows(ws, "select payload from event where campaign_id = ? order by seq", REGISTRY_CHAIN)
    versions = [json.loads(str(payload)) for (payload,) in recorded]
    assert len(versions) == 2
    assert sorted(s["person"] for s in versions[1]["signatures"]) == ["dg.planning", "it.administrator"]
    assert ws.run("audit", "verify").exit_code == 0


@pytest.mark.prefect
def test_a_signature_by_someone_not_an_administrator_does_not_count(ws: Workspace) -> None:
    started(ws)
    edit_registry(ws, add_key, signed=False)
    result = ws.run("people", "sign-registry", *ws.key("dg.planning"))
    assert result.exit_code == 1
    assert "dg.planning is not an administrator in the registry in force (administrators: it.administrator)" in (
        result.stderr
    )


def test_a_first_version_other_than_the_pinned_root_is_refused(ws: Workspace) -> None:
    edit_registry(ws, add_key, signed=False)
    result = ws.run("start", CAMPAIGN, now="2025-06-15T09:00+04:00")
    assert result.exit_code == 1
    assert "approvers.yaml (digest" in result.stderr and "is not the pinned registry root" in result.stderr
    assert rows(ws, "select count(*) from event") == [(0,)]  # nothing recorded: the campaign did not start


@pytest.mark.prefect
def test_audit_verify_names_a_first_version_that_is_not_the_pinned_root(ws: Workspace) -> None:
    started(ws)
    (ws.plans / "registry.root").write_text("0" * 64 + "\n", encoding="utf-8")
    result = ws.run("audit", "verify")
    assert result.exit_code == 1
    assert "_registry event 1: the registry's first version" in result.stderr
    assert "is not the pinned root 000000000000" in result.stderr


# --- the engine's seal, pinned by fingerprint ----------------------------------------------------------


def reseal(folder: Path) -> None:
    """Seal a bundle anew with a key of one's own, as anyone can."""
    other = Ed25519PrivateKey.generate()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest.pop("signature")
    manifest["public_key"] = public_text(other.public_key())
    manifest["signature"] = base64.b64encode(other.sign(canonical(manifest).encode())).decode()
    (folder / "manifest.json").write_text(canonical(manifest), encoding="utf-8")


@pytest.mark.prefect
def test_a_bundle_resealed_with_another_key_fails_and_verify_needs_the_engine(ws: Workspace, tmp_path: Path) -> None:
    started(ws)
    folder = tmp_path / "bundle"
    exported = ws.run("audit", "export", "--campaign", CAMPAIGN, str(folder), now="2025-06-15T12:00+04:00")
    assert exported.exit_code == 0 and f"--engine {ws.engine()[1]}" in exported.output
    assert ws.run("audit", "verify", "--bundle", str(folder), *ws.engine()).exit_code == 0
    bare = ws.run("audit", "verify", "--bundle", str(folder))
    assert bare.exit_code == 2 and "--bundle needs --engine FINGERPRINT" in bare.stderr
    reseal(folder)
    result = ws.run("audit", "verify", "--bundle", str(folder), *ws.engine())
    assert result.exit_code == 1
    assert "manifest.json: sealed by key" in result.stderr and f"not the engine key {ws.engine()[1]}" in result.stderr


@pytest.mark.prefect
def test_a_checkpoint_needs_the_engine_and_is_printed_with_its_fingerprint(ws: Workspace) -> None:
    started(ws)
    filed = ws.root / "checkpoint.json"
    made = ws.run("audit", "checkpoint", "--out", str(filed), now="2025-06-15T09:30+04:00")
    assert f"engine key fingerprint {ws.engine()[1]}" in made.output
    bare = ws.run("audit", "verify", "--checkpoint", str(filed))
    assert bare.exit_code == 2 and "--checkpoint needs --engine FINGERPRINT" in bare.stderr
    other = ws.run("audit", "verify", "--checkpoint", str(filed), "--engine", "f" * 64)
    assert other.exit_code == 1 and f"not the engine key {'f' * 64}" in other.stderr
    assert json.loads(filed.read_text())["registry_root"] == (ws.plans / "registry.root").read_text().split()[-1]


def publish(ws: Workspace, folder: Path, now: str) -> None:
    result = ws.run("audit", "checkpoint", "--publish", str(folder), now=now)
    assert result.exit_code == 0, result.stderr


@pytest.mark.prefect
def test_a_published_checkpoint_file_is_linked_and_verify_reports_the_newest_it_covers(
    ws: Workspace, tmp_path: Path
) -> None:
    started(ws)
    published = tmp_path / "published"
    publish(ws, published, "2025-06-15T09:30+04:00")
    ws.approve(CAMPAIGN, "prepare", "dg.planning", now="2025-06-15T10:00+04:00")
    publish(ws, published, "2025-06-15T10:30+04:00")
    publish(ws, published, "2025-06-15T11:30+04:00")
    file = published / "checkpoints.jsonl"
    result = ws.run("audit", "verify", "--checkpoint", str(file), *ws.engine())
    assert result.exit_code == 0, result.stderr
    assert "the log covers the newest checkpoint, of 2025-06-15T07:30:00+00:00" in result.output
    lines = file.read_text().splitlines()
    file.write_text("\n".join([lines[0], lines[2]]) + "\n")  # the middle one taken out
    broken = ws.run("audit", "verify", "--checkpoint", str(file), *ws.engine())
    assert broken.exit_code == 1
    assert f"{file} entry 2: does not link to the entry before it" in broken.stderr


# --- pinning and signing, as an administrator does ------------------------------------------------------


def test_pin_registry_pins_the_file_as_it_is(ws: Workspace) -> None:
    root = ws.plans / "registry.root"
    expected = root.read_text().split()[-1]
    root.unlink()
    result = ws.run("people", "pin-registry")
    assert result.exit_code == 0, result.stderr
    assert f"registry root {expected} pinned" in result.output and root.read_text().split()[-1] == expected


@pytest.mark.prefect
def test_a_log_kept_from_before_the_pin_is_pinned_at_its_first_version(ws: Workspace) -> None:
    started(ws)
    root = ws.plans / "registry.root"
    recorded = root.read_text().split()[-1]
    root.unlink()
    edit_registry(ws, add_key, signed=False)  # the file moved on since: the log's first version is what counts
    result = ws.run("people", "pin-registry")
    assert result.exit_code == 0 and "the first version the log holds" in result.output
    assert root.read_text().split()[-1] == recorded
    again = ws.run("people", "pin-registry", "--force")
    assert again.exit_code == 1 and "recorded in the log already" in again.stderr


@pytest.mark.prefect
def test_sign_registry_shows_what_changes_and_how_many_have_signed(ws: Workspace) -> None:
    started(ws)
    edit_registry(ws, add_key, signed=False)
    result = ws.run("people", "sign-registry", *ws.key("it.administrator"))
    assert result.exit_code == 0, result.stderr
    assert "~ dg.planning changed" in result.output and "new keys dg-new" in result.output
    assert "it.administrator signed registry version" in result.output and "1 of 1 signature(s)" in result.output
    signatures = json.loads((ws.plans / "approvers.signatures.json").read_text())
    assert [s["person"] for s in signatures] == ["it.administrator"]


@pytest.mark.prefect
def test_a_bundle_of_a_log_with_a_forged_registry_version_names_it_offline(ws: Workspace, tmp_path: Path) -> None:
    started(ws)
    seq = forge_key_for_the_director_general(ws)
    folder = tmp_path / "bundle"
    assert ws.run("audit", "export", "--campaign", CAMPAIGN, str(folder), now="2025-06-15T12:00+04:00").exit_code == 0
    ws.db_url = "sqlite:////nonexistent/nothing.db"  # offline: the database is out of reach
    result = ws.run("audit", "verify", "--bundle", str(folder), *ws.engine())
    assert result.exit_code == 1
    assert f"_registry event {seq}: registry version" in result.stderr
    assert "is signed by 0 of the 1 administrator(s) needed" in result.stderr


@pytest.mark.prefect
def test_a_checkpoint_pinning_another_registry_root_is_named(ws: Workspace) -> None:
    started(ws)
    filed = ws.root / "checkpoint.json"
    assert ws.run("audit", "checkpoint", "--out", str(filed), now="2025-06-15T09:30+04:00").exit_code == 0
    (ws.plans / "registry.root").write_text("a" * 64 + "\n", encoding="utf-8")
    result = ws.run("audit", "verify", "--checkpoint", str(filed), *ws.engine())
    assert result.exit_code == 1
    assert "pins registry root" in result.stderr and "but the plans pin aaaaaaaaaaaa" in result.stderr


@pytest.mark.prefect
def test_a_registry_recorded_before_versions_were_signed_still_verifies_and_is_carried_on(ws: Workspace) -> None:
    assert ws.run("start", CAMPAIGN, now="2025-06-15T09:00+04:00").exit_code == 0

    def as_written_before(body: dict[str, Any]) -> None:
        for field in ("source", "signatures"):
            body.pop(field)
        body["registry"].pop("administrators")
        body["registry_digest"] = digest(body["registry"])

    rewrite_payload(ws, REGISTRY_CHAIN, 1, as_written_before)
    assert ws.run("audit", "verify").exit_code == 0
    approved = ws.approve(CAMPAIGN, "prepare", "dg.planning", now="2025-06-15T11:00+04:00")
    assert approved.exit_code == 0, approved.stderr
    assert rows(ws, "select count(*) from event where campaign_id = ?", REGISTRY_CHAIN) == [(2,)]
    verified = ws.run("audit", "verify")
    assert verified.exit_code == 0, verified.stderr


def test_a_threshold_above_the_number_of_administrators_is_a_plan_problem(ws: Workspace) -> None:
    edit_registry(ws, lambda registry: registry.update(administrators={"threshold": 3}), signed=False)
    result = ws.run("validate")
    assert result.exit_code == 2  # a plan problem, as validate reports every one
    assert "expected at most the 1 people with the administrator duty, found 3" in result.output + result.stderr
