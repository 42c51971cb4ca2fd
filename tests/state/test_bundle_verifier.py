"""An auditor's own tools can check a bundle: an independent verifier in Node.js (standard library only) agrees
with `audit verify --bundle` on an untouched bundle and on every tampered one."""

import json
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from musharaka.state.events import event_hash
from tests.conftest import Workspace, require
from tests.flows.samples import CAMPAIGN
from tests.state.test_signed_log import attacker_approval, forge, gated, rows  # noqa: F401  (the fixture too)

pytestmark = pytest.mark.prefect  # runs flows on Prefect's server

VERIFIER = Path(__file__).with_name("verify_bundle.mjs")
NAMED = re.compile(r"^(\S+) event (\d+):", re.MULTILINE)


def node() -> str:
    found = shutil.which("node")
    require(found is not None, "needs Node.js (`node`) for the independent bundle verifier")
    assert found is not None
    return found


def sql(ws: Workspace, statement: str, *args: object) -> None:
    connection = sqlite3.connect(ws.db_url.removeprefix("sqlite:///"))
    with connection:
        connection.execute(statement, args)
    connection.close()


def both_verdicts(ws: Workspace, bundle: Path) -> tuple[tuple[int, set[str]], tuple[int, set[str]]]:
    """Each verifier's exit code and the events it names (`chain seq`)."""
    pinned = ws.engine()  # ["--engine", the engine key's fingerprint], as the operator gives it to auditors
    ours = ws.run("audit", "verify", "--bundle", str(bundle), *pinned)
    theirs = subprocess.run([node(), str(VERIFIER), str(bundle), *pinned], capture_output=True, text=True, timeout=60)
    named = lambda text: {f"{c} {s}" for c, s in NAMED.findall(text)}  # noqa: E731
    return (ours.exit_code, named(ours.stderr)), (theirs.returncode, named(theirs.stdout + theirs.stderr))


def export(ws: Workspace, folder: Path) -> Path:
    result = ws.run("audit", "export", "--campaign", CAMPAIGN, str(folder), now="2025-06-30T12:00+04:00")
    assert result.exit_code == 0, result.stderr
    return folder


def edit_payload(ws: Workspace) -> None:
    sql(
        ws,
        "update event set payload = replace(payload, 'planning.team', 'dg.planning') where campaign_id = ? and seq = 2",
        CAMPAIGN,
    )


def edit_payload_and_rehash(ws: Workspace) -> None:
    """The payload edited and its hash, and every later one, recomputed; no key to sign them with."""
    chain = rows(
        ws, "select seq, at, actor, type, payload, hash from event where campaign_id = ? order by seq", CAMPAIGN
    )
    prev = chain[0][5]
    for seq, at, actor, kind, payload, _ in chain[1:]:
        body = payload.replace("planning.team", "dg.planning") if seq == 2 else payload
        own = event_hash(CAMPAIGN, seq, datetime.fromisoformat(at), actor, kind, body, prev)
        sql(
            ws,
            "update event set payload = ?, prev_hash = ?, hash = ? where campaign_id = ? and seq = ?",
            body,
            prev,
            own,
            CAMPAIGN,
            seq,
        )
        prev = own


def reformat_payload(ws: Workspace) -> None:
    """The same payload written with spaces: what it says is unchanged, but it is no longer the bytes hashed."""
    [(payload,)] = rows(ws, "select payload from event where campaign_id = ? and seq = 2", CAMPAIGN)
    spaced = json.dumps(json.loads(payload), indent=1, ensure_ascii=False)
    sql(ws, "update event set payload = ? where campaign_id = ? and seq = 2", spaced, CAMPAIGN)


def delete_event(ws: Workspace) -> None:
    sql(ws, "delete from event where campaign_id = ? and seq = 2", CAMPAIGN)


def append_unsigned(ws: Workspace) -> None:
    done = {"status": "implemented", "percent": 100, "note": "", "evidence": None}
    forge(ws, CAMPAIGN, "decision.updated", done, actor="engine", at=datetime(2025, 6, 20, tzinfo=UTC))


def append_signed_by_another_key(ws: Workspace) -> None:
    done = {"status": "implemented", "percent": 100, "note": "", "evidence": None}
    at = datetime(2025, 6, 20, tzinfo=UTC)
    forge(ws, CAMPAIGN, "decision.updated", done, actor="engine", at=at, engine=Ed25519PrivateKey.generate())


def append_registry_version_and_approval(ws: Workspace) -> None:
    attacker_approval(ws, Ed25519PrivateKey.generate(), engine=None)


TAMPERING: dict[str, Callable[[Workspace], None]] = {
    "payload edited": edit_payload,
    "payload edited, hashes recomputed": edit_payload_and_rehash,
    "payload reformatted": reformat_payload,
    "event deleted": delete_event,
    "event appended, unsigned": append_unsigned,
    "event appended, signed by another key": append_signed_by_another_key,
    "registry version and approval appended": append_registry_version_and_approval,
}


def test_both_verifiers_accept_an_untouched_bundle(gated: Workspace, tmp_path: Path) -> None:  # noqa: F811
    ours, theirs = both_verdicts(gated, export(gated, tmp_path / "bundle"))
    assert ours == theirs == (0, set())


@pytest.mark.parametrize("tampering", list(TAMPERING))
def test_both_verifiers_name_the_same_event_of_a_tampered_log(
    gated: Workspace,  # noqa: F811
    tmp_path: Path,
    tampering: str,
) -> None:
    TAMPERING[tampering](gated)
    ours, theirs = both_verdicts(gated, export(gated, tmp_path / "bundle"))
    assert ours[0] == theirs[0] == 1
    assert ours[1] == theirs[1] and ours[1], (ours, theirs)


def test_both_verifiers_refuse_a_bundle_changed_after_it_was_sealed(gated: Workspace, tmp_path: Path) -> None:  # noqa: F811
    bundle = export(gated, tmp_path / "bundle")
    events = bundle / "events.jsonl"
    events.write_text(events.read_text(encoding="utf-8").replace("planning.team", "dg.planning"), encoding="utf-8")
    ours, theirs = both_verdicts(gated, bundle)
    assert ours[0] == theirs[0] == 1


def test_both_verifiers_follow_a_rotated_engine_key(gated: Workspace, tmp_path: Path) -> None:  # noqa: F811
    assert gated.run("audit", "rotate-key", now="2025-06-15T10:00+04:00").exit_code == 0
    assert gated.approve(CAMPAIGN, "prepare", "dg.planning", now="2025-06-16T09:00+04:00").exit_code == 0
    ours, theirs = both_verdicts(gated, export(gated, tmp_path / "bundle"))
    assert ours == theirs == (0, set())


def test_both_verifiers_check_the_legacy_part_a_re_anchoring_vouches_for(
    gated: Workspace,  # noqa: F811
    tmp_path: Path,
) -> None:
    from sqlalchemy import create_engine

    from musharaka.state import migrate
    from musharaka.state.db import get_engine
    from tests.state.test_migrations import legacy_copy

    legacy = create_engine(f"sqlite:///{tmp_path / 'legacy.db'}")
    legacy_copy(gated, legacy)  # the log as the engine wrote it before signing, then upgraded
    migrate.upgrade(legacy)
    legacy.dispose()
    get_engine(gated.db_url).dispose()
    shutil.copyfile(tmp_path / "legacy.db", gated.db_url.removeprefix("sqlite:///"))
    rebuilt = gated.run("state", "rebuild")  # the projections, from the re-anchored log
    assert rebuilt.exit_code == 0, rebuilt.stderr
    ours, theirs = both_verdicts(gated, export(gated, tmp_path / "bundle"))
    assert ours == theirs == (0, set())
    sql(gated, "update event set actor = 'dir.digital' where campaign_id = ? and seq = 2", CAMPAIGN)
    ours, theirs = both_verdicts(gated, export(gated, tmp_path / "tampered"))
    assert ours == theirs == (1, {f"{CAMPAIGN} 2"})
