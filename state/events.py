"""The append-only, hash-chained event log: typed payloads, canonical JSON, one chain per campaign."""

import hashlib
import heapq
import json
import math
import re
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any, ClassVar, Literal, NamedTuple, Protocol, Self

import rfc8785
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select as select_core
from sqlmodel import Session, col, select

from musharaka.state.tables import Event as Event

GENESIS = "0" * 64


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ConcurrentWrite(Exception):
    """Another process appended to the same campaign first; nothing of this attempt was kept."""


class OutOfOrder(ValueError):
    """An event dated before the chain's newest one: the log is in time order, so replay can trust it."""


class NotCanonical(ValueError):
    """A value RFC 8785 (JCS) cannot carry: NaN, an infinity, an integer beyond 2^53; the message names where."""


def canonical(value: Any) -> str:
    """RFC 8785 (JCS) canonical JSON: keys sorted by UTF-16 code units, no spaces, numbers as ECMAScript writes
    them, so that an auditor's tools in any language produce the same bytes.

    A value with no number but integers JCS can carry, and keys that sort alike by UTF-16 code units and by
    code points (none from U+D800 up), is written by Python's C encoder, whose output is then the same bytes
    (tests/state/test_vectors.py): the pure-Python `rfc8785` costs an audit several times as much. Any other
    value, a float say, is written by `rfc8785`."""
    if _plain(value):
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if text.isascii() or not _SURROGATE.search(text):  # a lone surrogate: `rfc8785` says what is wrong
            return text
    try:
        return rfc8785.dumps(value).decode()
    except rfc8785.CanonicalizationError as error:
        raise NotCanonical(f"{_where_not_canonical(value) or 'the value'}: {error}") from None


_SAFE_INTEGER = 2**53 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")


def _plain(value: Any) -> bool:
    """Whether Python's JSON encoder writes `value` exactly as JCS does (see `canonical`)."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-_SAFE_INTEGER <= value <= _SAFE_INTEGER)
    if kind is dict:
        return all(
            type(key) is str and (key.isascii() or max(key) < "\ud800") and _plain(item) for key, item in value.items()
        )
    if kind is list or kind is tuple:
        return all(_plain(item) for item in value)
    return False


def _where_not_canonical(value: Any, path: str = "") -> str | None:
    """The path (`outputs.mean` or `rows[3]`) of the first value JCS refuses: the error alone does not say."""
    if isinstance(value, float) and not math.isfinite(value):
        return path
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53 - 1:
        return path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list | tuple) else ()
    for key, item in items:
        found = _where_not_canonical(item, f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}".lstrip("."))
        if found is not None:
            return found
    return None


def legacy_canonical(value: Any) -> str:
    """The canonical form before JCS (Python's JSON, keys sorted): only to check events of a log older than it."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(value: Any) -> str:
    """SHA-256 of a value's canonical JSON."""
    return hashlib.sha256(canonical(value).encode()).hexdigest()


def rows_digest(lines: list[str]) -> str:
    """The digest of a batch's stored rows: one line per row (`key digest`), sorted."""
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()


class SortedLines:
    """`rows_digest` of lines given chunk by chunk, in bounded memory, for a batch of any size.

    The digest covers the lines sorted, so they cannot be hashed as they come: they are kept, and past `run`
    of them (about 20 MB) sorted and written to a temporary file (one run a file), then merged from the runs
    as they are hashed. The value is `rows_digest`'s exactly, so batches sealed either way verify alike.
    """

    def __init__(self, run: int = 100_000) -> None:
        self.count = 0
        self._run = run
        self._held: list[str] = []
        self._runs: list[IO[bytes]] = []

    def extend(self, lines: Iterable[str]) -> None:
        before = len(self._held)
        self._held.extend(lines)
        self.count += len(self._held) - before
        if len(self._held) >= self._run:
            self._spill()

    def hexdigest(self) -> str:
        sha = hashlib.sha256()
        runs = [_run_lines(handle) for handle in self._runs]
        self._held.sort()
        merged = heapq.merge(self._held, *runs) if runs else iter(self._held)
        separator = ""
        while block := [line for _, line in zip(range(10_000), merged, strict=False)]:
            sha.update((separator + "\n".join(block)).encode())
            separator = "\n"
        return sha.hexdigest()

    def _spill(self) -> None:
        handle = tempfile.TemporaryFile()  # noqa: SIM115  (closed by close()); unlinked at once, even on a crash
        self._held.sort()
        for start in range(0, len(self._held), 10_000):  # written in blocks: no second copy of the run
            handle.write("".join(_escaped(line) + "\n" for line in self._held[start : start + 10_000]).encode())
        handle.seek(0)
        self._runs.append(handle)
        self._held = []

    def close(self) -> None:
        for handle in self._runs:
            handle.close()
        self._runs = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


# a run's file holds a line a line: a line's own newlines (a tool's response id may hold one) are escaped
_ESCAPES = {"\\\\": "\\", "\\n": "\n"}


def _escaped(line: str) -> str:
    return line.replace("\\", "\\\\").replace("\n", "\\n") if "\\" in line or "\n" in line else line


def _run_lines(handle: IO[bytes]) -> Iterator[str]:
    for raw in handle:
        line = raw[:-1].decode()
        yield re.sub(r"\\[\\n]", lambda m: _ESCAPES[m.group()], line) if "\\" in line else line


def row_content(
    submitted_at: datetime, channel: str, audience: str, participant: str, segments: str, answers: str
) -> str:
    """The text a contribution row's digest covers: every stored field, the time in UTC microseconds."""
    micros = (as_utc(submitted_at) - EPOCH) // timedelta(microseconds=1)
    return content_text(micros, channel, audience, participant, segments, answers)


def content_text(micros: int, channel: str, audience: str, participant: str, segments: str, answers: str) -> str:
    """`row_content` from the time in microseconds: what ingestion, which holds times as integers, calls."""
    return f"{micros}\x1f{channel}\x1f{audience}\x1f{participant}\x1f{segments}\x1f{answers}"


def quarantine_line(key: str, row: int, reasons: str, cells: str) -> str:
    """A quarantined row's line in its batch's quarantine digest."""
    return f"{key} {row} {held_digest(reasons, cells)}"


def held_digest(reasons: str, cells: str) -> str:
    """What a quarantined row was and why, as one digest: the same bad row again has the same one."""
    return text_digest(reasons + chr(31) + cells)


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def as_utc(moment: datetime) -> datetime:
    """Databases without zone support hand back naive datetimes; everything stored is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utc_text(moment: datetime) -> str:
    """One exact text form for an instant, used inside hashes: 2025-06-15T05:00:00.000000Z."""
    return as_utc(moment).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


# how JCS, and legacy_canonical(), write a string: `"` and `\` escaped, control characters as \b \t \n \f \r or
# \u00xx (lower case), everything else as it is (tests/state/test_events.py holds the two to each other)
_json_text = json.encoder.encode_basestring


def envelope(campaign_id: str, seq: int, at: datetime, actor: str, type_: str, payload: str, prev: str) -> bytes:
    """The bytes an event's hash covers: the JCS of one object holding the event, its payload as an object.

    `payload` is the stored text, which `append` writes in JCS: the envelope is then written around it directly
    (keys in JCS order, strings escaped exactly as JCS escapes them) rather than parsed and written again, which
    would cost verification several times over (bench/bench_audit.py). A payload not stored in JCS gives other
    bytes, so its hash does not match: `stored_canonically` tells the two cases apart.
    """
    return (
        f'{{"actor":{_json_text(actor)},"at":{_json_text(utc_text(at))},"campaign":{_json_text(campaign_id)},'
        f'"payload":{payload},"prev":{_json_text(prev)},"seq":{int(seq)},"type":{_json_text(type_)}}}'
    ).encode()


def event_hash(campaign_id: str, seq: int, at: datetime, actor: str, type_: str, payload: str, prev: str) -> str:
    """The hash that seals an event and links it to the one before: SHA-256 of its JCS envelope, in hex."""
    return hashlib.sha256(envelope(campaign_id, seq, at, actor, type_, payload, prev)).hexdigest()


def stored_canonically(payload: str) -> bool:
    """Whether a stored payload text is its own JCS form (as `append` writes every payload)."""
    try:
        return canonical(json.loads(payload)) == payload
    except (ValueError, NotCanonical):
        return False


def legacy_event_hash(campaign_id: str, seq: int, at: datetime, actor: str, type_: str, payload: str, prev: str) -> str:
    """The hash of an event written before the log was re-anchored on JCS (`log.reanchored`).

    It covers the canonical JSON of [campaign, seq, time, actor, type, previous hash], a newline and the
    payload text. The header is written directly rather than through json.dumps: verification does this for
    every legacy event, and the result is byte for byte the same (tests/state/test_events.py).
    """
    header = (
        f"[{_json_text(campaign_id)},{seq},{_json_text(utc_text(at))},{_json_text(actor)},"
        f"{_json_text(type_)},{_json_text(prev)}]"
    )
    return hashlib.sha256(f"{header}\n{payload}".encode()).hexdigest()


class Payload(BaseModel):
    """Base of every event payload; `TYPE` is the event type it is stored under."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    TYPE: ClassVar[str]


class CampaignStarted(Payload):
    TYPE = "campaign.started"
    plan: dict[str, Any]
    plan_digest: str


class PlanRecorded(Payload):
    """The plan file changed since it was last recorded (e.g. reworked after a rejection)."""

    TYPE = "plan.recorded"
    plan: dict[str, Any]
    plan_digest: str


class SubmissionRecorded(Payload):
    TYPE = "submission.recorded"
    stage: str
    file_name: str
    digest: str
    content: dict[str, Any]


class ContributionsIngested(Payload):
    """One ingested file: the rows live in the contribution table, tagged with this event's sequence."""

    TYPE = "contributions.ingested"
    file_name: str
    rows_read: int
    rows_stored: int
    duplicates: int
    digest: str  # of the file's bytes
    rows_digest: str  # of the rows stored: `key digest` per row (see `rows_digest`)
    source: str = "csv"  # the tool that exported the file
    rows_quarantined: int = 0  # rows kept aside with their reasons (table quarantined_row)
    quarantine_digest: str = ""  # of the quarantined rows: `key row digest-of-reasons-and-cells` per row
    columns_ignored: list[str] = []  # headers of the file that no question, segment or field uses
    rows_resubmitted: int = 0  # of the rows stored, those whose key was kept aside by an earlier file


class ContributionsWithdrawn(Payload):
    """An ingested batch taken out of the count, signed by the person who withdrew it, with why.

    Its rows stay in the tables, sealed by the ingestion's digests, marked with this event's sequence.
    """

    TYPE = "contributions.withdrawn"
    batch: int  # the sequence number of the contributions.ingested event withdrawn
    file_name: str
    rows_withdrawn: int  # the batch's stored rows, which no longer count
    quarantined_withdrawn: int  # the batch's quarantined rows, no longer kept aside
    person: str
    reason: str
    signed: dict[str, Any]  # the SignedWithdrawal
    registry_digest: str


class StageStarted(Payload):
    TYPE = "stage.started"
    stage: str
    attempt: int
    submitter: str
    plan_digest: str


class StageWaiting(Payload):
    TYPE = "stage.waiting"
    stage: str
    attempt: int
    reason: str
    until: datetime


class StageFailed(Payload):
    TYPE = "stage.failed"
    stage: str
    attempt: int
    missing: list[str]


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    lang: Literal["ar", "en"]
    path: str
    digest: str


class StageCompleted(Payload):
    TYPE = "stage.completed"
    stage: str
    attempt: int
    outputs: dict[str, Any]
    outputs_digest: str
    documents: list[Document]


class GateOpened(Payload):
    TYPE = "gate.opened"
    stage: str
    attempt: int
    policy: dict[str, Any]  # the plan's GatePolicy for the stage, as it stood when the gate opened
    due_at: datetime
    submitter: str
    outputs_digest: str


class GateDecided(Payload):
    """An approval or rejection, with the signed message that proves who gave it and on what."""

    TYPE = "gate.decided"
    stage: str
    attempt: int
    approver: str
    decision: Literal["approve", "reject"]
    text: str
    principal: str  # whose authority: the approver, or the delegator they stand in for
    capacity: Literal["role", "delegate", "escalation"]
    roles: list[str]
    signed: dict[str, Any]
    registry_digest: str


class WindowExtended(Payload):
    """The participation window moved to a later closing date by a signed decision at conduct."""

    TYPE = "window.extended"
    stage: str
    attempt: int
    closes: date
    approver: str
    reason: str
    principal: str
    capacity: Literal["role", "delegate", "escalation"]
    signed: dict[str, Any]
    registry_digest: str


class GateRefused(Payload):
    """A decision the engine refused; nothing else changed, but the attempt is on the record."""

    TYPE = "gate.refused"
    stage: str
    attempt: int | None
    approver: str
    decision: str
    code: str
    message: str
    signed: dict[str, Any] | None


class RegistryRecorded(Payload):
    """The approvers registry as it is in force from this event on (chain `_registry`)."""

    TYPE = "registry.recorded"
    registry: dict[str, Any]
    registry_digest: str
    # the registry file as its administrators signed it, when the service added passkeys or delegations to it
    # (otherwise `registry` is the file itself); and their signatures of its digest (state.governance)
    source: dict[str, Any] | None = None
    signatures: list[dict[str, Any]] = []


class PersonInvited(Payload):
    """An administrator invited a person of the registry to enrol a passkey (chain `_registry`).

    Only the digest of the one-time link's secret is kept: the log never holds what would let one enrol.
    """

    TYPE = "person.invited"
    person: str
    invitation: str  # SHA-256 of the link's secret
    expires_at: datetime


class PasskeyEnrolled(Payload):
    """A person created a passkey from their invitation; it is in the registry from this event on."""

    TYPE = "passkey.enrolled"
    person: str
    invitation: str
    passkey: dict[str, Any]  # the registry's `passkeys:` entry, as printed for the registry file


class DelegationRecorded(Payload):
    """An approver lent their authority in the service, for a date range (chain `_registry`)."""

    TYPE = "delegation.recorded"
    delegation: dict[str, Any]  # the registry's `delegations:` entry
    assertion: dict[str, Any]  # the delegator's passkey signing it (state.proof.delegation_message)


class SignInRecorded(Payload):
    """A sign-in to the service with a passkey, or a refused attempt and why (chain `_access`)."""

    TYPE = "sign-in.recorded"
    person: str
    outcome: Literal["signed-in", "refused", "rate-limited"]
    reason: str = ""


class DecisionUpdated(Payload):
    """A step in carrying out the campaign's approved decision: planned, in progress, implemented or dropped."""

    TYPE = "decision.updated"
    status: Literal["planned", "in-progress", "implemented", "dropped"]
    percent: int
    note: str
    evidence: str | None = None


class MessageSent(Payload):
    """A message of the communication plan (guide 8.1.7) went out, as the person who sent it says."""

    TYPE = "message.sent"
    message: str  # the message's id in the plan's `communication`
    stage: str
    channels: list[str]
    promise: bool
    evidence: str | None = None  # a link to what went out: a post, a published page


class LogReanchored(Payload):
    """The chain's events before this one were sealed in the legacy form (Python's JSON, unsigned); from this
    event on every event is hashed as JCS and signed by the engine. Written once per chain by the migration."""

    TYPE = "log.reanchored"
    legacy_events: int  # how many events the legacy part holds (sequences 1 to this)
    legacy_head: str  # the hash of the last of them, in the legacy form
    form: str = "jcs-sha256-ed25519"


class EngineKeyRotated(Payload):
    """The engine signs with a new key from this event on (chain `_engine`). The event itself is signed by the
    previous key; `proof` is the new key's signature over `rotation_message(previous, public_key)`."""

    TYPE = "engine.key-rotated"
    previous: str  # the public key that signs this event, and signed every event before it since the last rotation
    public_key: str
    proof: str


PAYLOADS: dict[str, type[Payload]] = {
    cls.TYPE: cls
    for cls in (
        CampaignStarted,
        PlanRecorded,
        SubmissionRecorded,
        ContributionsIngested,
        ContributionsWithdrawn,
        StageStarted,
        StageWaiting,
        StageFailed,
        StageCompleted,
        GateOpened,
        GateDecided,
        WindowExtended,
        GateRefused,
        RegistryRecorded,
        DecisionUpdated,
        MessageSent,
        PersonInvited,
        PasskeyEnrolled,
        DelegationRecorded,
        SignInRecorded,
        LogReanchored,
        EngineKeyRotated,
    )
}


REGISTRY_CHAIN = "_registry"
ACCESS_CHAIN = "_access"  # sign-ins to the service
ENGINE_CHAIN = "_engine"  # the engine's signing keys, one event a rotation


class Stored(Protocol):
    """Anything that carries an event's type and payload: a table row, or a row read for audit."""

    @property
    def type(self) -> str: ...
    @property
    def payload(self) -> str: ...


def payload_of(event: Stored) -> Payload:
    """The typed payload of a stored event."""
    return PAYLOADS[event.type].model_validate_json(event.payload)


class EventRow(NamedTuple):
    """An event as read for audit and replay: the stored columns, without ORM bookkeeping."""

    campaign_id: str
    seq: int
    at: datetime
    actor: str
    type: str
    payload: str
    prev_hash: str
    hash: str
    engine_key: str  # the public key of the engine that signed the event ("": a legacy event)
    engine_signature: str  # Ed25519 over the 32 bytes of the hash, base64
    person_signature: str  # JSON {person, public_key, signature} when a person proved the command with a key


def stream_events(session: Session, *, only: str | None = None, exclude: str | None = None) -> Iterator[EventRow]:
    """Events in log order, read in slices so that a long log never sits in memory whole."""
    table = Event.__table__  # type: ignore[attr-defined]
    query = select_core(*(table.c[name] for name in EventRow._fields)).order_by(table.c.campaign_id, table.c.seq)
    if only is not None:
        query = query.where(table.c.campaign_id == only)
    if exclude is not None:
        query = query.where(table.c.campaign_id != exclude)
    result = session.execute(query.execution_options(yield_per=5000))  # this statement only, not the session
    return (EventRow(*row) for row in result)


def head(campaign_id: str, *, session: Session) -> Event | None:
    """The campaign's newest event."""
    query = select(Event).where(Event.campaign_id == campaign_id).order_by(col(Event.seq).desc())
    return session.exec(query.limit(1)).first()


def events_of(campaign_id: str | None = None, *, session: Session) -> list[Event]:
    """Events in log order: one campaign's, or every campaign's."""
    query = select(Event)
    if campaign_id is not None:
        query = query.where(Event.campaign_id == campaign_id)
    return list(session.exec(query.order_by(col(Event.campaign_id), col(Event.seq))))


def chain_problems(events: list[Event]) -> list[str]:
    """What is wrong with a campaign's chain, in order; empty when every link holds."""
    problems = []
    prev, expected_seq = GENESIS, 1
    for event in events:
        if event.seq != expected_seq:
            problems.append(f"event {event.seq}: expected sequence {expected_seq}")
        if event.prev_hash != prev:
            problems.append(f"event {event.seq}: does not link to the event before it")
        recomputed = event_hash(
            event.campaign_id,
            event.seq,
            event.at,
            event.actor,
            event.type,
            event.payload,
            event.prev_hash,
        )
        if recomputed != event.hash:
            problems.append(f"event {event.seq}: its content does not match its hash")
        prev, expected_seq = event.hash, event.seq + 1
    return problems
