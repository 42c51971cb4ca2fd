"""Ingesting a file of contributions into a campaign: one transaction, one event, nothing lost.

Rows already stored (same key) count as duplicates; rows that cannot be taken are quarantined with their
reasons; the ingestion's event seals both with digests (`audit verify` checks them). The rows of a withdrawn
batch no longer count: neither as contributions nor as duplicates, nor as rows kept aside.
"""

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from itertools import repeat
from pathlib import Path

import numpy as np
import pandas as pd
from sqlmodel import Session, col, select

from musharaka.flows.engine.records import Refused, campaign_state, plan_of
from musharaka.flows.ingest.columns import ContributionsError, default_channel, layout
from musharaka.flows.ingest.contributions import Context, chunks_of, prepare
from musharaka.flows.ingest.sources import CHUNK_ROWS, TOOLS, open_export
from musharaka.flows.planfiles.loading import PlanSet
from musharaka.stages.plans import STAGES, Window
from musharaka.state.db import bulk_insert, utc_column
from musharaka.state.events import (
    ConcurrentWrite,
    ContributionsIngested,
    SortedLines,
    head,
    held_digest,
    quarantine_line,
)
from musharaka.state.log import append
from musharaka.state.settings import get_settings
from musharaka.state.signing import pseudonym_secret
from musharaka.state.tables import CampaignState, Contribution, QuarantinedRow

# the contribution columns an ingestion writes, in the order of the values below (`withdrawn` takes the
# table's default, 0: the rows count)
STORED = [
    "campaign_id",
    "batch",
    "row_key",
    "submitted_at",
    "channel",
    "audience",
    "answers",
    "participant",
    "segments",
    "source",
    "digest",
]
# keys looked up in one query: under every database's limit of parameters
PARAMETERS = 500


@dataclass(frozen=True)
class Ingested:
    """What one ingestion came to: every row read is stored, quarantined or a duplicate."""

    file_name: str
    source: str
    rows_read: int
    rows_stored: int
    rows_quarantined: int
    duplicates: int
    columns_ignored: list[str]
    seq: int
    rows_resubmitted: int = 0  # of the rows stored, those an earlier file had quarantined
    # columns mapped to nothing whose cells look like people's data: (header, how many, what they look like)
    personal_data: tuple[tuple[str, int, str], ...] = ()

    def __str__(self) -> str:
        ignored = f"; columns not used: {', '.join(self.columns_ignored)}" if self.columns_ignored else ""
        if self.personal_data:
            kinds: dict[str, list[str]] = {}
            for header, n, kind in self.personal_data:
                kinds.setdefault(header, []).append(f"{n} {kind}")
            found = "; ".join(f"{header!r} holds cells that look like {', '.join(k)}" for header, k in kinds.items())
            ignored += f"; people's data in columns not used (not stored): {found}"
        again = (
            f"; {self.rows_resubmitted} of the rows stored had been quarantined by an earlier file"
            if self.rows_resubmitted
            else ""
        )
        return (
            f"{self.rows_read} rows read = {self.rows_stored} stored + {self.rows_quarantined} quarantined + "
            f"{self.duplicates} duplicates ({self.file_name}, {TOOLS[self.source].label}){again}{ignored}"
        )


def ingest(
    campaign_id: str,
    path: Path,
    *,
    plans: PlanSet,
    actor: str,
    now: datetime,
    session: Session,
    source: str | None = None,
    channel: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Ingested:
    """Read an exported file into the campaign's contributions, chunk by chunk, in one transaction.

    A row whose key is already stored (and counts) is a duplicate, whether it is good or bad now; so is a bad
    row kept aside before exactly as it is now. A bad row is quarantined with its reasons; one kept aside
    before for other reasons (a correction that fixed one thing and not another) is quarantined again, under
    this file. The ingestion is one event whose digests seal what it stored and quarantined.
    """
    campaign = campaign_state(campaign_id, session=session)
    plan = plan_of(plans, campaign_id)
    _check_collecting(campaign)
    recorded = Window(  # the window on record (with any signed extension), not whatever the plan file says now
        opens=date.fromisoformat(campaign.window_opens),
        closes=date.fromisoformat(campaign.window_extended or campaign.window_closes),
        timezone=plan.ingest.timezone or campaign.timezone,
    )
    export = open_export(path, source)
    found = layout(export, plan)
    settings = get_settings()
    context = Context(
        plan,
        recorded,
        default_channel(plan, channel, export, found),
        pseudonym_secret(settings.pseudonym_key_file, settings.pseudonym_key),
    )
    last = head(campaign_id, session=session)
    seq = last.seq + 1 if last else 1
    # the keys stored so far, as 8-byte hashes: a key whose hash is not there is new without asking the database
    stored = SeenKeys()
    counting = select(Contribution.row_key).where(
        Contribution.campaign_id == campaign_id, col(Contribution.withdrawn) == 0
    )
    for block in session.exec(counting.execution_options(yield_per=CHUNK_ROWS)).partitions():
        stored.add(list(block))
    aside = (QuarantinedRow.campaign_id == campaign_id, col(QuarantinedRow.withdrawn) == 0)
    kept_aside = set(session.exec(select(QuarantinedRow.row_key).where(*aside)))
    held_here: set[str] = set()  # keys this file quarantines: one row per key and batch
    read = duplicates = resubmitted = 0
    lookalikes: Counter[tuple[int, str]] = Counter()
    connection = session.connection()
    # the seals are digests of sorted lines, kept on disk past 100,000: memory stays flat however long the file
    with SortedLines() as lines, SortedLines() as quarantine_lines:
        for first, chunk in chunks_of(export):
            prepared = prepare(chunk, first, found, context)
            lookalikes.update(prepared.lookalikes)
            rows = prepared.rows
            # a key stored before (and counting), by an earlier file or an earlier chunk of this one, or seen
            # earlier in this chunk, is a duplicate: the database confirms the keys whose hash was seen
            keys = rows["key"].tolist()
            maybe = stored.maybe([*keys, *(r["key"] for r in prepared.quarantined)])
            seen = _counting_keys(campaign_id, maybe, session=session)
            fresh = []
            for key in keys:
                fresh.append(key not in seen)
                seen.add(key)
            new = rows[fresh]
            read += len(chunk)
            duplicates += len(rows) - len(new)
            if len(new):
                resubmitted += sum(1 for key in new["key"].tolist() if key in kept_aside)
                moments = utc_column(new["submitted_at"].to_numpy(dtype="datetime64[us]"), connection.dialect.name)
                bulk_insert(
                    connection,
                    Contribution.__table__,  # type: ignore[attr-defined]
                    STORED,
                    zip(
                        repeat(campaign_id),
                        repeat(str(seq)),
                        new["key"].tolist(),
                        moments,
                        new["channel"].tolist(),
                        new["audience"].tolist(),
                        new["answers"].tolist(),
                        new["participant"].tolist(),
                        new["segments"].tolist(),
                        repeat(export.tool.name),
                        new["digest"].tolist(),
                    ),
                )
                lines.extend((new["key"] + " " + new["digest"]).tolist())
                stored.add(new["key"].tolist())
            held = []
            before = _kept_aside_as(
                campaign_id, {r["key"] for r in prepared.quarantined if r["key"] in kept_aside}, session=session
            )
            for record in prepared.quarantined:
                key = record["key"]
                same_as_before = held_digest(record["reasons"], record["cells"]) in before.get(key, set())
                if key in seen or key in held_here or same_as_before:
                    duplicates += 1
                    continue
                held_here.add(key)
                held.append(record)
            quarantine_lines.extend(quarantine_line(r["key"], r["row"], r["reasons"], r["cells"]) for r in held)
            if held:
                bulk_insert(
                    connection,
                    QuarantinedRow.__table__,  # type: ignore[attr-defined]
                    ["campaign_id", "batch", "row_key", "row", "reasons", "cells"],
                    [(campaign_id, str(seq), r["key"], r["row"], r["reasons"], r["cells"]) for r in held],
                )
            if progress is not None:
                progress(len(chunk))
        if read == 0:
            raise ContributionsError([f"{path}: expected at least one response row, found none"])
        result = Ingested(
            path.name,
            export.tool.name,
            read,
            lines.count,
            quarantine_lines.count,
            duplicates,
            found.ignored,
            seq,
            resubmitted,
            tuple((found.header[c] or f"column {c + 1}", n, kind) for (c, kind), n in sorted(lookalikes.items())),
        )
        event = append(
            campaign_id,
            ContributionsIngested(
                file_name=path.name,
                rows_read=read,
                rows_stored=result.rows_stored,
                duplicates=duplicates,
                digest=file_digest(path),
                rows_digest=lines.hexdigest(),
                source=export.tool.name,
                rows_quarantined=result.rows_quarantined,
                quarantine_digest=quarantine_lines.hexdigest(),
                columns_ignored=found.ignored,
                rows_resubmitted=resubmitted,
            ),
            actor=actor,
            at=now,
            session=session,
        )
    if event.seq != seq:  # another writer got in between; the unique (campaign, seq) would have stopped it
        raise ConcurrentWrite(f"campaign {campaign_id}: another process wrote to it during the ingestion; run again")
    return result


class SeenKeys:
    """Keys that may have been stored, in 8 bytes a key: their 64-bit hashes, in sorted runs merged as they grow.

    A key whose hash is not here was not stored; one whose hash is may have been (two keys can share a hash)
    and is looked up in the database. So a file of millions of rows is checked for duplicates without
    holding its keys, and without asking the database about every one of them.
    """

    def __init__(self) -> None:
        self._runs: list[np.ndarray] = []

    def add(self, keys: list[str]) -> None:
        if not keys:
            return
        self._runs.append(np.sort(_hashes(keys)))
        while len(self._runs) > 1 and len(self._runs[-2]) <= len(self._runs[-1]):  # a few runs, of doubling size
            last = self._runs.pop()
            self._runs[-1] = np.sort(np.concatenate([self._runs[-1], last]))

    def maybe(self, keys: list[str]) -> list[str]:
        """Those of `keys` whose hash is here."""
        if not keys or not self._runs:
            return []
        hashes = _hashes(keys)
        found = np.zeros(len(keys), dtype=bool)
        for run in self._runs:
            found |= run[np.searchsorted(run, hashes).clip(max=len(run) - 1)] == hashes
        return [key for key, hit in zip(keys, found.tolist(), strict=True) if hit]


def _hashes(keys: list[str]) -> np.ndarray:
    return pd.util.hash_array(np.asarray(keys, dtype=object), categorize=False)


def _counting_keys(campaign_id: str, keys: Iterable[str], *, session: Session) -> set[str]:
    """Of `keys`, those stored for the campaign and counting (the unique (campaign, key) index finds each)."""
    wanted = sorted(set(keys))
    found: set[str] = set()
    for start in range(0, len(wanted), PARAMETERS):
        query = select(Contribution.row_key).where(
            Contribution.campaign_id == campaign_id,
            col(Contribution.row_key).in_(wanted[start : start + PARAMETERS]),
            col(Contribution.withdrawn) == 0,
        )
        found.update(session.exec(query))
    return found


def _kept_aside_as(campaign_id: str, keys: Iterable[str], *, session: Session) -> dict[str, set[str]]:
    """For each key, what the rows kept aside under it (and counting) were and why (`held_digest`)."""
    wanted = sorted(keys)
    found: dict[str, set[str]] = {}
    for start in range(0, len(wanted), PARAMETERS):
        query = select(QuarantinedRow.row_key, QuarantinedRow.reasons, QuarantinedRow.cells).where(
            QuarantinedRow.campaign_id == campaign_id,
            col(QuarantinedRow.withdrawn) == 0,
            col(QuarantinedRow.row_key).in_(wanted[start : start + PARAMETERS]),
        )
        for key, reasons, cells in session.exec(query):
            found.setdefault(key, set()).add(held_digest(reasons, cells))
    return found


def _check_collecting(campaign: CampaignState) -> None:
    """Contributions are taken until conduct completes; while its gate reviews them, only after an extension."""
    if campaign.status == "closed":
        raise Refused(f"campaign {campaign.campaign_id} is closed")
    if STAGES.index(campaign.stage) > STAGES.index("conduct"):
        raise Refused(f"campaign {campaign.campaign_id} is past conduct; it is at {campaign.stage}")
    if campaign.stage == "conduct" and campaign.status == "awaiting-gate":
        raise Refused(
            f"the conduct gate of {campaign.campaign_id} is open: its outputs were computed from the contributions "
            "so far and are under review; to collect more, extend the window (musharaka extend)"
        )


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()
