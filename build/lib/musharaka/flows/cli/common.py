"""Helpers every CLI module shares: output, running flows in-process, reading a passphrase."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from musharaka.flows import runtime
from musharaka.flows.views import overview
from musharaka.state.db import session_scope


def emit(data: Any) -> None:
    """JSON for machines: UTF-8 kept readable, times as ISO 8601."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def advance_and_report(campaign_ids: list[str], now: datetime) -> None:
    """Run the campaigns' lifecycles in this process and say where each one stopped; with a Prefect
    server configured, submit them to the lifecycle deployment for the workers instead."""
    runtime.configure_prefect()
    if runtime.server_configured():
        for campaign_id, run_id in runtime.submit_lifecycles(campaign_ids, now).items():
            click.echo(f"{campaign_id}: submitted to the {runtime.LIFECYCLE_DEPLOYMENT} deployment (flow run {run_id})")
        return
    from musharaka.flows.lifecycle import advance  # Prefect loads only for commands that run flows

    stops = advance(campaign_ids, now)
    with session_scope() as session:
        for campaign_id in stops:
            click.echo(overview.where_it_stands(campaign_id, now=now, session=session))


def passphrase(path: Path | None) -> bytes | None:
    """The passphrase in a file's first line, if a file is given."""
    if path is None:
        return None
    first = path.read_bytes().splitlines()
    if not first or not first[0]:
        raise click.BadParameter(f"{path}: expected the passphrase on the first line, found nothing")
    return first[0]


def parse_instant(value: str) -> datetime:
    """An ISO 8601 instant with its UTC offset, as UTC; a usage error naming what was wrong otherwise."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected ISO 8601 such as 2025-07-01T09:00+04:00, found {value!r}") from None
    if moment.tzinfo is None:
        raise click.BadParameter(f"expected a time with its UTC offset (e.g. +04:00), found {value!r}")
    return moment.astimezone(UTC)
