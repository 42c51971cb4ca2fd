"""Helpers every CLI module shares: output, running flows (in-process, or handed to the service), a passphrase."""

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from musharaka.flows import runtime
from musharaka.flows.views import overview
from musharaka.state.db import read_scope
from musharaka.state.settings import get_settings

if TYPE_CHECKING:
    import httpx

    from musharaka.flows.service.discovery import Service

HAND_OVER_TIMEOUT_SECONDS = 30.0  # the service creates one Prefect flow run per campaign before it answers
FOLLOW_EVERY_SECONDS = 0.5


def emit(data: Any) -> None:
    """JSON for machines: UTF-8 kept readable, times as ISO 8601."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def advance_and_report(campaign_ids: list[str], now: datetime, *, at_the_clock: bool | None = None) -> None:
    """Run the campaigns' lifecycles and say where each one stopped.

    Where the runs go, first that applies:

    1. A service runs for this workspace (`musharaka serve`) and the command acts at the clock's time:
       the runs are handed to it. The command finds the service through the file the service writes
       when it starts and removes when it stops, `service_file` (home/var/service.json; see
       `musharaka.flows.service.discovery`): the address, process id and API token. The file is
       believed only if that process is alive and the address answers its health check within a
       second. The command prints each run's id at once and, in a terminal, follows the runs on one
       updating line until they end; piped or scripted, it returns at once. `--now` (demo, replay,
       tests) never goes to the service, which always acts at the clock's time: such a command runs
       as below.
    2. A Prefect server is configured (PREFECT_API_URL): the runs are submitted to the lifecycle
       deployment for its workers, unless MUSHARAKA_RUN_FLOWS_HERE keeps them in this process.
    3. Otherwise they run in this process: on that server, or in Prefect's ephemeral mode.

    `at_the_clock` says whether `now` is the clock's time; by default, whether the command line gave
    no `--now`.
    """
    if at_the_clock is None:
        at_the_clock = _acting_at_the_clock()
    if at_the_clock:
        from musharaka.flows.service import discovery  # not for `status`: it only reads

        service = discovery.find_service(get_settings())
        if service is not None and _hand_over(service, campaign_ids):
            return
    runtime.configure_prefect()
    if runtime.server_configured():
        for campaign_id, run_id in runtime.submit_lifecycles(campaign_ids, now).items():
            click.echo(f"{campaign_id}: submitted to the {runtime.LIFECYCLE_DEPLOYMENT} deployment (flow run {run_id})")
        return
    from musharaka.flows.lifecycle import advance  # Prefect loads only for commands that run flows

    stops = advance(campaign_ids, now)
    with read_scope() as session:
        for campaign_id in stops:
            click.echo(overview.where_it_stands(campaign_id, now=now, session=session))


def _acting_at_the_clock() -> bool:
    """Whether the running command was given no `--now` (False outside a command: the caller chose `now`)."""
    context = click.get_current_context(silent=True)
    if context is None:
        return False
    root = context.find_root().params
    return "now_text" in root and root["now_text"] is None


def _hand_over(service: "Service", campaign_ids: list[str]) -> bool:
    """Give the runs to the service and report them; False (said on stderr) if it did not take them."""
    import httpx

    try:
        response = httpx.post(
            f"{service.url}/api/advance",
            json={"campaign_ids": campaign_ids},
            headers=service.headers(),
            timeout=HAND_OVER_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as error:
        click.echo(f"the service at {service.url} did not answer ({error.__class__.__name__}); running here", err=True)
        return False
    if response.status_code == 422:  # a campaign the service's engine refuses, as this process would
        from musharaka.flows.engine.records import Refused

        raise Refused(_detail(response))
    if response.status_code != 200:
        click.echo(
            f"the service at {service.url} did not take the runs ({response.status_code}: {_detail(response)}); "
            "running here",
            err=True,
        )
        return False
    handed: dict[str, str] = response.json()["runs"]
    for campaign_id, run_id in handed.items():
        click.echo(f"{campaign_id}: run {run_id} handed to the service at {service.url}")
    if sys.stdout.isatty():
        try:
            _follow(service, handed)
        except KeyboardInterrupt:
            click.echo("\nstopped following; the runs go on in the service (musharaka status shows where they stand)")
    return True


def _detail(response: "httpx.Response") -> str:
    try:
        return str(response.json()["detail"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200]


def _follow(service: "Service", handed: dict[str, str]) -> None:
    """Each run on one updating line (the campaign's stage and status, seconds elapsed) until it ends,
    then where its campaign stopped."""
    import httpx

    failed = []
    with httpx.Client(base_url=service.url, headers=service.headers(), timeout=10) as client:
        for campaign_id, run_id in handed.items():
            began, shown = time.monotonic(), 0
            while True:
                try:
                    response = client.get(f"/api/runs/{run_id}")
                    response.raise_for_status()
                except httpx.HTTPError as error:
                    click.echo(
                        f"\n{campaign_id}: lost the service ({error.__class__.__name__}) while following run {run_id}; "
                        "musharaka status shows where the campaign stands"
                    )
                    return
                run = response.json()
                line = (
                    f"{campaign_id}: {run['stage'] or '-'} {run['campaign_status'] or '-'}, "
                    f"run {run['state']} {time.monotonic() - began:.0f} s"
                )
                click.echo("\r" + line.ljust(shown), nl=False)
                shown = len(line)
                if run["state"] in ("completed", "failed"):
                    break
                time.sleep(FOLLOW_EVERY_SECONDS)
            click.echo("\r" + " " * shown + "\r", nl=False)
            if run["state"] == "failed":
                failed.append(campaign_id)
                click.echo(f"{campaign_id}: run {run_id} failed: {run['message']}", err=True)
                continue
            with read_scope() as session:
                click.echo(overview.where_it_stands(campaign_id, now=datetime.now(UTC), session=session))
    if failed:
        sys.exit(3)  # as a run failing in this process would end the command


def passphrase(path: Path | None) -> bytes | None:
    """The passphrase in a file's first line, if a file is given; refused, like a key, if others may read it."""
    if path is None:
        return None
    from musharaka.state.files import owner_only_bytes

    first = owner_only_bytes(path, "a passphrase").splitlines()
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
