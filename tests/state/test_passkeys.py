"""A passkey signature proves its holder signed exactly one message, for this site, verified in person.

The assertions here are built by hand as an authenticator builds them (authenticatorData, the
browser's clientDataJSON, a signature over both) with keys made for each test, independently of the
code under test.
"""

import base64
import hashlib
import json
from collections.abc import Callable

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from musharaka.state.passkeys import Assertion, PasskeyError, algorithm_of, b64url, verify

RP_ID = "localhost"
ORIGIN = "http://localhost:8400"
MESSAGE = json.dumps(
    {"campaign": "moheri-2025-q3-satisfaction", "stage": "analyse", "attempt": 2, "decision": "approve",
     "text": "أوافق على القرار", "outputs_digest": "ab" * 32, "signed_at": "2025-09-01T09:00:00+04:00"},
    ensure_ascii=False, separators=(",", ":"), sort_keys=True,
).encode()  # fmt: skip

Signer = Callable[[bytes], bytes]


def _es256() -> tuple[bytes, Signer]:
    private = ec.generate_private_key(ec.SECP256R1())
    numbers = private.public_key().public_numbers()
    cose = {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
    return cbor2.dumps(cose), lambda data: private.sign(data, ec.ECDSA(hashes.SHA256()))


def _rs256(bits: int = 2048) -> tuple[bytes, Signer]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    numbers = private.public_key().public_numbers()
    cose = {1: 3, 3: -257, -1: numbers.n.to_bytes(bits // 8, "big"), -2: numbers.e.to_bytes(3, "big")}
    return cbor2.dumps(cose), lambda data: private.sign(data, padding.PKCS1v15(), hashes.SHA256())


def _eddsa() -> tuple[bytes, Signer]:
    private = ed25519.Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return cbor2.dumps({1: 1, 3: -8, -1: 6, -2: raw}), private.sign


def _assertion(
    sign: Signer,
    message: bytes = MESSAGE,
    *,
    flags: int = 0x05,
    rp_id: str = RP_ID,
    origin: str = ORIGIN,
    kind: str = "webauthn.get",
) -> Assertion:
    """Signed as an authenticator signs: over authenticatorData and the SHA-256 of clientDataJSON."""
    data = hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + (7).to_bytes(4, "big")
    challenge = b64url(hashlib.sha256(message).digest())
    client = json.dumps({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}).encode()
    signature = sign(data + hashlib.sha256(client).digest())
    return Assertion(
        credential_id=b64url(b"credential-1"),
        authenticator_data=b64url(data),
        client_data_json=b64url(client),
        signature=b64url(signature),
    )


@pytest.mark.parametrize(("make", "name"), [(_es256, "ES256"), (_rs256, "RS256"), (_eddsa, "EdDSA")])
def test_a_passkey_signature_over_the_message_verifies_and_names_its_algorithm(
    make: Callable[[], tuple[bytes, Signer]], name: str
) -> None:
    public, sign = make()
    assert verify(public, MESSAGE, _assertion(sign), rp_id=RP_ID, origin=ORIGIN) == 7  # the authenticator's count
    assert algorithm_of(public) == name


@pytest.mark.parametrize("make", [_es256, _rs256, _eddsa])
def test_any_changed_byte_of_the_evidence_or_the_message_is_refused(make: Callable[[], tuple[bytes, Signer]]) -> None:
    public, sign = make()
    good = _assertion(sign)
    for field in ("authenticator_data", "client_data_json", "signature"):
        raw = _raw(getattr(good, field))
        for index in range(len(raw)):
            changed = bytearray(raw)
            changed[index] ^= 0x01
            forged = good.model_copy(update={field: b64url(bytes(changed))})
            with pytest.raises(PasskeyError):
                verify(public, MESSAGE, forged, rp_id=RP_ID, origin=ORIGIN)
    for index in range(len(MESSAGE)):
        other = bytearray(MESSAGE)
        other[index] ^= 0x01
        with pytest.raises(PasskeyError, match="signed another message"):
            verify(public, bytes(other), good, rp_id=RP_ID, origin=ORIGIN)


def _raw(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_another_credentials_key_is_refused() -> None:
    _, sign = _es256()
    stranger, _ = _es256()
    with pytest.raises(PasskeyError, match="does not verify with the credential's public key"):
        verify(stranger, MESSAGE, _assertion(sign), rp_id=RP_ID, origin=ORIGIN)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"flags": 0x01}, "not verified"),  # present, but no PIN or biometrics
        ({"flags": 0x04}, "not verified"),  # verified, but not present
        ({"flags": 0x45}, "attested data"),  # an enrolment, not a signature
        ({"rp_id": "evil.example"}, "for localhost, found one for another site"),
        ({"origin": "http://localhost:9999"}, "made at 'http://localhost:9999'"),
        ({"kind": "webauthn.create"}, "expected a signature"),
    ],
)
def test_a_signature_not_made_in_person_here_is_refused(change: dict[str, object], reason: str) -> None:
    public, sign = _es256()
    with pytest.raises(PasskeyError, match=reason):
        verify(public, MESSAGE, _assertion(sign, **change), rp_id=RP_ID, origin=ORIGIN)  # type: ignore[arg-type]


def test_evidence_in_any_but_its_one_text_form_is_refused() -> None:
    public, sign = _es256()
    good = _assertion(sign)
    for text in (good.signature + "=", good.signature[:-1] + "!", good.signature.replace("-", "+")):
        if text == good.signature:
            continue
        with pytest.raises(PasskeyError, match="signature: expected unpadded base64url"):
            verify(public, MESSAGE, good.model_copy(update={"signature": text}), rp_id=RP_ID, origin=ORIGIN)


def test_keys_of_the_wrong_kind_or_too_weak_are_refused() -> None:
    weak, _ = _rs256(1024)
    with pytest.raises(PasskeyError, match="at least 2048 bits, found 1024"):
        algorithm_of(weak)
    es256, _ = _es256()
    labelled_eddsa = cbor2.dumps({**cbor2.loads(es256), 3: -8})  # an EC key claiming to be Ed25519
    with pytest.raises(PasskeyError, match="found COSE algorithm -8"):
        algorithm_of(labelled_eddsa)
    with pytest.raises(PasskeyError, match="not a COSE key"):
        algorithm_of(b"\x00not cbor")
