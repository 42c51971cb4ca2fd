"""The append-only, hash-chained event log: typed payloads, canonical JSON, one chain per campaign."""

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar, Literal, NamedTuple, Protocol

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select as select_core
from sqlmodel import Session, col, select

from musharaka.state.tables import Event

GENESIS = "0" * 64


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ConcurrentWrite(Exception):
    """Another process appended to the same campaign first; nothing of this attempt was kept."""


class OutOfOrder(ValueError):
    """An event dated before the chain's newest one: the log is in time order, so replay can trust it."""


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 text kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(value: Any) -> str:
    """SHA-256 of a value's canonical JSON."""
    return hashlib.sha256(canonical(value).encode()).hexdigest()


def rows_digest(lines: list[str]) -> str:
    """The digest of a batch's stored rows: one line per row (`key digest`), sorted."""
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()


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


_json_text = json.encoder.encode_basestring  # how canonical() writes a string (ensure_ascii=False)


def event_hash(campaign_id: str, seq: int, at: datetime, actor: str, type_: str, payload: str, prev: str) -> str:
    """The hash that seals an event and links it to the one before.

    It covers the canonical JSON of [campaign, seq, time, actor, type, previous hash], a newline and the
    payload. The header is written directly rather than through json.dumps: verification does this for
    every event, and the result is byte for byte the same (tests/state/test_events.py).
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
        PersonInvited,
        PasskeyEnrolled,
        DelegationRecorded,
        SignInRecorded,
    )
}


REGISTRY_CHAIN = "_registry"
ACCESS_CHAIN = "_access"  # sign-ins to the service


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
