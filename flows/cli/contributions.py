"""Commands for what participants contributed: ingest a tool's export, list what was stored or quarantined."""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy import func
from sqlmodel import col, select

from musharaka.flows.cli.campaigns import actor_of, identity_options
from musharaka.flows.cli.common import emit
from musharaka.flows.engine import records
from musharaka.flows.ingest.ingestion import ingest
from musharaka.flows.ingest.sources import TOOLS
from musharaka.state.db import session_scope
from musharaka.state.events import ContributionsIngested, payload_of
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
    """What a campaign collected: each ingestion's counts, or (--quarantined) every row kept aside, with its
    file, row number and reasons.

    Example: musharaka contributions moheri-2025-q3-satisfaction --quarantined
    """
    with session_scope() as session:
        records.campaign_state(campaign_id, session=session)
        batches = {
            str(e.seq): (e, payload)
            for e in session.exec(
                select(Event).where(Event.campaign_id == campaign_id, Event.type == "contributions.ingested")
            )
            if isinstance(payload := payload_of(e), ContributionsIngested)
        }
        if quarantined:
            rows = session.exec(
                select(QuarantinedRow).where(QuarantinedRow.campaign_id == campaign_id).order_by(col(QuarantinedRow.id))
            ).all()
            held = [
                {
                    "file": batches[r.batch][1].file_name if r.batch in batches else "",
                    "batch": int(r.batch),
                    "row": r.row,
                    "reasons": r.reasons.splitlines(),
                    "cells": json.loads(r.cells),
                }
                for r in rows
            ]
            if as_json:
                emit(held)
                return
            for item in held:
                for reason in item["reasons"]:
                    click.echo(f"{item['file']}:{item['row']}: {reason}")
            click.echo(f"{len(held)} row(s) quarantined; nothing of them was stored as a contribution.")
            return
        stored = dict(
            session.exec(
                select(Contribution.batch, func.count())
                .where(Contribution.campaign_id == campaign_id)
                .group_by(col(Contribution.batch))
            ).all()
        )
    listing = [
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
            "rows_there_now": stored.get(seq, 0),
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
    total = sum(payload.rows_stored for _, payload in batches.values())
    click.echo(f"{total} contribution(s) from {len(listing)} ingestion(s)")


COMMANDS = {"ingest": ingest_command, "contributions": contributions_command}
