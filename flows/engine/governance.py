"""The registry's root of trust on disk: the pinned first version (plans/registry.root) and the administrators'
signatures of the registry file's current version (plans/approvers.signatures.json), and the check the engine
makes before it records a version of the registry."""

import json
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError
from sqlmodel import Session

from musharaka.flows.engine.records import Refused
from musharaka.stages.approvers import ApproversRegistry
from musharaka.state.events import REGISTRY_CHAIN, RegistryRecorded, as_utc, head, payload_of, stream_events
from musharaka.state.governance import RegistrySignature, Version, change_problem, file_digest, walk
from musharaka.state.settings import get_settings

ROOT_FILE = "registry.root"
SIGNATURES_FILE = "approvers.signatures.json"
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class UnsignedRegistry(Refused):
    """The registry file may not take effect (unpinned, or not signed by its administrators); nothing was recorded,
    not even a refusal: the decision that needed the registry was never judged."""


def plans_dir() -> Path:
    return get_settings().plans_dir


def read_root(folder: Path | None = None) -> str | None:
    """The pinned digest of the registry's first version, or None when the plans pin none."""
    path = (folder or plans_dir()) / ROOT_FILE
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise Refused(f"{path}: cannot read the pinned registry root ({error.strerror})") from None
    found = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if len(found) != 1 or not _DIGEST.match(found[0]):
        shown = found[0][:20] if found else "nothing"
        raise Refused(f"{path}: expected one line with a 64-digit hex SHA-256 digest, found {shown!r}")
    return found[0]


def write_root(registry: ApproversRegistry | str, folder: Path | None = None) -> tuple[Path, str]:
    """Pin `registry` (or a version's digest) as the first version; returns the file written and the digest."""
    path = (folder or plans_dir()) / ROOT_FILE
    pinned = registry if isinstance(registry, str) else file_digest(registry)
    path.write_text(
        "# SHA-256 of the people registry's first version (approvers.yaml), written by `musharaka people "
        "pin-registry`.\n# Every later version must be signed by the administrators of the one before it.\n"
        f"{pinned}\n",
        encoding="utf-8",
    )
    return path, pinned


def read_signatures(folder: Path | None = None) -> list[RegistrySignature]:
    """The administrators' signatures kept next to approvers.yaml (none when the file is absent)."""
    path = (folder or plans_dir()) / SIGNATURES_FILE
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as error:
        raise Refused(f"{path}: expected a JSON list of registry signatures, found unreadable JSON ({error})") from None
    if not isinstance(items, list):
        raise Refused(f"{path}: expected a JSON list of registry signatures, found {type(items).__name__}")
    signatures = []
    for i, item in enumerate(items):
        try:
            signatures.append(RegistrySignature.model_validate(item))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "entry"
            raise Refused(f"{path}: signature {i + 1}, field {where}: {first['msg']}") from None
    return signatures


def add_signature(signature: RegistrySignature, folder: Path | None = None) -> tuple[Path, list[RegistrySignature]]:
    """Keep `signature` with those of the same version (one per person); those of other versions are dropped."""
    path = (folder or plans_dir()) / SIGNATURES_FILE
    kept = [
        s
        for s in read_signatures(folder)
        if s.registry_digest == signature.registry_digest and s.person != signature.person
    ]
    kept.append(signature)
    body = json.dumps([s.model_dump(mode="json") for s in kept], indent=2, ensure_ascii=False) + "\n"
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".signatures-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(body)
    os.replace(temporary, path)  # whole or not at all: two administrators may sign at once
    return path, kept


# The last walk of this process, by the chain's newest event and the root: the service decides many times over
# one registry chain, and each event's hash seals every one before it (`audit verify` always walks afresh).
_WALKED: dict[tuple[int, str, str | None], Version | None] = {}


def recorded_version(*, session: Session, root: str | None) -> Version | None:
    """The registry version in force in the log, after walking its chain from the root; refused when the chain
    does not hold (a version no administrator signed, appended behind the engine's back)."""
    newest = head(REGISTRY_CHAIN, session=session)
    key = (newest.seq, newest.hash, root) if newest is not None else (0, "", root)
    if key in _WALKED:
        return _WALKED[key]
    version, broken = walk(list(stream_events(session, only=REGISTRY_CHAIN)), root)
    if broken is not None:
        seq, why = broken
        raise UnsignedRegistry(
            f"the people registry in the log does not hold: {REGISTRY_CHAIN} event {seq}: {why}; "
            "nothing was recorded (musharaka audit verify names what else is wrong)",
            "registry-chain-broken",
        )
    _WALKED.clear()
    _WALKED[key] = version
    return version


def first_recorded(*, session: Session) -> str | None:
    """The digest of the registry file's first version in the log, signed or not (for pinning a log kept from
    before versions were signed)."""
    for event in stream_events(session, only=REGISTRY_CHAIN):
        payload = payload_of(event)
        if isinstance(payload, RegistryRecorded):
            return file_digest(ApproversRegistry.model_validate(payload.source or payload.registry))
    return None


def admissible(
    registry: ApproversRegistry, *, now: datetime, session: Session, root: str | None = None
) -> list[RegistrySignature] | None:
    """May the registry file take effect now? The signatures to record with it (None: the version in force is this
    file already); UnsignedRegistry says why not."""
    root = root if root is not None else read_root()
    current = recorded_version(session=session, root=root)
    new = file_digest(registry)
    if current is None:
        if root is None:
            raise UnsignedRegistry(
                f"no pinned registry root ({plans_dir() / ROOT_FILE}): check approvers.yaml, then pin it with "
                "`musharaka people pin-registry` and give the digest it prints to the auditors",
                "registry-not-pinned",
            )
        if new != root:
            raise UnsignedRegistry(
                f"approvers.yaml (digest {new[:12]}) is not the pinned registry root {root[:12]} "
                f"({plans_dir() / ROOT_FILE}); pin it again if this is the first version you mean to use",
                "registry-not-pinned",
            )
        return []
    if new == current.source_digest:
        return None
    signatures = [s for s in read_signatures() if s.registry_digest == new]
    problem = change_problem(new, signatures, current.source, as_utc(now))
    if problem:
        raise UnsignedRegistry(
            f"approvers.yaml changed since the version in force, and {problem}; it does not take effect and "
            f"nothing was recorded. Each administrator signs it with: musharaka people sign-registry --as ID --key "
            f"FILE (signatures are kept in {plans_dir() / SIGNATURES_FILE})",
            "registry-unsigned",
        )
    return signatures
