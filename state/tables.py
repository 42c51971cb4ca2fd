"""The tables: the append-only event log, the contributions, and the projections of the log.

Projections (campaign, stage run, gate, gate decision, submission, decision update) hold nothing the events do not:
`state.projection.rebuild` drops and replays them.
"""

from datetime import datetime

from sqlalchemy import Column, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def _utc_column(nullable: bool = False) -> "Column[datetime]":
    return Column(DateTime(timezone=True), nullable=nullable)


def _withdrawn_column() -> "Column[int]":
    # the seq of the contributions.withdrawn event that withdrew the row's batch; 0 while the row counts
    return Column(Integer, nullable=False, server_default="0")


class Event(SQLModel, table=True):
    """One state change, hash-chained to the campaign's previous event."""

    __tablename__ = "event"
    __table_args__ = (UniqueConstraint("campaign_id", "seq", name="uq_event_campaign_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(index=True, max_length=80)
    seq: int
    at: datetime = Field(sa_column=_utc_column())
    actor: str = Field(max_length=80)
    type: str = Field(max_length=40)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    # the engine's seal: its public key and its Ed25519 signature over the hash ("" on events written before
    # the log was re-anchored, which only a `log.reanchored` event of the chain vouches for)
    engine_key: str = Field(default="", sa_column=Column(String(60), nullable=False, server_default=""))
    engine_signature: str = Field(default="", sa_column=Column(String(100), nullable=False, server_default=""))
    # a person who proved the command with their key signs the hash too: JSON {person, public_key, signature}
    person_signature: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class Contribution(SQLModel, table=True):
    """One participant's answers, from an ingested batch (the batch itself is an event).

    A withdrawn batch's rows stay, sealed by their ingestion's digest, marked with the withdrawal: they no
    longer count, and their keys are free for a corrected file.
    """

    __tablename__ = "contribution"
    # one row counts per (campaign, key); withdrawn rows are apart, under their withdrawal. The index also
    # serves every lookup by campaign: a second index on the campaign alone would only slow down ingesting a
    # million rows. The campaign's rows in time order (the analysis's frame, the KPIs) have their own.
    __table_args__ = (
        UniqueConstraint("campaign_id", "row_key", "withdrawn", name="uq_contribution_key"),
        Index("ix_contribution_campaign_time", "campaign_id", "submitted_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(max_length=80)
    batch: str = Field(max_length=64)  # the sequence number of its contributions.ingested event
    row_key: str = Field(max_length=64)
    submitted_at: datetime = Field(sa_column=_utc_column())
    channel: str = Field(max_length=40)
    audience: str = Field(max_length=80)
    answers: str = Field(sa_column=Column(Text, nullable=False))
    participant: str = Field(default="", max_length=64)  # keyed pseudonym of the person; "" when the source names none
    segments: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # canonical JSON {segment id: value}
    source: str = Field(default="csv", max_length=20)  # the tool the row came from (google-forms, kobo, pabulib, ...)
    digest: str = Field(default="", max_length=64)  # SHA-256 of the row's content (`state.events.row_content`)
    withdrawn: int = Field(default=0, sa_column=_withdrawn_column())


class QuarantinedRow(SQLModel, table=True):
    """A row of an ingested file that could not be taken, kept with its reasons (never dropped silently).

    `cells` holds the row as read, with every column that identifies a person already pseudonymised. A
    response kept aside once may be kept aside again by a later file, for other reasons: one row per batch.
    """

    __tablename__ = "quarantined_row"
    __table_args__ = (
        UniqueConstraint("campaign_id", "batch", "row_key", name="uq_quarantined_key"),
        Index("ix_quarantined_row_campaign_key", "campaign_id", "row_key"),  # an ingestion's look-ups by key
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(index=True, max_length=80)
    batch: str = Field(max_length=64)  # the sequence number of its contributions.ingested event
    row_key: str = Field(max_length=64)
    row: int  # the row's line in the file (or sheet row), as the person who exported it sees it
    reasons: str = Field(sa_column=Column(Text, nullable=False))  # "field: expected …, found …", one per line
    cells: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON {header: value}
    withdrawn: int = Field(default=0, sa_column=_withdrawn_column())


class CampaignState(SQLModel, table=True):
    """Where a campaign stands: its stage, the attempt, and what it waits for."""

    __tablename__ = "campaign_state"

    campaign_id: str = Field(primary_key=True, max_length=80)
    title_en: str
    title_ar: str
    quarter: str = Field(max_length=7)
    timezone: str = Field(max_length=64)
    window_opens: str = Field(max_length=10)
    window_closes: str = Field(max_length=10)
    window_extended: str = Field(default="", max_length=10)  # a later closing date decided at conduct
    stage: str = Field(max_length=20)
    attempt: int = 1
    status: str = Field(max_length=20)  # pending, waiting, failed, awaiting-gate, closed
    detail: str = ""
    owner: str = Field(max_length=80)
    plan_digest: str = Field(max_length=64)
    started_at: datetime = Field(sa_column=_utc_column())
    updated_at: datetime = Field(sa_column=_utc_column())
    last_seq: int = 0
    last_hash: str = Field(max_length=64)


class StageRun(SQLModel, table=True):
    """One attempt at one stage of one campaign."""

    __tablename__ = "stage_run"
    __table_args__ = (UniqueConstraint("campaign_id", "stage", "attempt", name="uq_stage_run"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(index=True, max_length=80)
    stage: str = Field(max_length=20)
    attempt: int
    status: str = Field(max_length=20)  # started, waiting, failed, completed
    submitter: str = Field(max_length=80)
    started_at: datetime = Field(sa_column=_utc_column())
    finished_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    detail: str = ""
    outputs: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    outputs_digest: str | None = Field(default=None, max_length=64)
    documents: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Gate(SQLModel, table=True):
    """The sign-off after a stage run: open until its policy is met or it is rejected."""

    __tablename__ = "gate"
    __table_args__ = (UniqueConstraint("campaign_id", "stage", "attempt", name="uq_gate"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(index=True, max_length=80)
    stage: str = Field(max_length=20)
    attempt: int
    status: str = Field(max_length=20)  # open, approved, rejected, extended
    policy: str = Field(sa_column=Column(Text, nullable=False))  # the GatePolicy, as JSON
    submitter: str = Field(max_length=80)
    outputs_digest: str = Field(max_length=64)
    opened_at: datetime = Field(sa_column=_utc_column())
    due_at: datetime = Field(sa_column=_utc_column())
    decided_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class GateDecision(SQLModel, table=True):
    """One approver's approval or rejection of a gate."""

    __tablename__ = "gate_decision"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(index=True, max_length=80)
    stage: str = Field(max_length=20)
    attempt: int
    approver: str = Field(max_length=80)
    decision: str = Field(max_length=10)  # approve, reject
    text: str = ""
    principal: str = Field(max_length=80)
    capacity: str = Field(max_length=12)
    roles: str = ""  # comma-separated
    at: datetime = Field(sa_column=_utc_column())
    seq: int


class Submission(SQLModel, table=True):
    """A file a person submitted for a stage (readiness answers, a decision, lessons)."""

    __tablename__ = "submission"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(index=True, max_length=80)
    stage: str = Field(max_length=20)
    actor: str = Field(max_length=80)
    file_name: str
    digest: str = Field(max_length=64)
    content: str = Field(sa_column=Column(Text, nullable=False))
    at: datetime = Field(sa_column=_utc_column())
    seq: int


class DecisionUpdate(SQLModel, table=True):
    """One implementation update of a campaign's approved decision (the follow-up after the campaign)."""

    __tablename__ = "decision_update"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(index=True, max_length=80)
    seq: int
    at: datetime = Field(sa_column=_utc_column())
    actor: str = Field(max_length=80)
    status: str = Field(max_length=20)  # planned, in-progress, implemented, dropped
    percent: int = 0
    note: str = ""
    evidence: str = ""


PROJECTIONS: tuple[type[SQLModel], ...] = (CampaignState, StageRun, Gate, GateDecision, Submission, DecisionUpdate)
