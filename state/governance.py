"""The people registry governed like a root of trust (as TUF rotates its root metadata).

The first version of the registry file is pinned by its digest (plans/registry.root, and every checkpoint and
bundle). Each later version of the file takes effect only when a threshold of the administrators named in the
version before it have signed its digest with their Ed25519 key files. The log's registry chain carries those
signatures, so an auditor walks the chain from the pin without trusting whoever runs the database.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import ValidationError

from musharaka.stages.approvers import ApproversRegistry, Delegation, Passkey
from musharaka.state.events import (
    DelegationRecorded,
    EventRow,
    LogReanchored,
    PasskeyEnrolled,
    RegistryRecorded,
    as_utc,
    digest,
    payload_of,
)
from musharaka.state.registry import merged
from musharaka.state.signing import SignedMessage
from musharaka.state.tables import Event


class RegistrySignature(SignedMessage):
    """An administrator's signature of one version of the registry file, by its digest."""

    purpose: Literal["musharaka registry version"] = "musharaka registry version"
    registry_digest: str
    person: str


def file_digest(registry: ApproversRegistry) -> str:
    """The digest administrators sign and the root pins: the registry file's content, as validated."""
    return digest(registry.model_dump(mode="json"))


def signers(
    registry_digest: str, signatures: Sequence[RegistrySignature], previous: ApproversRegistry, at: datetime
) -> list[str]:
    """The administrators of `previous` whose signature of `registry_digest` verifies with a key of theirs in
    force at `at`, each counted once."""
    found: list[str] = []
    administrators = set(previous.administrator_ids())
    for signature in signatures:
        person = previous.get(signature.person)
        if person is None or person.id not in administrators or person.id in found:
            continue
        if signature.registry_digest != registry_digest or not signature.verifies():
            continue
        if any(k.public == signature.public_key and k.in_force(at) for k in person.keys):
            found.append(person.id)
    return found


def change_problem(
    registry_digest: str, signatures: Sequence[RegistrySignature], previous: ApproversRegistry, at: datetime
) -> str | None:
    """Why a new version of the registry may not take effect, naming who signed and how many are needed."""
    signed = signers(registry_digest, signatures, previous, at)
    needed = previous.administrators.threshold
    if len(signed) >= needed:
        return None
    administrators = ", ".join(previous.administrator_ids()) or "nobody"
    return (
        f"registry version {registry_digest[:12]} is signed by {len(signed)} of the {needed} administrator(s) "
        f"needed ({', '.join(signed) or 'none'} signed; administrators of the version before it: {administrators})"
    )


def parse_signatures(items: Sequence[dict[str, Any]]) -> list[RegistrySignature]:
    """Recorded signatures, skipping any that is not one (it then counts for nothing)."""
    parsed = []
    for item in items:
        try:
            parsed.append(RegistrySignature.model_validate(item))
        except ValidationError:
            continue
    return parsed


@dataclass(frozen=True)
class Version:
    """A registry version as the chain recorded it: its event, the file as signed, and that file's digest."""

    seq: int
    source: ApproversRegistry
    source_digest: str


def walk(chain: Sequence[Event | EventRow], root: str | None) -> tuple[Version | None, tuple[int, str] | None]:
    """Walk the registry chain from the pinned root: the newest version that holds, and the first event that
    does not (its sequence and why), if any. With no root, the first version is taken as it is."""
    enrolled: list[tuple[str, Passkey]] = []
    delegations: list[Delegation] = []
    current: Version | None = None
    # versions recorded before the log was re-anchored (schema 0003) predate signed versions: the re-anchoring,
    # signed by the engine, vouches for them as it does for the legacy hashes; every later change needs signatures
    anchored = next((e.seq for e in chain if e.type == LogReanchored.TYPE), 0)
    for event in chain:
        seq = event.seq
        try:
            payload = payload_of(event)
            if isinstance(payload, PasskeyEnrolled):
                enrolled.append((payload.person, Passkey.model_validate(payload.passkey)))
            elif isinstance(payload, DelegationRecorded):
                delegations.append(Delegation.model_validate(payload.delegation))
            elif isinstance(payload, RegistryRecorded):
                recorded = ApproversRegistry.model_validate(payload.registry)
                source = ApproversRegistry.model_validate(payload.source) if payload.source else recorded
        except (ValidationError, KeyError):
            return current, (seq, f"its payload is not a valid {event.type}")
        if isinstance(payload, RegistryRecorded):
            version = Version(seq, source, file_digest(source))
            problem = _version_problem(
                payload, recorded, version, current, root, enrolled, delegations, event.at, legacy=seq < anchored
            )
            if problem:
                return current, (seq, problem)
            current = version
    return current, None


def _version_problem(
    payload: RegistryRecorded,
    recorded: ApproversRegistry,
    version: Version,
    previous: Version | None,
    root: str | None,
    enrolled: list[tuple[str, Passkey]],
    delegations: list[Delegation],
    at: datetime,
    *,
    legacy: bool,
) -> str | None:
    if digest(payload.registry) != payload.registry_digest:
        return "the registry it records does not match its digest"
    # compared as models: a version recorded before a field was added to the registry reads with its default
    derived = merged(version.source, enrolled, delegations)
    if derived is not recorded and derived.model_dump(mode="json") != recorded.model_dump(mode="json"):
        return (
            "the registry it records is not the signed registry file with the passkeys and delegations "
            "recorded before it (people, roles or keys were added behind the administrators' backs)"
        )
    if previous is None:
        if root is not None and version.source_digest != root:
            return (
                f"the registry's first version {version.source_digest[:12]} is not the pinned root {root[:12]} "
                "(plans/registry.root)"
            )
        return None
    if version.source_digest == previous.source_digest or legacy:
        # the same file (only passkeys or delegations recorded since, each checked on its own), or a change made
        # before versions were signed
        return None
    problem = change_problem(version.source_digest, parse_signatures(payload.signatures), previous.source, as_utc(at))
    return None if problem is None else f"{problem}: it did not take effect lawfully"
