"""Audit, without trusting the operator: every hash, link and signature recomputed; rows and documents
checked against the digests the log sealed; checkpoints of the chain heads signed by the engine's key.

The same checks run on the database and on an exported bundle: both hand over `Event` rows.
"""

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import groupby
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError
from sqlalchemy import select as select_core
from sqlmodel import Session

from musharaka.stages.approvers import ApproversRegistry, Delegation, Passkey
from musharaka.stages.gates import NoAuthority, authority
from musharaka.stages.plans import CampaignPlan, GatePolicy
from musharaka.state.events import (
    ENGINE_CHAIN,
    GENESIS,
    REGISTRY_CHAIN,
    CampaignStarted,
    ContributionsIngested,
    ContributionsWithdrawn,
    DelegationRecorded,
    EventRow,
    GateDecided,
    GateOpened,
    LogReanchored,
    PasskeyEnrolled,
    PlanRecorded,
    RegistryRecorded,
    StageCompleted,
    StageStarted,
    WindowExtended,
    as_utc,
    canonical,
    digest,
    event_hash,
    legacy_canonical,
    legacy_event_hash,
    payload_of,
    quarantine_line,
    row_content,
    rows_digest,
    stored_canonically,
    stream_events,
    text_digest,
)
from musharaka.state.governance import walk
from musharaka.state.passkeys import Assertion
from musharaka.state.proof import (
    delegation_problem,
    signature_problem,
    signing_credential,
    time_problem,
    withdrawal_problem,
)
from musharaka.state.seal import (
    EngineKeys,
    engine_fingerprint,
    engine_held,
    engine_keys,
    given_fingerprint,
    hash_signed,
    person_seal_problem,
)
from musharaka.state.signing import (
    SignedDecision,
    SignedMessage,
    SignedWithdrawal,
    fingerprint,
    public_text,
    sign_bytes,
)
from musharaka.state.spans import EVERY, Forked, Span, span_events, spans_of, within
from musharaka.state.tables import Contribution, Event, QuarantinedRow


@dataclass(frozen=True)
class Finding:
    """The first thing wrong in one chain: which event, and what."""

    campaign: str
    seq: int
    what: str

    def __str__(self) -> str:
        return f"{self.campaign} event {self.seq}: {self.what}"


@dataclass
class Batch:
    """A contribution batch as stored: one line per row and per quarantined row, as its digests cover them."""

    lines: list[str] = field(default_factory=list)  # `key digest` per stored row, the digest as stored
    changed: list[int] = field(default_factory=list)  # ids of rows whose content no longer matches their digest
    quarantine: list[str] = field(default_factory=list)  # `key row digest` per quarantined row, recomputed
    # how many of its rows (stored and quarantined) carry each withdrawal mark (0: counts); None: not known (a
    # bundle holds the rows as sealed, and the withdrawals in its log)
    marks: Counter[int] | None = None


EventLike = Event | EventRow
Batches = dict[str, Batch]  # batch id (the ingestion event's sequence) -> its rows


@dataclass(frozen=True)
class Trust:
    """What every event is checked against: the registry versions the log holds, in order, and the engine's keys."""

    registries: dict[str, ApproversRegistry]  # by digest
    timeline: tuple[tuple[datetime, ApproversRegistry], ...]  # each version from the time it was recorded
    engine: EngineKeys

    def registry_at(self, at: datetime) -> ApproversRegistry | None:
        """The registry in force at `at`: the last version recorded at or before it."""
        found = None
        for since, registry in self.timeline:
            if since <= as_utc(at):
                found = registry
        return found


def trust_of(registry_chain: Sequence[EventLike], engine_chain: Sequence[EventLike], engine: str | None) -> Trust:
    """The registries the log records, and the engine keys it records starting from the trusted fingerprint."""
    registries: dict[str, ApproversRegistry] = {}
    timeline = []
    for event in registry_chain:
        try:
            payload = payload_of(event)
            if not isinstance(payload, RegistryRecorded):
                continue
            registry = ApproversRegistry.model_validate(payload.registry)
        except (ValidationError, KeyError, ValueError):
            continue  # reported when the registry chain itself is verified
        registries[payload.registry_digest] = registry
        timeline.append((as_utc(event.at), registry))
    return Trust(registries, tuple(timeline), engine_keys(engine_chain, engine))


def row_batches(rows: Iterable[Any], quarantined: Iterable[Any] = ()) -> dict[str, Batches]:
    """Group stored contributions by campaign and batch, recompute each row's digest from its content, and count
    the rows' withdrawal marks: `Contribution` and `QuarantinedRow` objects, or rows of their columns."""
    campaigns: dict[str, Batches] = {}
    for row in rows:
        batch = campaigns.setdefault(row.campaign_id, {}).setdefault(row.batch, Batch(marks=Counter()))
        content = row_content(row.submitted_at, row.channel, row.audience, row.participant, row.segments, row.answers)
        if text_digest(content) != row.digest:
            batch.changed.append(row.id or 0)
        batch.lines.append(f"{row.row_key} {row.digest}")
        _count_mark(batch, row.withdrawn)
    for held in quarantined:
        batch = campaigns.setdefault(held.campaign_id, {}).setdefault(held.batch, Batch(marks=Counter()))
        batch.quarantine.append(quarantine_line(held.row_key, held.row, held.reasons, held.cells))
        _count_mark(batch, held.withdrawn)
    return campaigns


def _count_mark(batch: Batch, mark: int) -> None:
    if batch.marks is not None:
        batch.marks[mark] += 1


def verify(
    events: Iterable[EventLike],
    *,
    engine: str | None,
    batches: dict[str, Batches] | None = None,
    document: Callable[[str], bytes | None] | None = None,
    root: str | None = None,
) -> list[Finding]:
    """Check every chain of events held in memory (see `verify_chains`), the registry's from its pinned `root`;
    `engine` is the fingerprint of the engine key the verifier trusts."""
    chains: dict[str, list[EventLike]] = {}
    for event in events:
        chains.setdefault(event.campaign_id, []).append(event)
    for chain in chains.values():
        chain.sort(key=lambda e: e.seq)
    trust = trust_of(chains.get(REGISTRY_CHAIN, []), chains.get(ENGINE_CHAIN, []), engine)
    ordered = ((c, chains[c]) for c in sorted(chains))
    lookup = None if batches is None else (lambda campaign: batches.get(campaign, {}))
    findings = verify_chains(ordered, trust, lookup, document)
    return governed(findings, sorted(chains.get(REGISTRY_CHAIN, []), key=lambda e: e.seq), root)


def governed(findings: list[Finding], registry: Sequence[EventLike], root: str | None) -> list[Finding]:
    """The findings with the registry chain walked from its root: a version its predecessor's administrators
    did not sign (appended with plain SQL, every hash recomputed) is named, unless an earlier event is already."""
    _, broken = walk(registry, root)
    if broken is None:
        return findings
    seq, why = broken
    earlier = [f for f in findings if f.campaign == REGISTRY_CHAIN and f.seq <= seq]
    if earlier:
        return findings
    others = [f for f in findings if f.campaign != REGISTRY_CHAIN]
    return [Finding(REGISTRY_CHAIN, seq, why), *others]


def verify_chains(
    chains: Iterable[tuple[str, Sequence[EventLike]]],
    trust: Trust,
    batches: Callable[[str], Batches] | None,
    document: Callable[[str], bytes | None] | None,
) -> list[Finding]:
    """The first broken event of each chain that has one; chains come in sequence order, one at a time.

    `batches(campaign)` gives the stored contributions (None: not checked); `document(path)` gives a
    stage document's bytes or None when it is gone (None: documents not checked).
    """
    findings = []
    for campaign, chain in chains:
        stored = batches(campaign) if batches is not None else None  # asked for every chain, in order
        if campaign == ENGINE_CHAIN and trust.engine.broken is not None:
            findings.append(Finding(ENGINE_CHAIN, *trust.engine.broken))  # its keys before the break still count
            continue
        found = _first_problem(campaign, chain, trust, stored, document)
        if found:
            findings.append(found)  # a broken chain explains its orphan rows: name its first event only
        elif stored is not None:
            sealed = {str(e.seq) for e in chain if e.type == "contributions.ingested"}
            for batch in sorted(set(stored) - sealed):
                findings.append(Finding(campaign, 0, f"contribution rows of batch {batch} match no ingestion event"))
    return findings


# the columns of each table that verification reads (every one a row's digest covers)
_CONTRIBUTION = (
    "campaign_id batch id submitted_at channel audience participant segments answers row_key digest withdrawn"
)
_QUARANTINED = "campaign_id batch row_key row reasons cells withdrawn"


class StoredBatches:
    """Every campaign's stored rows, read in two statements however many campaigns there are, and handed out
    campaign by campaign as the chains are verified (memory bounded by the largest campaign).

    The rows come sorted by campaign as the chains do, by the same database: the rows of the chain being
    verified are the next group, and a group of a campaign with no chain (which no event can vouch for, and
    which was never checked) is passed over."""

    def __init__(self, session: Session, campaign: str | None, span: Span, chains: set[str]) -> None:
        self.chains = chains
        self.rows = self._groups(session, Contribution, _CONTRIBUTION, campaign, span)
        self.held = self._groups(session, QuarantinedRow, _QUARANTINED, campaign, span)

    @staticmethod
    def _groups(session: Session, table: Any, columns: str, campaign: str | None, span: Span) -> "_Ahead":
        core = table.__table__
        query = select_core(*(core.c[name] for name in columns.split())).where(*within(core, campaign, span))
        return _Ahead(session.execute(query.order_by(core.c.campaign_id).execution_options(yield_per=5000)))

    def __call__(self, campaign: str) -> Batches:
        rows = self.rows.take(campaign, self.chains)
        held = self.held.take(campaign, self.chains)
        return row_batches(rows, held).get(campaign, {})


class _Ahead:
    """Rows grouped by campaign, one group read ahead."""

    def __init__(self, rows: Iterable[Any]) -> None:
        self.groups = groupby(rows, key=lambda row: row.campaign_id)
        self.next = next(self.groups, None)

    def take(self, campaign: str, chains: set[str]) -> list[Any]:
        """The campaign's rows: the next group of a campaign that has a chain, when it is this one's."""
        while self.next is not None and self.next[0] not in chains:
            self.next = next(self.groups, None)
        if self.next is None or self.next[0] != campaign:
            return []
        rows = list(self.next[1])
        self.next = next(self.groups, None)
        return rows


def verify_database(
    session: Session,
    campaign: str | None = None,
    document: Callable[[str], bytes | None] | None = None,
    root: str | None = None,
    *,
    engine: str | None,
    contributions: bool = True,
    processes: int = 1,
) -> tuple[list[Finding], int, int]:
    """Verify the stored log chain by chain (memory bounded by the largest campaign): findings, events, chains.

    `engine` is the fingerprint of the engine key the verifier trusts (given out of band); `contributions`:
    check the stored rows against the digests sealed in the log too. The statements sent are the same few
    whatever the number of campaigns (tests/state/test_audit_statements.py).

    `processes` above 1 splits a long log's campaigns into that many spans of about as many events, each
    verified by a process of its own (forked: only from a process that runs no other thread, as the command
    line does); every process reads its span, and the registry and engine chains, in a snapshot of its own."""
    registry = list(stream_events(session, only=REGISTRY_CHAIN))
    trust = trust_of(registry, list(stream_events(session, only=ENGINE_CHAIN)), engine)
    findings = verify_chains([(REGISTRY_CHAIN, registry)], trust, None, None) if registry else []
    events, chains = len(registry), 1 if registry else 0
    spans = spans_of(session, processes) if campaign is None and processes > 1 else [EVERY]
    work = _SpanWork(campaign, engine, contributions, document)
    workers = [Forked(session, work, span) for span in spans[1:]]
    for found, counted, chained in [work(session, spans[0], trust), *(w.result() for w in workers)]:
        findings += found
        events, chains = events + counted, chains + chained
    return governed(findings, registry, root), events, chains


@dataclass(frozen=True)
class _SpanWork:
    """Verifying the chains of one span of campaigns (and their rows and documents)."""

    campaign: str | None
    engine: str | None
    contributions: bool
    document: Callable[[str], bytes | None] | None

    def __call__(self, session: Session, span: Span, trust: Trust | None = None) -> tuple[list[Finding], int, int]:
        """The span's findings, events and chains; `trust` read in this session when not given."""
        if trust is None:
            registry = list(stream_events(session, only=REGISTRY_CHAIN))
            trust = trust_of(registry, list(stream_events(session, only=ENGINE_CHAIN)), self.engine)
        events = span_events(session, self.campaign, span)
        counted = {"events": 0, "chains": 0}

        def chains() -> Iterator[tuple[str, list[EventRow]]]:
            for name, group in groupby(events, key=lambda e: e.campaign_id):
                chain = list(group)
                counted["events"] += len(chain)
                counted["chains"] += 1
                yield name, chain

        names = chain_names(session, self.campaign, span)
        batches = StoredBatches(session, self.campaign, span, names) if self.contributions else None
        findings = verify_chains(chains(), trust, batches, self.document)
        return findings, counted["events"], counted["chains"]


def chain_names(session: Session, campaign: str | None = None, span: Span = EVERY) -> set[str]:
    """The campaigns whose chains `verify_database` checks, besides the registry's: one statement."""
    event = Event.__table__  # type: ignore[attr-defined]
    where = [event.c.campaign_id != REGISTRY_CHAIN, *within(event, campaign, span)]
    return set(session.execute(select_core(event.c.campaign_id).distinct().where(*where)).scalars())


def _legacy_events(chain: Sequence[EventLike]) -> int:
    """How many of the chain's first events are in the legacy form: those its first `log.reanchored` vouches for
    (its own seal is checked like any other event's); none in a chain begun after the re-anchoring."""
    for event in chain:
        if event.type == LogReanchored.TYPE:
            return event.seq - 1
    return 0


def _seal_problem(event: EventLike, trust: Trust) -> str | None:
    """The event is hashed as JCS and signed by a key the engine held then, and by its person when they proved it."""
    recomputed = event_hash(
        event.campaign_id, event.seq, event.at, event.actor, event.type, event.payload, event.prev_hash
    )
    if recomputed != event.hash and not stored_canonically(event.payload):
        return "its payload is not stored in its canonical form (JCS), so no auditor can recompute its hash"
    if recomputed != event.hash:
        return "its payload, actor, time or type does not match its hash"
    if not event.engine_signature:
        return "it carries no engine signature: it was not written by the engine"
    problem = trust.engine.key_problem(event.engine_key, event.at)
    if problem:
        return problem
    if not hash_signed(event.engine_key, event.hash, event.engine_signature):
        return f"its engine signature (key {engine_fingerprint(event.engine_key)}) does not verify"
    if event.person_signature:
        found = person_seal_problem(event.person_signature, event.actor, event.hash)
        if isinstance(found, str):
            return found
        person, public = found
        registry = trust.registry_at(event.at)
        approver = registry.get(person) if registry is not None else None
        held = next((k for k in approver.keys if k.public == public), None) if approver is not None else None
        if held is None or not held.in_force(as_utc(event.at)):
            return f"it is signed by {person} with key {fingerprint(public)}, not a key of theirs in force then"
    return None


def _first_problem(
    campaign: str,
    chain: Sequence[EventLike],
    trust: Trust,
    batches: Batches | None,
    document: Callable[[str], bytes | None] | None,
) -> Finding | None:
    prev, expected = GENESIS, 1
    context = _Context()
    registries = trust.registries
    legacy = _legacy_events(chain)
    for event in chain:
        if event.seq > expected:
            return Finding(campaign, expected, f"missing: the sequence jumps from {expected - 1} to {event.seq}")
        if event.seq < expected:
            return Finding(campaign, event.seq, "appears twice or out of order")
        if event.prev_hash != prev:
            return Finding(
                campaign, event.seq, "does not link to the event before it (an event was deleted, inserted or moved)"
            )
        if event.seq <= legacy:
            args = (campaign, event.seq, event.at, event.actor, event.type, event.payload, event.prev_hash)
            if legacy_event_hash(*args) != event.hash:
                return Finding(campaign, event.seq, "its payload, actor, time or type does not match its hash")
        else:
            problem = _seal_problem(event, trust)
            if problem:
                return Finding(campaign, event.seq, problem)
        problem = _content_problem(event, registries, batches, document, context)
        if problem:
            return Finding(campaign, event.seq, problem)
        prev, expected = event.hash, event.seq + 1
    return _unwithdrawn_marks(campaign, context, batches)


def _unwithdrawn_marks(campaign: str, context: "_Context", batches: Batches | None) -> Finding | None:
    """A batch no event withdrew whose rows are marked withdrawn: taken out of the count behind the log's back."""
    for seq in sorted(set(context.ingested) - context.withdrawn):
        marks = batches.get(str(seq), Batch()).marks if batches is not None else None
        hidden = sum(n for mark, n in (marks or {}).items() if mark != 0)
        if hidden:
            return Finding(campaign, seq, f"{hidden} rows of this batch are marked withdrawn, but no event withdrew it")
    return None


CHECKED = {
    "gate.decided",
    "window.extended",
    "contributions.ingested",
    "contributions.withdrawn",
    "stage.completed",
    "registry.recorded",
    "gate.opened",
    "campaign.started",
    "plan.recorded",
    "passkey.enrolled",
    "delegation.recorded",
    "log.reanchored",
    "stage.started",  # when an attempt first started: the earliest an extension during the window can be signed
}


@dataclass
class _Context:
    """What the chain has said so far that later decisions are checked against."""

    gates: dict[tuple[str, int], "_Gate"] = field(default_factory=dict)
    conduct_policy: GatePolicy | None = None
    passkeys: dict[tuple[str, str], Passkey] = field(default_factory=dict)  # (person, credential) so far
    ingested: dict[int, ContributionsIngested] = field(default_factory=dict)  # batch (its event's seq) -> event
    ingested_at: dict[int, datetime] = field(default_factory=dict)  # batch -> when it was ingested
    started: dict[tuple[str, int], datetime] = field(default_factory=dict)  # (stage, attempt) -> first start
    withdrawn: set[int] = field(default_factory=set)  # the batches withdrawn so far
    reanchored: bool = False


@dataclass
class _Gate:
    """A gate as the log opened it, and the principals who have approved it so far."""

    policy: GatePolicy
    due: datetime
    submitter: str
    outputs_digest: str
    opened: datetime  # the gate.opened event's time: no decision on the gate can be signed before it
    approved_by: set[str] = field(default_factory=set)


def _content_problem(
    event: EventLike,
    registries: dict[str, ApproversRegistry],
    batches: Batches | None,
    document: Callable[[str], bytes | None] | None,
    context: _Context,
) -> str | None:
    if event.type not in CHECKED:
        return None  # the hash already seals it, and nothing outside the log refers to it
    try:
        payload = payload_of(event)
    except (ValidationError, KeyError) as error:
        return f"its payload is not a valid {event.type}: {error.__class__.__name__}"
    if isinstance(payload, LogReanchored) and (payload.legacy_events, payload.legacy_head) != (
        event.seq - 1,
        event.prev_hash,
    ):
        return "it re-anchors the chain on events other than the ones before it"
    if isinstance(payload, LogReanchored) and context.reanchored:
        return "a second re-anchoring: the chain was re-anchored once already"
    if isinstance(payload, LogReanchored):
        context.reanchored = True
    if isinstance(payload, CampaignStarted | PlanRecorded):
        context.conduct_policy = CampaignPlan.model_validate(payload.plan).gates.for_stage("conduct")
    if isinstance(payload, GateOpened):
        policy = GatePolicy.model_validate(payload.policy)
        context.gates[(payload.stage, payload.attempt)] = _Gate(
            policy, payload.due_at, payload.submitter, payload.outputs_digest, as_utc(event.at)
        )
    if isinstance(payload, StageStarted):
        context.started.setdefault((payload.stage, payload.attempt), as_utc(event.at))
    # a version recorded before the log was re-anchored on JCS has its digest in the legacy form
    if isinstance(payload, RegistryRecorded) and payload.registry_digest not in {
        digest(payload.registry),
        text_digest(legacy_canonical(payload.registry)),
    }:
        return "the registry it records does not match its digest"
    if isinstance(payload, RegistryRecorded):  # read once already, by digest (`trust_of`)
        if payload.registry_digest not in registries:
            return "the registry it records is not a valid approvers registry"
        for person in registries[payload.registry_digest].approvers:
            context.passkeys |= {(person.id, p.credential_id): p for p in person.passkeys}
    if isinstance(payload, PasskeyEnrolled):
        enrolled = Passkey.model_validate(payload.passkey)
        context.passkeys[(payload.person, enrolled.credential_id)] = enrolled
    if isinstance(payload, DelegationRecorded):
        lent = Delegation.model_validate(payload.delegation)
        assertion = Assertion.model_validate(payload.assertion)
        held = context.passkeys.get((lent.delegator, assertion.credential_id))
        problem = delegation_problem(lent, assertion, held if held and held.in_force(as_utc(event.at)) else None)
        if problem:
            return f"the delegation by {lent.delegator} does not verify: {problem}"
        if event.actor != lent.delegator:
            return f"it records {event.actor} lending {lent.delegator}'s authority"
    if isinstance(payload, GateDecided | WindowExtended):
        return _signature_problem(event, payload, registries, context)
    if isinstance(payload, ContributionsWithdrawn):
        return _withdrawal_problem(event, payload, registries, batches, context)
    if isinstance(payload, ContributionsIngested):
        context.ingested[event.seq] = payload
        context.ingested_at[event.seq] = as_utc(event.at)
    if isinstance(payload, ContributionsIngested) and batches is not None:
        batch = batches.get(str(event.seq), Batch())
        if batch.changed:
            return f"contribution row {min(batch.changed)} of this batch was changed after it was stored"
        if len(batch.lines) != payload.rows_stored or rows_digest(batch.lines) != payload.rows_digest:
            return (
                f"this batch stored {payload.rows_stored} rows; {len(batch.lines)} are there now "
                "and they do not match the sealed digest (rows deleted, added or replaced)"
            )
        if len(batch.quarantine) != payload.rows_quarantined or (
            rows_digest(batch.quarantine) != payload.quarantine_digest
        ):
            return (
                f"this batch quarantined {payload.rows_quarantined} rows; {len(batch.quarantine)} are there now "
                "and they do not match the sealed digest (quarantined rows deleted, added or changed)"
            )
    if isinstance(payload, StageCompleted) and document is not None:
        for doc in payload.documents:
            data = document(doc.path)
            if data is None:
                return f"its {doc.lang} document {doc.path} is missing"
            if hashlib.sha256(data).hexdigest() != doc.digest:
                return f"its {doc.lang} document {doc.path} was changed after it was recorded"
    return None


def _withdrawal_problem(
    event: EventLike,
    payload: ContributionsWithdrawn,
    registries: dict[str, ApproversRegistry],
    batches: Batches | None,
    context: _Context,
) -> str | None:
    """The batch was ingested and not withdrawn before; the person with the duty to withdraw signed exactly this
    withdrawal with a key in force; its rows, kept, are the ones marked withdrawn by it."""
    ingested = context.ingested.get(payload.batch)
    if ingested is None:
        return f"it withdraws batch {payload.batch}, which no ingestion of this campaign recorded before it"
    if payload.batch in context.withdrawn:
        return f"it withdraws batch {payload.batch} again: an earlier event withdrew it"
    context.withdrawn.add(payload.batch)
    if (payload.rows_withdrawn, payload.quarantined_withdrawn) != (ingested.rows_stored, ingested.rows_quarantined):
        return (
            f"it withdraws {payload.rows_withdrawn} stored and {payload.quarantined_withdrawn} quarantined rows; "
            f"batch {payload.batch} stored {ingested.rows_stored} and quarantined {ingested.rows_quarantined}"
        )
    try:
        signed = SignedWithdrawal.model_validate(payload.signed)
    except ValidationError as error:
        return f"the signed withdrawal it records is not a valid one: {error.error_count()} problem(s)"
    claims = (signed.campaign, signed.batch, signed.rows_digest, signed.reason.strip(), signed.person)
    recorded = (event.campaign_id, payload.batch, ingested.rows_digest, payload.reason, payload.person)
    if claims != recorded or event.actor != signed.person:
        return "the recorded withdrawal differs from what was signed"
    registry = registries.get(payload.registry_digest)
    if registry is None:
        return f"it cites registry {payload.registry_digest[:12]}, which the log does not hold"
    problem = withdrawal_problem(signed, registry, as_utc(event.at), context.ingested_at.get(payload.batch))
    if problem:
        return problem[1]
    marks = batches.get(str(payload.batch), Batch()).marks if batches is not None else None
    still = sum(n for mark, n in (marks or {}).items() if mark != event.seq)
    if still:
        return f"{still} rows of batch {payload.batch} are not marked as withdrawn by it (they count again)"
    return None


def _signature_problem(
    event: EventLike,
    payload: GateDecided | WindowExtended,
    registries: dict[str, ApproversRegistry],
    context: _Context,
) -> str | None:
    """The recorded decision is exactly what was signed, by a key in force, with the authority it claims."""
    try:
        signed = SignedDecision.model_validate(payload.signed)
    except ValidationError as error:
        return f"the signed decision it records is not a valid one: {error.error_count()} problem(s)"
    recorded: tuple[str, str, date | None] = (
        ("extend", payload.reason, payload.closes)
        if isinstance(payload, WindowExtended)
        else (payload.decision, payload.text, signed.closes)
    )
    claims = (signed.campaign, signed.stage, signed.attempt, signed.approver, signed.decision, signed.text.strip())
    if (*claims, signed.closes) != (event.campaign_id, payload.stage, payload.attempt, payload.approver, *recorded):
        return "the recorded decision differs from what was signed"
    registry = registries.get(payload.registry_digest)
    if registry is None:
        return f"it cites registry {payload.registry_digest[:12]}, which the log does not hold"
    key = signing_credential(signed, registry)
    recorded_at = as_utc(event.at)
    if key is None or not key.in_force(signed.signed_at) or not key.in_force(recorded_at):
        return f"the signing key was not a key of {signed.approver} in force in the cited registry"
    problem = signature_problem(signed, key)
    if problem:
        return f"the signature of {signed.approver} does not verify: {problem}"
    gate = context.gates.get((payload.stage, payload.attempt))
    if gate is None and not (isinstance(payload, WindowExtended) and payload.stage == "conduct"):
        return "it decides a gate the log never opened"
    # the signing time between the log's own instants: the gate's opening (or, for an extension while the
    # window runs, the attempt's first start) and this event's recording
    opened = gate.opened if gate else context.started.get((payload.stage, payload.attempt))
    if opened is None:
        return f"it extends {payload.stage} attempt {payload.attempt}, which the log never started"
    opening = "its gate opened" if gate else f"{payload.stage} (attempt {payload.attempt}) started"
    impossible = time_problem(signed.signed_at, opened=opened, opening=opening, recorded=recorded_at)
    if impossible:
        return f"the signing time is impossible: {impossible}"
    if gate is not None and signed.outputs_digest != gate.outputs_digest:
        return f"it signs outputs {signed.outputs_digest[:12]}, but the gate opened on {gate.outputs_digest[:12]}"
    policy = gate.policy if gate else context.conduct_policy
    due = as_utc(gate.due) if gate else datetime.max.replace(tzinfo=UTC)
    if policy is None:
        return "it decides a gate the log never opened"
    try:
        power = authority(registry, signed.approver, policy, now=recorded_at, due=due)
    except NoAuthority as error:
        return f"the cited registry gave no authority for it: {error}"
    roles = list(power.roles) if isinstance(payload, GateDecided) else None
    recorded_roles = payload.roles if isinstance(payload, GateDecided) else None
    if (power.principal, power.capacity, roles) != (payload.principal, payload.capacity, recorded_roles):
        return (
            f"it records {payload.approver} deciding as {payload.capacity} for {payload.principal}; the cited "
            f"registry gives {power.capacity} for {power.principal}"
        )
    if gate is not None and gate.submitter in (signed.approver, power.principal):
        return f"{gate.submitter} submitted the stage and may not decide its gate"
    if isinstance(payload, GateDecided) and payload.decision == "approve" and gate is not None:
        if {power.principal, signed.approver} & gate.approved_by:
            return f"a second approval of the gate by {signed.approver} (for {power.principal})"
        gate.approved_by |= {power.principal, signed.approver}
    return None


class Checkpoint(SignedMessage):
    """The heads of every chain at an instant, signed with the engine's key, to be filed elsewhere; with the
    registry root pinned then, so the auditor walks the registry from it."""

    created_at: datetime
    heads: dict[str, tuple[int, str]]  # chain -> (sequence, hash) of its newest event
    registry_root: str = ""

    def message(self) -> bytes:
        # a checkpoint filed before roots were pinned carries none, and was signed without the field
        return canonical(self.model_dump(mode="json", exclude={"signature"}, exclude_defaults=True)).encode()


def signed_checkpoint(key: Ed25519PrivateKey, events: Iterable[EventLike], root: str, now: datetime) -> Checkpoint:
    """The heads of every chain of `events` and the pinned registry `root`, signed with the engine's `key`.

    Nothing is recorded: the checkpoint is worth what it proves only once it is filed outside the database."""
    public = public_text(key.public_key())
    checkpoint = Checkpoint(created_at=now, heads=heads(events), public_key=public, registry_root=root)
    return checkpoint.model_copy(update={"signature": sign_bytes(key, checkpoint.message())})


def heads(events: Iterable[EventLike]) -> dict[str, tuple[int, str]]:
    """Each chain's newest event: sequence and hash."""
    newest: dict[str, tuple[int, str]] = {}
    for event in events:
        if event.campaign_id not in newest or event.seq > newest[event.campaign_id][0]:
            newest[event.campaign_id] = (event.seq, event.hash)
    return newest


def seal_problem(public_key: str, engine: str, rotations: Sequence[EventLike] = ()) -> str | None:
    """Why a checkpoint or bundle sealed with `public_key` is not sealed by the engine the auditor was told of
    (`engine`: its fingerprint, or its public key), or by a key the engine rotated to from it (`rotations`: the
    `_engine` chain); the one place a seal is compared."""
    trusted = given_fingerprint(engine)
    if trusted == engine_fingerprint(public_key) or (rotations and engine_held(public_key, trusted, rotations)):
        return None
    return f"sealed by key {engine_fingerprint(public_key)}, not the engine key {engine}"


def checkpoint_problems(
    checkpoint: Checkpoint, stored: dict[tuple[str, int], str], engine: str, rotations: Sequence[EventLike] = ()
) -> list[str]:
    """What the log lost or rewrote since the checkpoint was taken; and a checkpoint not the engine's."""
    if not checkpoint.verifies():
        return ["the checkpoint's own signature does not verify: it was altered"]
    sealed = seal_problem(checkpoint.public_key, engine, rotations)
    if sealed:
        return [f"the checkpoint is {sealed}"]
    problems = []
    for chain, (seq, sealed_hash) in sorted(checkpoint.heads.items()):
        found = stored.get((chain, seq))
        if found is None:
            problems.append(f"{chain} event {seq}: in the checkpoint but gone from the log (truncated)")
        elif found != sealed_hash:
            problems.append(f"{chain} event {seq}: differs from the checkpoint (the chain was rewritten)")
    return problems


PUBLISHED = "checkpoints.jsonl"


def published_entry(previous: str | None, checkpoint: Checkpoint) -> str:
    """The line that appends `checkpoint` to a published checkpoint file whose last line is `previous`."""
    body = {"prev": _entry_hash(previous) if previous else GENESIS, "checkpoint": checkpoint.model_dump(mode="json")}
    return canonical({**body, "hash": hashlib.sha256(canonical(body).encode()).hexdigest()})


def _entry_hash(line: str) -> str:
    return str(json.loads(line).get("hash", ""))


def published_checkpoints(lines: Sequence[str], name: str) -> tuple[list[Checkpoint], list[str]]:
    """The checkpoints of a published file, oldest first, and every broken link, named by entry."""
    checkpoints: list[Checkpoint] = []
    problems: list[str] = []
    prev = GENESIS
    for number, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line)
            body = {"prev": entry["prev"], "checkpoint": entry["checkpoint"]}
            checkpoint = Checkpoint.model_validate(entry["checkpoint"])
        except (ValueError, KeyError, TypeError, ValidationError):
            problems.append(f"{name} entry {number}: expected a published checkpoint, found something else")
            prev = ""
            continue
        if entry["prev"] != prev:
            problems.append(
                f"{name} entry {number}: does not link to the entry before it (an entry was removed, inserted or "
                "changed)"
            )
        if hashlib.sha256(canonical(body).encode()).hexdigest() != entry.get("hash"):
            problems.append(f"{name} entry {number}: its content does not match its hash")
        checkpoints.append(checkpoint)
        prev = str(entry.get("hash", ""))
    if not checkpoints and not problems:
        problems.append(f"{name}: holds no checkpoint")
    return checkpoints, problems


def file_reader(root: Path) -> Callable[[str], bytes | None]:
    """Read documents by their recorded path, relative to `root` (the output folder, or a bundle's)."""

    def read(path: str) -> bytes | None:
        target = root / path
        return target.read_bytes() if target.is_file() else None

    return read
