"""Commands for what participants contributed: ingest a tool's export, list what was stored or quarantined,
withdraw a batch ingested by mistake."""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from musharaka.flows.cli.campaigns import actor_of, identity_options
from musharaka.flows.cli.common import emit, passphrase
from musharaka.flows.engine import records
from musharaka.flows.ingest import withdrawal
from musharaka.flows.ingest.tools import TOOLS
from musharaka.stages.approvers import WITHDRAWS
from musharaka.state.db import read_scope, session_scope, transaction
from musharaka.state.events import ContributionsIngested, ContributionsWithdrawn, as_utc, payload_of
from musharaka.state.signing import load_private
from musharaka.state.tables import Contribution, Event, QuarantinedRow


@contextmanager
def _progress(enabled: bool) -> Iterator[Any]:
    """A progress line on a terminal (rows read so far); nothing when the output is a file or a pipe."""
    if not enabled:
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:,} rows"))
    with Progress(*columns, TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task("reading", total=None)
        yield lambda rows: bar.advance(task, rows)


@click.command("ingest")
@click.argument("campaign_id")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", type=click.Choice(sorted(TOOLS)), help="The tool that exported the file (default: detected).")
@click.option("--channel", help="The channel of rows the file does not say (default: the plan's `ingest.channel`).")
@identity_options("ingests it")
@click.pass_obj
def ingest_command(
    now: datetime,
    campaign_id: str,
    file: Path,
    source: str | None,
    channel: str | None,
    person: str | None,
    key_path: Path | None,
    passphrase_file: Path | None,
) -> None:
    """Ingest a tool's export of contributions: Google Forms CSV, Microsoft Forms XLSX, KoboToolbox CSV,
    ODK Central CSV, SurveyMonkey CSV, or CSV / JSON Lines with `submitted_at`. Rows already stored are
    duplicates; rows that cannot be taken are quarantined with their reasons.

    Example: musharaka ingest moheri-2025-q3-satisfaction responses.csv --channel e-survey
    """
    from musharaka.flows.ingest.ingestion import ingest  # pandas: for this command, not every command

    plans = records.load_plan_set()
    plan = records.plan_of(plans, campaign_id)
    actor = actor_of(person, key_path, passphrase_file, plan, plans, now)
    with _progress(sys.stderr.isatty()) as progress, session_scope() as session:
        done = ingest(
            campaign_id,
            file,
            plans=plans,
            actor=actor,
            now=now,
            session=session,
            source=source,
            channel=channel,
            progress=progress,
        )
    click.echo(f"{campaign_id}: {done}")
    if done.rows_quarantined:
        click.echo(f"see them: musharaka contributions {campaign_id} --quarantined")


@click.command("contributions")
@click.argument("campaign_id")
@click.option("--quarantined", is_flag=True, help="List the quarantined rows with their reasons.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def contributions_command(campaign_id: str, quarantined: bool, as_json: bool) -> None:
    """What a campaign collected: each ingestion's counts and whether it was withdrawn (by whom, when, why),
    or (--quarantined) every row kept aside, with its file, row number and reasons, and whether a corrected
    file has stored it since or its batch was withdrawn.

    Example: musharaka contributions moheri-2025-q3-satisfaction --quarantined
    """
    with read_scope() as session:
        campaign = records.campaign_state(campaign_id, session=session)
        zone = ZoneInfo(campaign.timezone)
        batches = {
            str(e.seq): (e, payload)
            for e in session.exec(
                select(Event).where(Event.campaign_id == campaign_id, Event.type == ContributionsIngested.TYPE)
            )
            if isinstance(payload := payload_of(e), ContributionsIngested)
        }
        if quarantined:
            _quarantined(campaign_id, batches, as_json, session=session)
            return
        withdrawn = withdrawal.withdrawals(campaign_id, session=session)
        stored = dict(
            session.exec(
                select(Contribution.batch, func.count())
                .where(Contribution.campaign_id == campaign_id)
                .group_by(col(Contribution.batch))
            ).all()
        )
    listing: list[dict[str, Any]] = [
        {
            "batch": int(seq),
            "at": event.at,
            "actor": event.actor,
            "file": payload.file_name,
            "source": payload.source,
            "rows_read": payload.rows_read,
            "rows_stored": payload.rows_stored,
            "rows_quarantined": payload.rows_quarantined,
            "duplicates": payload.duplicates,
            "rows_resubmitted": payload.rows_resubmitted,
            "rows_there_now": stored.get(seq, 0),
            "withdrawn": _withdrawn(withdrawn.get(int(seq))),
        }
        for seq, (event, payload) in sorted(batches.items(), key=lambda item: int(item[0]))
    ]
    if as_json:
        emit(listing)
        return
    for b in listing:
        click.echo(
            f"event {b['batch']:>3}  {b['file']} ({b['source']}): {b['rows_read']} read = {b['rows_stored']} stored + "
            f"{b['rows_quarantined']} quarantined + {b['duplicates']} duplicates"
        )
        if b["withdrawn"]:
            w = b["withdrawn"]
            at = f"{as_utc(w['at']).astimezone(zone):%Y-%m-%d %H:%M %Z}"
            click.echo(f"           withdrawn by {w['by']} at {at} (event {w['event']}): {w['reason']}")
    counting = [b for b in listing if not b["withdrawn"]]
    total = sum(int(b["rows_stored"]) for b in counting)
    gone = len(listing) - len(counting)
    click.echo(
        f"{total} contribution(s) from {len(counting)} ingestion(s)"
        + (f"; {gone} withdrawn ingestion(s) no longer count" if gone else "")
    )


def _withdrawn(found: tuple[Event, ContributionsWithdrawn] | None) -> dict[str, Any] | None:
    if found is None:
        return None
    event, payload = found
    return {"event": event.seq, "at": event.at, "by": event.actor, "reason": payload.reason}


def _quarantined(
    campaign_id: str, batches: dict[str, tuple[Event, ContributionsIngested]], as_json: bool, *, session: Session
) -> None:
    """Every quarantined row with its reasons; and whether a corrected file stored it since (the same response
    key, counting), or its batch was withdrawn."""
    rows = session.exec(
        select(QuarantinedRow).where(QuarantinedRow.campaign_id == campaign_id).order_by(col(QuarantinedRow.id))
    ).all()
    taken = dict(
        session.exec(
            select(QuarantinedRow.id, Contribution.batch)
            .join(
                Contribution,
                and_(
                    col(Contribution.campaign_id) == col(QuarantinedRow.campaign_id),
                    col(Contribution.row_key) == col(QuarantinedRow.row_key),
                    col(Contribution.withdrawn) == 0,
                ),
            )
            .where(QuarantinedRow.campaign_id == campaign_id, col(QuarantinedRow.withdrawn) == 0)
        ).all()
    )
    held = [
        {
            "file": batches[r.batch][1].file_name if r.batch in batches else "",
            "batch": int(r.batch),
            "row": r.row,
            "reasons": r.reasons.splitlines(),
            "cells": json.loads(r.cells),
            "withdrawn": r.withdrawn or None,  # the event that withdrew its batch
            "stored_by": int(taken[r.id]) if r.id in taken else None,  # the ingestion that stored it since
        }
        for r in rows
    ]
    if as_json:
        emit(held)
        return
    for item in held:
        for reason in item["reasons"]:
            click.echo(f"{item['file']}:{item['row']}: {reason}")
        if item["withdrawn"]:
            click.echo(f"{item['file']}:{item['row']}: withdrawn with its batch (event {item['withdrawn']})")
        elif item["stored_by"]:
            click.echo(f"{item['file']}:{item['row']}: stored since, corrected (event {item['stored_by']})")
    since = sum(1 for item in held if item["stored_by"])
    gone = sum(1 for item in held if item["withdrawn"])
    click.echo(
        f"{len(held)} row(s) quarantined; nothing of them was stored as a contribution"
        + (f"; {since} stored since from a corrected file" if since else "")
        + (f"; {gone} withdrawn with their batch" if gone else "")
        + "."
    )


@click.command("withdraw")
@click.argument("campaign_id")
@click.argument("batch", type=int)
@click.option("--reason", required=True, help="Why the batch is withdrawn, for the record.")
@click.option(
    "--as", "person", required=True, metavar="ID", help=f"Who withdraws it: a person with the {WITHDRAWS} duty."
)
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The private key of the person --as names (from `musharaka keys new`): it signs the withdrawal.",
)
@click.option(
    "--passphrase-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file whose first line is the key's passphrase, if it has one.",
)
@click.pass_obj
def withdraw_command(
    now: datetime,
    campaign_id: str,
    batch: int,
    reason: str,
    person: str,
    key_path: Path,
    passphrase_file: Path | None,
) -> None:
    """Withdraw an ingested batch (BATCH: its event number, as `contributions` lists it), signed, with a reason:
    its rows stay on record but no longer count, as contributions or as duplicates, so the corrected export
    ingests cleanly. Only until the conduct gate approves the count.

    Example: musharaka withdraw moheri-2025-q3-satisfaction 7 --reason "wrong form" --as planning.team --key team.pem
    """
    plans = records.load_plan_set()
    records.plan_of(plans, campaign_id)
    registry = plans.registry
    if registry is None:
        raise records.Refused(
            "no people registry (plans/approvers.yaml) to prove who withdraws the batch", "unproven-identity"
        )
    key = load_private(key_path, passphrase(passphrase_file))

    def record(session: Session) -> withdrawal.Withdrawn:
        signed = withdrawal.prepare(campaign_id, batch, reason=reason, person=person, key=key, now=now, session=session)
        return withdrawal.withdraw(campaign_id, signed, registry=registry, now=now, session=session)

    done = transaction(record)
    click.echo(f"{campaign_id}: {done}")
    click.echo(f"next: musharaka ingest {campaign_id} CORRECTED-FILE")


COMMANDS = {"ingest": ingest_command, "contributions": contributions_command, "withdraw": withdraw_command}
