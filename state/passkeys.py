"""Passkey signatures: a WebAuthn assertion whose challenge is the SHA-256 of a canonical message.

A person who decides in the browser signs with their passkey exactly what the CLI's key files sign:
the challenge is the digest of the canonical decision message, so the assertion proves that the
holder of the credential approved that message and no other. Verifying needs no server state: the
credential's public key as enrolled (COSE, from the registry), the message, and the assertion's three
parts (authenticatorData, clientDataJSON, signature), which the event keeps. An auditor checks them
offline exactly as the engine does (WebAuthn Level 2, section 7.2, without the steps that need the
server's session: the challenge is the message's own digest rather than a random one).

Real authenticators sign with ES256 or RS256, some with EdDSA; those three are accepted.
"""

import base64
import binascii
import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:  # webauthn (and its ASN.1 modules) loads when a passkey is checked, not with every command
    from webauthn.helpers.cose import COSEAlgorithmIdentifier

# the algorithm each accepted COSE identifier names, and the key type it must come with
ALGORITHMS: dict[int, tuple[str, type]] = {
    -7: ("ES256", EllipticCurvePublicKey),  # COSEAlgorithmIdentifier.ECDSA_SHA_256
    -257: ("RS256", RSAPublicKey),  # COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256
    -8: ("EdDSA", Ed25519PublicKey),  # COSEAlgorithmIdentifier.EDDSA
}
USER_PRESENT, USER_VERIFIED, ATTESTED_DATA = 0x01, 0x04, 0x40


class PasskeyError(ValueError):
    """The assertion does not prove that the credential's holder signed the message; the message says why."""


class Assertion(BaseModel):
    """What the browser returns for one signature, each part unpadded base64url as WebAuthn encodes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    credential_id: str
    authenticator_data: str
    client_data_json: str
    signature: str


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text: str, what: str) -> bytes:
    """Strict unpadded base64url: one text per byte string, so evidence has one form (Python's decoder
    would otherwise skip stray characters and accept padding)."""
    try:
        raw = base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise PasskeyError(f"{what}: expected unpadded base64url, found {text[:40]!r}") from None
    if b64url(raw) != text:
        raise PasskeyError(f"{what}: expected unpadded base64url, found {text[:40]!r}")
    return raw


def challenge_of(message: bytes) -> bytes:
    """The WebAuthn challenge with which a passkey signs `message`: its SHA-256, 32 bytes."""
    return hashlib.sha256(message).digest()


def algorithm_of(public_key: bytes) -> str:
    """The algorithm of an enrolled credential's COSE public key, or PasskeyError if it is not accepted."""
    return _load_key(public_key)[1]


def _load_key(public_key: bytes) -> tuple[Any, str, "COSEAlgorithmIdentifier"]:
    from webauthn.helpers import decode_credential_public_key, decoded_public_key_to_cryptography
    from webauthn.helpers.cose import COSEAlgorithmIdentifier

    try:
        decoded = decode_credential_public_key(public_key)
        key = decoded_public_key_to_cryptography(decoded)
    except Exception as error:  # the library raises a variety of errors on malformed CBOR or keys
        raise PasskeyError(f"the credential's public key is not a COSE key: {error}") from None
    accepted = ALGORITHMS.get(decoded.alg)
    # the library takes the hash from `alg` alone: the key itself must be of the kind `alg` names
    if accepted is None or not isinstance(key, accepted[1]):
        raise PasskeyError(f"expected an ES256, RS256 or EdDSA credential, found COSE algorithm {decoded.alg}")
    if isinstance(key, EllipticCurvePublicKey) and not isinstance(key.curve, SECP256R1):
        raise PasskeyError(f"expected an ES256 key on P-256, found {key.curve.name}")
    if isinstance(key, RSAPublicKey) and key.key_size < 2048:
        raise PasskeyError(f"expected an RSA key of at least 2048 bits, found {key.key_size}")
    return key, accepted[0], COSEAlgorithmIdentifier(decoded.alg)


def verify(public_key: bytes, message: bytes, assertion: Assertion, *, rp_id: str, origin: str) -> int:
    """PasskeyError unless `assertion` is the credential's signature over `message`, made at `origin`
    for `rp_id` with the person present and verified (PIN or biometrics); the authenticator's count."""
    data = from_b64url(assertion.authenticator_data, "authenticatorData")
    client_json = from_b64url(assertion.client_data_json, "clientDataJSON")
    signature = from_b64url(assertion.signature, "signature")
    try:
        client = json.loads(client_json)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise PasskeyError("clientDataJSON: expected JSON, found bytes that are not") from None
    if not isinstance(client, dict) or client.get("type") != "webauthn.get":
        raise PasskeyError("clientDataJSON: expected a signature (type webauthn.get)")
    challenge = client.get("challenge")
    if not isinstance(challenge, str) or not hmac.compare_digest(challenge, b64url(challenge_of(message))):
        raise PasskeyError("the passkey signed another message: its challenge is not this message's digest")
    if client.get("origin") != origin or client.get("crossOrigin") is True:
        raise PasskeyError(f"expected a signature made at {origin}, found one made at {client.get('origin')!r}")
    if len(data) < 37 or not hmac.compare_digest(data[:32], hashlib.sha256(rp_id.encode()).digest()):
        raise PasskeyError(f"authenticatorData: expected a signature for {rp_id}, found one for another site")
    flags = data[32]
    if not flags & USER_PRESENT or not flags & USER_VERIFIED:
        raise PasskeyError("authenticatorData: the person was not verified (user presence and verification)")
    if flags & ATTESTED_DATA:
        raise PasskeyError("authenticatorData: expected a signature, found an enrolment's attested data")
    key, _, algorithm = _load_key(public_key)
    from webauthn.helpers import verify_signature

    try:
        verify_signature(
            public_key=key,
            signature_alg=algorithm,
            signature=signature,
            data=data + hashlib.sha256(client_json).digest(),
        )
    except (InvalidSignature, ValueError):
        raise PasskeyError("the signature does not verify with the credential's public key") from None
    return int.from_bytes(data[33:37], "big")
