"""Projections of the event log: campaign status, stage runs, gates, decisions, submissions, the
follow-up of approved decisions, and which contribution batches are withdrawn (a mark on their rows).

`apply` is the only code that writes projections, both when an event is appended and when the log
is replayed, so a rebuild yields exactly what was there.
"""

from collections.abc import Iterable
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, update
from sqlmodel import Session, SQLModel, col, select

from musharaka.stages.gates import Approval, passes
from musharaka.stages.plans import STAGES, CampaignPlan, GatePolicy
from musharaka.state.events import (
    REGISTRY_CHAIN,
    CampaignStarted,
    ContributionsIngested,
    ContributionsWithdrawn,
    DecisionUpdated,
    DelegationRecorded,
    EngineKeyRotated,
    EventRow,
    GateDecided,
    GateOpened,
    LogReanchored,
    PasskeyEnrolled,
    Payload,
    PersonInvited,
    PlanRecorded,
    RegistryRecorded,
    SignInRecorded,
    StageCompleted,
    StageFailed,
    StageStarted,
    StageWaiting,
    SubmissionRecorded,
    WindowExtended,
    as_utc,
    canonical,
    payload_of,
    stream_events,
)
from musharaka.state.spans import Forked, Span, span_events, spans_of
from musharaka.state.tables import (
    PROJECTIONS,
    CampaignState,
    Contribution,
    DecisionUpdate,
    Event,
    Gate,
    GateDecision,
    QuarantinedRow,
    StageRun,
    Submission,
)


class Store(Protocol):
    """Where projections are read and written: the database, or memory while replaying."""

    def campaign(self, campaign_id: str) -> CampaignState | None: ...
    def run(self, campaign_id: str, stage: str, attempt: int) -> StageRun | None: ...
    def gate(self, campaign_id: str) -> Gate | None: ...
    def approvals(self, gate: Gate) -> list[GateDecision]: ...
    def add(self, row: SQLModel) -> None: ...
    def changed(self, row: SQLModel) -> None: ...
    def withdraw(self, campaign_id: str, batch: int, seq: int) -> None: ...


class SessionStore:
    """Projections in the database, read and written through the caller's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def campaign(self, campaign_id: str) -> CampaignState | None:
        return self.session.get(CampaignState, campaign_id)

    def run(self, campaign_id: str, stage: str, attempt: int) -> StageRun | None:
        query = select(StageRun).where(
            StageRun.campaign_id == campaign_id, StageRun.stage == stage, StageRun.attempt == attempt
        )
        return self.session.exec(query).first()

    def gate(self, campaign_id: str) -> Gate | None:
        return open_gate(campaign_id, session=self.session)

    def approvals(self, gate: Gate) -> list[GateDecision]:
        return approvals(gate, session=self.session)

    def add(self, row: SQLModel) -> None:
        self.session.add(row)
        self.session.flush()

    def changed(self, row: SQLModel) -> None:
        self.session.add(row)

    def withdraw(self, campaign_id: str, batch: int, seq: int) -> None:
        mark_withdrawn(campaign_id, batch, seq, session=self.session)


class MemoryStore:
    """Projections built in memory, for replaying many events at once; `rows()` hands them over."""

    def __init__(self) -> None:
        self.events = 0
        self.campaigns: dict[str, CampaignState] = {}
        self.runs: dict[tuple[str, str, int], StageRun] = {}
        self.open_gates: dict[str, Gate] = {}
        self.decisions: dict[tuple[str, str, int], list[GateDecision]] = {}
        self.added: list[SQLModel] = []
        self.withdrawals: dict[tuple[str, int], int] = {}  # (campaign, batch) -> the withdrawal's sequence

    def campaign(self, campaign_id: str) -> CampaignState | None:
        return self.campaigns.get(campaign_id)

    def run(self, campaign_id: str, stage: str, attempt: int) -> StageRun | None:
        return self.runs.get((campaign_id, stage, attempt))

    def gate(self, campaign_id: str) -> Gate | None:
        gate = self.open_gates.get(campaign_id)
        return gate if gate is not None and gate.status == "open" else None

    def approvals(self, gate: Gate) -> list[GateDecision]:
        seen: dict[str, GateDecision] = {}
        for decision in self.decisions.get((gate.campaign_id, gate.stage, gate.attempt), []):
            if decision.decision == "approve":
                seen.setdefault(decision.principal, decision)
        return list(seen.values())

    def add(self, row: SQLModel) -> None:
        self.added.append(row)
        if isinstance(row, CampaignState):
            self.campaigns[row.campaign_id] = row
        elif isinstance(row, StageRun):
            self.runs[(row.campaign_id, row.stage, row.attempt)] = row
        elif isinstance(row, Gate):
            self.open_gates[row.campaign_id] = row
        elif isinstance(row, GateDecision):
            self.decisions.setdefault((row.campaign_id, row.stage, row.attempt), []).append(row)

    def changed(self, row: SQLModel) -> None:
        pass  # the object in memory is the projection

    def withdraw(self, campaign_id: str, batch: int, seq: int) -> None:
        self.withdrawals[(campaign_id, batch)] = seq


def apply(event: Event, payload: Payload, *, session: Session) -> None:
    """Fold one event into the projections in the database."""
    project(event, payload, SessionStore(session))
    session.flush()


def project(event: Event | EventRow, payload: Payload, store: Store) -> None:
    """Fold one event into the projections of `store`."""
    at = as_utc(event.at)
    if isinstance(payload, CampaignStarted):
        plan = CampaignPlan.model_validate(payload.plan)
        store.add(
            CampaignState(
                campaign_id=event.campaign_id,
                title_en=plan.title.en,
                title_ar=plan.title.ar,
                quarter=plan.quarter,
                timezone=plan.window.timezone,
                window_opens=plan.window.opens.isoformat(),
                window_closes=plan.window.closes.isoformat(),
                stage=STAGES[0],
                attempt=1,
                status="pending",
                owner=plan.owner,
                plan_digest=payload.plan_digest,
                started_at=at,
                updated_at=at,
                last_seq=event.seq,
                last_hash=event.hash,
            )
        )
        return
    if isinstance(
        payload,
        RegistryRecorded | PersonInvited | PasskeyEnrolled | DelegationRecorded | SignInRecorded | EngineKeyRotated,
    ):
        return  # the registry's, the service's and the engine's own chains: read from the log, no campaign
    campaign = store.campaign(event.campaign_id)
    if isinstance(payload, LogReanchored) and campaign is None:
        return  # a chain of its own (the registry's, the service's) re-anchored: nothing to project
    if campaign is None:
        raise LookupError(f"event {event.seq} of {event.campaign_id} precedes its campaign.started")
    campaign.updated_at, campaign.last_seq, campaign.last_hash = at, event.seq, event.hash
    if isinstance(payload, PlanRecorded):
        plan = CampaignPlan.model_validate(payload.plan)
        campaign.plan_digest = payload.plan_digest
        campaign.title_en, campaign.title_ar = plan.title.en, plan.title.ar
        campaign.window_opens = plan.window.opens.isoformat()
        campaign.window_closes = plan.window.closes.isoformat()
    elif isinstance(payload, SubmissionRecorded):
        store.add(
            Submission(
                campaign_id=event.campaign_id,
                stage=payload.stage,
                actor=event.actor,
                file_name=payload.file_name,
                digest=payload.digest,
                content=canonical(payload.content),
                at=at,
                seq=event.seq,
            )
        )
    elif isinstance(payload, ContributionsIngested):
        pass  # the rows live in the contribution table; the event seals the batch
    elif isinstance(payload, ContributionsWithdrawn):
        store.withdraw(event.campaign_id, payload.batch, event.seq)
    elif isinstance(payload, StageStarted):
        run = store.run(event.campaign_id, payload.stage, payload.attempt)
        if run is None:
            store.add(
                StageRun(
                    campaign_id=event.campaign_id,
                    stage=payload.stage,
                    attempt=payload.attempt,
                    status="started",
                    submitter=payload.submitter,
                    started_at=at,
                )
            )
        else:
            run.status, run.submitter, run.detail, run.started_at = "started", payload.submitter, "", at
            store.changed(run)
        campaign.status, campaign.detail = "running", ""
    elif isinstance(payload, StageWaiting | StageFailed):
        run = _require_run(event, payload.stage, payload.attempt, store)
        if isinstance(payload, StageWaiting):
            run.status, campaign.status = "waiting", "waiting"
            until = payload.until.astimezone(ZoneInfo(campaign.timezone))
            run.detail = f"{payload.reason} (until {until:%Y-%m-%d %H:%M %Z})"
        else:
            run.status, campaign.status = "failed", "failed"
            run.detail = "missing: " + "; ".join(payload.missing)
        campaign.detail = run.detail
        store.changed(run)
    elif isinstance(payload, StageCompleted):
        run = _require_run(event, payload.stage, payload.attempt, store)
        run.status, run.finished_at, run.detail = "completed", at, ""
        run.outputs = canonical(payload.outputs)
        run.outputs_digest = payload.outputs_digest
        run.documents = canonical([d.model_dump() for d in payload.documents])
        store.changed(run)
    elif isinstance(payload, GateOpened):
        store.add(
            Gate(
                campaign_id=event.campaign_id,
                stage=payload.stage,
                attempt=payload.attempt,
                status="open",
                policy=canonical(payload.policy),
                submitter=payload.submitter,
                outputs_digest=payload.outputs_digest,
                opened_at=at,
                due_at=as_utc(payload.due_at),
            )
        )
        campaign.status, campaign.detail = "awaiting-gate", ""
    elif isinstance(payload, GateDecided):
        _decide(event, payload, campaign, store)
    elif isinstance(payload, DecisionUpdated):
        store.add(
            DecisionUpdate(
                campaign_id=event.campaign_id,
                seq=event.seq,
                at=at,
                actor=event.actor,
                status=payload.status,
                percent=payload.percent,
                note=payload.note,
                evidence=payload.evidence or "",
            )
        )
    elif isinstance(payload, WindowExtended):
        campaign.window_extended = payload.closes.isoformat()
        gate = store.gate(event.campaign_id)
        if gate is not None:
            # guide 8.1.3: extending reopens collection; conduct runs again once the new window closes
            gate.status, gate.decided_at = "extended", at
            store.changed(gate)
            campaign.attempt += 1
            campaign.status = "pending"
        campaign.detail = f"window extended to {payload.closes}: {payload.reason}"
    store.changed(campaign)


def _decide(event: Event | EventRow, payload: GateDecided, campaign: CampaignState, store: Store) -> None:
    at = as_utc(event.at)
    store.add(
        GateDecision(
            campaign_id=event.campaign_id,
            stage=payload.stage,
            attempt=payload.attempt,
            approver=payload.approver,
            decision=payload.decision,
            text=payload.text,
            principal=payload.principal,
            capacity=payload.capacity,
            roles=",".join(payload.roles),
            at=at,
            seq=event.seq,
        )
    )
    gate = store.gate(event.campaign_id)
    if gate is None or (gate.stage, gate.attempt) != (payload.stage, payload.attempt):
        raise LookupError(f"event {event.seq}: no open gate for {payload.stage} {payload.attempt}")
    if payload.decision == "reject":
        # guide: a rejected gate sends its stage back for rework, as a new attempt
        gate.status, gate.decided_at = "rejected", at
        campaign.attempt += 1
        campaign.status, campaign.detail = "pending", f"rework: {payload.text}"
    elif passes(gate_policy(gate), [_approval(d) for d in store.approvals(gate)]):
        gate.status, gate.decided_at = "approved", at
        index = STAGES.index(payload.stage)
        if index + 1 == len(STAGES):
            campaign.status, campaign.detail = "closed", ""
        else:
            campaign.stage, campaign.attempt = STAGES[index + 1], 1
            campaign.status, campaign.detail = "pending", ""
    store.changed(gate)


def _require_run(event: Event | EventRow, stage: str, attempt: int, store: Store) -> StageRun:
    run = store.run(event.campaign_id, stage, attempt)
    if run is None:
        raise LookupError(f"event {event.seq}: {stage} attempt {attempt} was never started")
    return run


def open_gate(campaign_id: str, *, session: Session) -> Gate | None:
    """The campaign's open gate, if it has one."""
    query = select(Gate).where(Gate.campaign_id == campaign_id, Gate.status == "open")
    return session.exec(query).first()


def gate_policy(gate: Gate) -> GatePolicy:
    """The policy the gate opened under."""
    return GatePolicy.model_validate_json(gate.policy)


def _approval(decision: GateDecision) -> Approval:
    roles = tuple(r for r in decision.roles.split(",") if r)
    return Approval(principal=decision.principal, roles=roles, capacity=decision.capacity)


def approvals(gate: Gate, *, session: Session) -> list[GateDecision]:
    """The approvals a gate has received, one per principal (a delegate stands in for its delegator)."""
    query = select(GateDecision).where(
        GateDecision.campaign_id == gate.campaign_id,
        GateDecision.stage == gate.stage,
        GateDecision.attempt == gate.attempt,
        GateDecision.decision == "approve",
    )
    seen: dict[str, GateDecision] = {}
    for decision in session.exec(query.order_by(col(GateDecision.seq))):
        seen.setdefault(decision.principal, decision)
    return list(seen.values())


def mark_withdrawn(campaign_id: str, batch: int, seq: int, *, session: Session) -> None:
    """Mark a batch's stored and quarantined rows with the withdrawal that took them out of the count."""
    for table in (Contribution, QuarantinedRow):
        session.execute(
            update(table)
            .where(col(table.campaign_id) == campaign_id, col(table.batch) == str(batch))
            .values(withdrawn=seq)
        )


def replay(events: Iterable[Event | EventRow]) -> MemoryStore:
    """The projections of `events`, built in memory."""
    store = MemoryStore()
    for event in events:
        project(event, payload_of(event), store)
        store.events += 1
    return store


Replayed = tuple[dict[type[SQLModel], list[dict[str, object]]], dict[tuple[str, int], int], int]


def rebuild(*, session: Session, processes: int = 1) -> int:
    """Drop every projection and replay the whole log into them; returns the events replayed.

    `processes` above 1 splits a long log's campaigns among that many processes (`state.spans`: each campaign's
    projections depend on its own chain alone), each replaying its span in memory; the rows are inserted here,
    in the order one process would have inserted them."""
    for table in PROJECTIONS:
        session.execute(delete(table))
    spans = spans_of(session, processes)
    if len(spans) == 1:
        parts = [_rows_of(replay(stream_events(session)))]
    else:
        forked = [Forked(session, _replayed, span) for span in spans[1:]]
        registry = replay(stream_events(session, only=REGISTRY_CHAIN))  # projects nothing, but is replayed
        parts = [_rows_of(registry), _replayed(session, spans[0]), *(f.result() for f in forked)]
    by_table: dict[type[SQLModel], list[dict[str, object]]] = {}
    withdrawals: dict[tuple[str, int], int] = {}
    for rows, withdrawn, _ in parts:
        for table, dumped in rows.items():
            by_table.setdefault(table, []).extend(dumped)
        withdrawals |= withdrawn
    for table, dumped in by_table.items():  # one bulk insert a table: the rows are new, nothing to track
        for start in range(0, len(dumped), 5000):
            session.execute(insert(table), dumped[start : start + 5000])
    _remark_withdrawn(withdrawals, session=session)
    return sum(events for _, _, events in parts)


def _replayed(session: Session, span: Span) -> Replayed:
    return _rows_of(replay(span_events(session, None, span)))


def _rows_of(store: MemoryStore) -> Replayed:
    """The store's rows by table, as the columns to insert (the database numbers them), and its withdrawals."""
    by_table: dict[type[SQLModel], list[dict[str, object]]] = {}
    for row in store.added:
        by_table.setdefault(type(row), []).append(row.model_dump(exclude={"id"}))
    return by_table, store.withdrawals, store.events


def _remark_withdrawn(withdrawals: dict[tuple[str, int], int], *, session: Session) -> None:
    """The rows' withdrawal marks as the log has them: the withdrawn batches marked first, then every other
    mark cleared (in that order, a row that counts never meets another of its key that counts too)."""
    for (campaign_id, batch), seq in withdrawals.items():
        mark_withdrawn(campaign_id, batch, seq, session=session)
    for table in (Contribution, QuarantinedRow):
        marked = session.execute(
            select(table.campaign_id, table.batch).where(col(table.withdrawn) != 0).distinct()
        ).all()
        for campaign_id, batch in marked:
            if (campaign_id, int(batch)) not in withdrawals:
                mark_withdrawn(campaign_id, int(batch), 0, session=session)
