"""The engine's seal on every event, and the record of its keys.

Every event appended is signed by the engine's Ed25519 key (held in a file outside the database) over the 32
bytes of its hash; a person who proved a command with their own key signs the same hash. A database
administrator without a key can break the log, but no longer extend it unnoticed.

The engine's keys change only by a rotation recorded in the `_engine` chain: each rotation is signed by the key
it retires and carries the new key's signature over the pair, so the keys form one list bound both ways, and a
verifier who trusts any one of them (by fingerprint, given out of band) can tell every key the engine held.
"""

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from musharaka.state.events import EngineKeyRotated, EventRow, as_utc, canonical, event_hash, payload_of
from musharaka.state.proven import Proven
from musharaka.state.signing import (
    PREFIX,
    engine_key,
    load_private,
    public_text,
    sign_bytes,
    signature_holds,
)
from musharaka.state.tables import Event


def engine_fingerprint(public_key: str) -> str:
    """What the operator gives auditors out of band to pin the engine's key: SHA-256 of its public text."""
    return hashlib.sha256(public_key.encode()).hexdigest()


def local_fingerprint(path: Path) -> str | None:
    """The fingerprint of the engine key file at `path` (the operator's own), None when there is none yet: what
    an auditor checks the log against when they give none, and compares with the one they were given."""
    if not path.exists():
        return None
    return engine_fingerprint(public_text(load_private(path, None).public_key()))


def given_fingerprint(engine: str) -> str:
    """The fingerprint an auditor gave with --engine: the fingerprint itself, or the public key it is of."""
    given = engine.strip()
    return engine_fingerprint(given) if given.startswith(PREFIX) else given.lower()


_LOADED: dict[tuple[Path, int, int], Ed25519PrivateKey] = {}


def current_engine_key(path: Path) -> Ed25519PrivateKey:
    """The engine's key, read (and its mode checked) once per version of the file: a rotation replaces it."""
    if not path.exists():
        return engine_key(path)  # made on first use, owner-only
    stat = path.stat()
    marker = (path, stat.st_ino, stat.st_mtime_ns)
    if marker not in _LOADED:
        _LOADED.clear()
        _LOADED[marker] = engine_key(path)
    return _LOADED[marker]


def sign_hash(key: Ed25519PrivateKey, event_hash: str) -> str:
    """An Ed25519 signature (base64) over the 32 bytes the hex `event_hash` spells."""
    return sign_bytes(key, bytes.fromhex(event_hash))


def seal(event: Event, key: Ed25519PrivateKey, person: Proven | None = None) -> None:
    """Sign the event's hash with the engine's key and, when a person proved the command, with theirs."""
    event.engine_key = public_text(key.public_key())
    event.engine_signature = sign_hash(key, event.hash)
    if person is not None and person.person == event.actor:
        name, own = person.person, person.key
        signed = {"person": name, "public_key": public_text(own.public_key()), "signature": sign_hash(own, event.hash)}
        event.person_signature = canonical(signed)


def hash_signed(public: str, event_hash: str, signature: str) -> bool:
    """Whether `signature` is the holder of `public`'s over the 32 bytes of `event_hash`."""
    try:
        message = bytes.fromhex(event_hash)
    except ValueError:
        return False
    return signature_holds(public, message, signature)


def rotation_message(previous: str, public_key: str) -> bytes:
    """What the new key signs to prove it is held by whoever rotates to it."""
    return canonical({"engine_key_rotation": {"previous": previous, "public_key": public_key}}).encode()


def rotation(previous: Ed25519PrivateKey, new: Ed25519PrivateKey) -> EngineKeyRotated:
    """The payload of a rotation from `previous` to `new` (the event is then sealed by `previous`)."""
    old_text, new_text = public_text(previous.public_key()), public_text(new.public_key())
    proof = base64.b64encode(new.sign(rotation_message(old_text, new_text))).decode()
    return EngineKeyRotated(previous=old_text, public_key=new_text, proof=proof)


@dataclass(frozen=True)
class HeldKey:
    """One key the engine held, and when it signed: from its rotation in (None: from the start) until the next."""

    public: str
    since: datetime | None
    until: datetime | None

    def covers(self, at: datetime) -> bool:
        moment = as_utc(at)
        return (self.since is None or self.since <= moment) and (self.until is None or moment <= self.until)


@dataclass(frozen=True)
class EngineKeys:
    """The engine's keys as the `_engine` chain records them, and which one the verifier trusts."""

    held: tuple[HeldKey, ...]  # with a broken rotation, the keys before it
    trusted: str | None  # the fingerprint the verifier was given (None: none, so no engine signature verifies)
    broken: tuple[int, str] | None = None  # the `_engine` event whose rotation does not hold, and why

    def key_problem(self, public: str, at: datetime) -> str | None:
        """Why the engine key `public` may not have signed an event at `at`; None when it may."""
        if self.trusted is None:
            return (
                f"it is signed by engine key {engine_fingerprint(public)}, and no engine key is trusted "
                "(give --engine FINGERPRINT)"
            )
        known = [engine_fingerprint(k.public) for k in self.held]
        if known and self.trusted not in known:
            return (
                f"it is signed by key {engine_fingerprint(public)}; the trusted engine key {self.trusted} is not "
                f"among the engine keys the log records ({', '.join(known)})"
            )
        if not self.held and engine_fingerprint(public) == self.trusted:
            return None  # no rotation recorded: the trusted key signed the whole log
        for held in self.held:
            if held.public == public:
                if held.covers(at):
                    return None
                return (
                    f"it is signed by engine key {engine_fingerprint(public)}, which was not the engine's key at "
                    "that time"
                )
        return (
            f"it is signed by key {engine_fingerprint(public)}, which is not a key the engine held "
            f"(trusted engine key {self.trusted})"
        )


def engine_keys(chain: Sequence[Event | EventRow], trusted: str | None) -> EngineKeys:
    """Walk the `_engine` chain's rotations from the first key to the newest; the trusted fingerprint must be one
    of them (with no rotation recorded, the trusted key is the only one). A rotation that does not hold ends the
    walk: the keys before it stay, and `broken` says which event and why."""
    held: list[HeldKey] = []
    for event in sorted(chain, key=lambda e: e.seq):
        problem = _rotation_problem(event, held[-1].public if held else None)
        if problem is not None:
            return EngineKeys(tuple(held), trusted, (event.seq, problem))
        payload = payload_of(event)
        assert isinstance(payload, EngineKeyRotated)
        at = as_utc(event.at)
        current = held.pop() if held else HeldKey(payload.previous, None, None)
        held += [HeldKey(current.public, current.since, at), HeldKey(payload.public_key, at, None)]
    return EngineKeys(tuple(held), trusted)


def _rotation_problem(event: Event | EventRow, current: str | None) -> str | None:
    """Why an `_engine` event is not a rotation from `current` (None: the first) signed by both keys."""
    try:
        payload = payload_of(event)
        recomputed = event_hash(
            event.campaign_id, event.seq, event.at, event.actor, event.type, event.payload, event.prev_hash
        )
    except (ValidationError, KeyError, ValueError):
        return "it is not a valid engine key rotation"
    if not isinstance(payload, EngineKeyRotated):
        return "it is not an engine key rotation"
    if recomputed != event.hash:
        return "its payload, actor, time or type does not match its hash"
    if current is not None and payload.previous != current:
        return "it does not rotate from the key before"
    if event.engine_key != payload.previous or not hash_signed(payload.previous, event.hash, event.engine_signature):
        return "it is not signed by the key it retires"
    if not signature_holds(payload.public_key, rotation_message(payload.previous, payload.public_key), payload.proof):
        return "the new key did not sign the rotation"
    return None


def engine_held(public: str, trusted: str, chain: Sequence[Event | EventRow]) -> bool:
    """Whether `public` is a key the engine held, starting from the key of fingerprint `trusted` (given out of
    band) and following the recorded rotations: what a checkpoint's or a bundle's seal is checked against."""
    keys = engine_keys(chain, trusted)
    known = {k.public for k in keys.held}
    if not known:
        return engine_fingerprint(public) == trusted
    return trusted in {engine_fingerprint(k) for k in known} and public in known


def person_seal_problem(text: str, actor: str, event_hash: str) -> tuple[str, str] | str:
    """The (person, public key) of a person's signature on an event, or why it does not hold."""
    try:
        signed = json.loads(text)
        person, public, signature = signed["person"], signed["public_key"], signed["signature"]
    except (ValueError, KeyError, TypeError):
        return "its person signature is not readable"
    if person != actor:
        return f"it is signed by {person}, but its actor is {actor}"
    if not hash_signed(public, event_hash, signature):
        return f"the signature of {person} does not verify"
    return person, public
