"""Who acts: a person named on a command proves it with a key of theirs, never on the caller's word.

The submitter of a stage may not sign off its gate, so naming an approver as the submitter without proof
would be enough to keep them from deciding it.
"""

from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from musharaka.flows.engine.gates import record_registry
from musharaka.flows.engine.records import Refused
from musharaka.stages.approvers import ApproversRegistry
from musharaka.state.proven import prove_person
from musharaka.state.signing import fingerprint, load_private, public_text

UNPROVEN = "unproven-identity"


def prove(registry: ApproversRegistry, person: str, key: Ed25519PrivateKey, now: datetime) -> None:
    """`key` is one of `person`'s keys in the approvers registry, in force at `now`; else Refused."""
    approver = registry.get(person)
    if approver is None:
        raise Refused(f"{person!r} is not in the approvers registry, so no key can prove it is them", UNPROVEN)
    # an Ed25519 key's text starts `ed25519:`, so it matches no other kind of key the registry may hold
    public = public_text(key.public_key())
    held = next((k for k in approver.keys if k.public == public), None)
    if held is None:
        raise Refused(
            f"the key {fingerprint(public)} is not one of {person}'s keys in the approvers registry, "
            f"so it does not prove the command is {person}'s",
            UNPROVEN,
        )
    if not held.in_force(now):
        raise Refused(
            f"key {held.id} of {person} is not in force at {now.isoformat()} (valid from {held.valid_from.isoformat()}"
            + (f", until {held.valid_until.isoformat()}" if held.valid_until else "")
            + (f", revoked at {held.revoked_at.isoformat()}" if held.revoked_at else "")
            + ")",
            UNPROVEN,
        )


def acting_person(
    person: str | None,
    key_path: Path | None,
    passphrase: bytes | None,
    *,
    owner: str,
    registry: ApproversRegistry | None,
    now: datetime,
) -> str:
    """Who a command acts as: the plan's owner (the planning department's account) when nobody is named,
    else the named person, proven by their private key."""
    if person is None:
        return owner
    if key_path is None:
        raise Refused(
            f"--as {person} is not proven: give --key with {person}'s private key, "
            f"or leave out --as to act as the plan's owner ({owner})",
            UNPROVEN,
        )
    if registry is None:
        raise Refused(f"no approvers registry (plans/approvers.yaml) to prove that --as {person} is them", UNPROVEN)
    key = load_private(key_path, passphrase)
    prove(registry, person, key, now)
    # the events this command appends as them carry their signature too, the registry holding their key logged first
    prove_person(person, key, lambda session, at: record_registry(registry, now=at, session=session))
    return person
