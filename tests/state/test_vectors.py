"""The published test vectors (tests/state/jcs_vectors.json, in the README): each event's JCS bytes, SHA-256 and
engine signature from a fixed key, as the engine computes them and as Node.js recomputes them on its own."""

import hashlib
import json
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from musharaka.state.events import canonical, envelope, event_hash
from musharaka.state.seal import engine_fingerprint, hash_signed, sign_hash
from musharaka.state.signing import public_text
from tests.conftest import require

VECTORS = Path(__file__).with_name("jcs_vectors.json")
DOC: dict[str, Any] = json.loads(VECTORS.read_text(encoding="utf-8"))
# RFC 8032, section 7.1, test 1: the engine key of the vectors is the standard's, so its public half is known
RFC8032_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"


def test_the_vectors_engine_key_is_rfc_8032_test_1() -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(DOC["engine_private_seed_hex"]))
    assert public_text(key.public_key()) == DOC["engine_key"]
    assert key.public_key().public_bytes_raw().hex() == RFC8032_PUBLIC
    assert engine_fingerprint(DOC["engine_key"]) == DOC["engine_fingerprint"]


@pytest.mark.parametrize("vector", DOC["events"], ids=lambda v: f"event-{v['seq']}")
def test_each_vector_is_what_the_engine_hashes_and_signs(vector: dict[str, Any]) -> None:
    at = datetime.fromisoformat(vector["at"])
    body = canonical(vector["payload"])
    args = (vector["campaign"], vector["seq"], at, vector["actor"], vector["type"], body, vector["prev"])
    assert envelope(*args).decode() == vector["jcs"]
    assert hashlib.sha256(vector["jcs"].encode()).hexdigest() == vector["sha256"] == event_hash(*args)
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(DOC["engine_private_seed_hex"]))
    assert sign_hash(key, vector["sha256"]) == vector["engine_signature"]  # Ed25519 is deterministic
    assert hash_signed(DOC["engine_key"], vector["sha256"], vector["engine_signature"])


def test_the_vectors_chain_each_event_to_the_one_before() -> None:
    events = DOC["events"]
    assert events[0]["prev"] == "0" * 64
    assert [e["prev"] for e in events[1:]] == [e["sha256"] for e in events[:-1]]


def test_the_vectors_show_what_jcs_changes_from_python_json() -> None:
    numbers = DOC["events"][2]["jcs"]
    # ECMAScript number forms, keys by UTF-16 code unit ("€" after "whole"), a control character escaped
    assert '"big":1e+21' in numbers and '"small":1.5e-7' in numbers and '"whole":2,"€":1' in numbers
    assert "\\u001f" in DOC["events"][1]["jcs"]


def test_node_recomputes_the_vectors_on_its_own() -> None:
    node = shutil.which("node")
    require(node is not None, "needs Node.js (`node`) to recompute the vectors independently")
    verifier = Path(__file__).with_name("verify_bundle.mjs")
    done = subprocess.run([str(node), str(verifier), "--vectors", str(VECTORS)], capture_output=True, text=True)
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stdout + done.stderr
