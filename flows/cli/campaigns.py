"""Commands that move campaigns: start, advance, submit, the history, and the demo."""

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import click
from sqlmodel import Session

from musharaka.flows.cli.common import advance_and_report, emit, passphrase
from musharaka.flows.cli.language import current
from musharaka.flows.engine import campaigns, records, submissions
from musharaka.flows.engine.identity import acting_person
from musharaka.flows.planfiles.loading import PlanSet
from musharaka.flows.views import overview, tables
from musharaka.stages.plans import STAGES, CampaignPlan, Stage
from musharaka.state.db import read_scope, session_scope, transaction


def identity_options(does: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--as`, and the key that proves it, for a command by which a person `does` something."""

    def add(command: Callable[..., Any]) -> Callable[..., Any]:
        options = [
            click.option(
                "--as", "person", help=f"Who {does} (default: the plan's owner); proven with --key.", metavar="ID"
            ),
            click.option(
                "--key",
                "key_path",
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                help="The private key of the person --as names (from `musharaka keys new`).",
            ),
            click.option(
                "--passphrase-file",
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                help="A file whose first line is the key's passphrase, if it has one.",
            ),
        ]
        for option in reversed(options):
            command = option(command)
        return command

    return add


def actor_of(
    person: str | None,
    key_path: Path | None,
    passphrase_file: Path | None,
    plan: CampaignPlan,
    plans: PlanSet,
    now: datetime,
) -> str:
    """Who the command acts as: the plan's owner, or the person `--as` names if their key proves it."""
    if key_path is not None and person is None:
        raise click.UsageError("--key proves who --as names: give --as with it")
    return acting_person(
        person, key_path, passphrase(passphrase_file), owner=plan.owner, registry=plans.registry, now=now
    )


@click.command()
@click.argument("campaign_id")
@identity_options("starts it")
@click.option("--no-advance", is_flag=True, help="Only record the start; do not run the prepare stage.")
@click.pass_obj
def start(
    now: datetime,
    campaign_id: str,
    person: str | None,
    key_path: Path | None,
    passphrase_file: Path | None,
    no_advance: bool,
) -> None:
    """Start a campaign from its plan file and run it as far as its first gate.

    Example: musharaka start moheri-2025-q3-satisfaction
    """
    plans = records.load_plan_set()
    plan = records.plan_of(plans, campaign_id)
    actor = actor_of(person, key_path, passphrase_file, plan, plans, now)
    with session_scope() as session:
        campaigns.start(plan, actor=actor, registry=plans.registry, now=now, session=session)
    click.echo(f"{campaign_id}: started")
    if not no_advance:
        advance_and_report([campaign_id], now)


@click.command()
@click.argument("campaign_ids", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Every started campaign that is not closed.")
@click.pass_obj
def advance(now: datetime, campaign_ids: tuple[str, ...], everything: bool) -> None:
    """Run campaigns as far as their gates allow (stops at open gates, missing inputs, open windows).

    Example: musharaka advance --all
    """
    if not campaign_ids and not everything:
        raise click.UsageError("name campaigns to advance, or pass --all")
    records.load_plan_set()  # refuse early, with every problem, if the plans do not validate
    with read_scope() as session:
        targets = overview.active_campaigns(session=session) if everything else list(campaign_ids)
        for campaign_id in targets:
            records.campaign_state(campaign_id, session=session)
    if not targets:
        click.echo("no campaign to advance: none is started and open")
        return
    advance_and_report(targets, now)


@click.command()
@click.argument("campaign_id")
@click.argument("stage", type=click.Choice(STAGES))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@identity_options("submits it")
@click.pass_obj
def submit(
    now: datetime,
    campaign_id: str,
    stage: str,
    file: Path,
    person: str | None,
    key_path: Path | None,
    passphrase_file: Path | None,
) -> None:
    """Submit what a person must supply for a stage: contributions CSV (conduct), readiness answers
    (prepare), the decision (analyse), or the lessons (evaluate), as YAML or JSON.

    Example: musharaka submit moheri-2025-q3-satisfaction analyse decision.yaml --as planning.team --key team.pem
    """
    plans = records.load_plan_set()
    plan = records.plan_of(plans, campaign_id)
    actor = actor_of(person, key_path, passphrase_file, plan, plans, now)

    def record(session: Session) -> str:
        return submissions.submit_file(
            campaign_id,
            cast(Stage, stage),  # click.Choice(STAGES) has checked it
            file,
            plans=plans,
            actor=actor,
            now=now,
            session=session,
        )

    # a flow or an approval appending to the same campaign at the same moment: take the next turn
    message = transaction(record)
    click.echo(f"{campaign_id}: {message}")
    click.echo(f"next: musharaka advance {campaign_id}")


@click.command()
@click.argument("campaign_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output, payloads included.")
def history(campaign_id: str, as_json: bool) -> None:
    """A campaign's event log, oldest first: who did what, when, and the hash chain.

    Example: musharaka history moheri-2025-q3-satisfaction --json
    """
    lang = current()
    with read_scope() as session:
        campaign = records.campaign_state(campaign_id, session=session)
        entries = overview.history_entries(campaign_id, campaign.timezone, session=session, lang=lang)
    if as_json:
        emit([entry.model_dump(mode="json") for entry in entries])
    else:
        click.echo(tables.history_table(entries, campaign.timezone, lang))


@click.command()
@click.option("--reset", is_flag=True, help="Start from an empty database (deletes the current state).")
def demo(reset: bool) -> None:
    """Replay the ministry's 2025 programme: plans, sample contributions, approvals, one rework.

    Example: musharaka demo --reset
    """
    from musharaka.flows.cli.demo import run_demo

    run_demo(reset=reset, echo=click.echo)


COMMANDS = {c.name: c for c in (start, advance, submit, history, demo) if c.name}
