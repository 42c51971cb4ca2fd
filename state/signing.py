"""Signed decisions: Ed25519 over a canonical message naming the campaign, stage, attempt and outputs.

The message binds a decision to one gate attempt and to the digest of the exact outputs reviewed,
so a signature cannot be replayed on another gate, attempt or campaign, nor outlive a change of outputs.
"""

import base64
import hashlib
import os
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal, TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from nacl.exceptions import CryptoError
from nacl.signing import VerifyKey
from pydantic import AwareDatetime, BaseModel, ConfigDict

from musharaka.state.events import canonical
from musharaka.state.files import KeyFileError as KeyFileError  # where callers have always found it
from musharaka.state.files import owner_only_bytes, owner_only_folder, secret_file
from musharaka.state.passkeys import Assertion

PREFIX = "ed25519:"


class SignedMessage(BaseModel):
    """A message and its Ed25519 signature by the holder of `public_key`: every field but the
    signature is signed, as canonical JSON."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    public_key: str
    signature: str = ""

    def message(self) -> bytes:
        """The canonical bytes that are signed: every field but the signature."""
        return canonical(self.model_dump(mode="json", exclude={"signature"})).encode()

    def verifies(self) -> bool:
        """Whether the signature is this message's, by the private half of `public_key`."""
        return signature_holds(self.public_key, self.message(), self.signature)


class SignedDecision(SignedMessage):
    """What an approver signs, and the signature."""

    campaign: str
    stage: str
    attempt: int
    decision: Literal["approve", "reject", "extend"]
    text: str
    closes: date | None = None  # the new closing date, for an extension
    outputs_digest: str
    signed_at: AwareDatetime
    approver: str
    # a decision signed with a passkey: `public_key` is PASSKEY, `signature` empty, and this is the
    # WebAuthn assertion whose challenge is the digest of `message()`
    assertion: Assertion | None = None

    def message(self) -> bytes:
        return canonical(self.model_dump(mode="json", exclude={"signature", "assertion"})).encode()


class SignedWithdrawal(SignedMessage):
    """What a person signs to withdraw an ingested batch: the batch by its sealed rows digest, and why."""

    campaign: str
    batch: int  # the sequence number of the batch's contributions.ingested event
    rows_digest: str  # the batch's sealed digest: the signature withdraws exactly those rows
    reason: str
    person: str
    signed_at: AwareDatetime


PASSKEY = "webauthn"  # the `public_key` of a decision signed with a passkey; the assertion names the credential


def public_text(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return PREFIX + base64.b64encode(raw).decode()


def public_key(text: str) -> Ed25519PublicKey:
    if not text.startswith(PREFIX):
        raise ValueError(f"expected a key starting {PREFIX}")
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text.removeprefix(PREFIX), validate=True))


def new_key_pair(passphrase: bytes | None) -> tuple[bytes, str]:
    """A fresh private key as PEM (encrypted when a passphrase is given) and its public text."""
    private = Ed25519PrivateKey.generate()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    return pem, public_text(private.public_key())


def load_private(path: Path, passphrase: bytes | None) -> Ed25519PrivateKey:
    """Read a private key file, naming the file and what is wrong when it cannot be used."""
    data = owner_only_bytes(path, "a key")
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except TypeError:
        message = (
            "the key is passphrase-protected: give --passphrase-file"
            if not passphrase
            else ("the key is not passphrase-protected: leave out --passphrase-file")
        )
        raise KeyFileError(f"{path}: {message}") from None
    except ValueError:
        raise KeyFileError(f"{path}: expected an Ed25519 private key in PEM, or the passphrase is wrong") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: expected an Ed25519 private key, found {type(key).__name__}")
    return key


Signed = TypeVar("Signed", bound=SignedMessage)


def sign(message: Signed, key: Ed25519PrivateKey) -> Signed:
    """The message (a decision, a withdrawal) with `public_key` and `signature` filled in by `key`."""
    unsigned = message.model_copy(update={"public_key": public_text(key.public_key()), "signature": ""})
    signature = base64.b64encode(key.sign(unsigned.message())).decode()
    return unsigned.model_copy(update={"signature": signature})


def fingerprint(public: str) -> str:
    """A short, stable name for a public key."""
    return hashlib.sha256(public.encode()).hexdigest()[:16]


def engine_key(path: Path) -> Ed25519PrivateKey:
    """The engine's own signing key (for checkpoints and bundles), made on first use, owner-only."""
    if not path.exists():
        pem, _ = new_key_pair(None)
        owner_only_folder(path.parent)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.fchmod(descriptor, 0o600)  # whatever the umask
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
    return load_private(path, None)


def pseudonym_secret(path: Path, configured: str = "") -> bytes:
    """The secret of the keyed hash that pseudonymises people: the configured one, else a file made once.

    Losing it only means the same person gets a new pseudonym; it never reveals anyone.
    """
    if configured:
        return configured.encode()
    return secret_file(path, "the pseudonym key")


def sign_bytes(key: Ed25519PrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message)).decode()


def signature_holds(public: str, message: bytes, signature: str) -> bool:
    """Whether `signature` is the holder of `public`'s signature over `message`.

    Checked with libsodium (PyNaCl), which verifies Ed25519 about twice as fast as `cryptography` does here
    (bench/bench_verify.py): the same keys and signatures, and an audit checks one for every event."""
    try:
        _verify_key(public).verify(message, base64.b64decode(signature, validate=True))
    except (CryptoError, ValueError, TypeError):
        return False
    return True


@lru_cache(maxsize=64)
def _verify_key(text: str) -> VerifyKey:
    # a log is signed by a handful of keys: each is read from its text once, not once an event
    if not text.startswith(PREFIX):
        raise ValueError(f"expected a key starting {PREFIX}")
    return VerifyKey(base64.b64decode(text.removeprefix(PREFIX), validate=True))
