"""The `musharaka` command: a thin layer over the engine, the flows and the state.

Exit codes: 0 done; 1 refused (not allowed, or not possible in the campaign's state); 2 bad input
(plan files, submitted files, arguments); 3 an unexpected failure. No command prints a traceback.
"""

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import click
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from flows import (
    cli_audit,
    cli_contributions,
    cli_db,
    cli_gates,
    cli_outcomes,
    cli_programme,
    cli_schedule,
    engine,
    views,
)
from flows.cli_common import advance_and_report, emit, parse_instant
from flows.planfiles import PlanError, load_plans
from flows.sources import UnreadableFile
from stages.plans import STAGES, ApproversRegistry, CampaignPlan, Programme, Stage
from state.db import session_scope, transaction
from state.events import ConcurrentWrite, OutOfOrder
from state.migrate import SchemaOutOfDate
from state.settings import get_settings
from state.signing import KeyFileError


class Cli(click.Group):
    """Turns every expected failure into a message and an exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyFileError as error:
            click.echo(f"key: {error}", err=True)
            sys.exit(2)
        except OutOfOrder as error:
            click.echo(f"refused: {error}", err=True)
            sys.exit(2)
        except (PlanError, UnreadableFile) as error:
            for problem in error.problems:
                click.echo(str(problem), err=True)
            click.echo(f"{len(error.problems)} problem(s); nothing was changed.", err=True)
            sys.exit(2)
        except engine.Refused as error:
            code = f" ({error.code})" if error.code != "refused" else ""
            click.echo(f"refused{code}: {error}", err=True)
            sys.exit(1)
        except ConcurrentWrite as error:
            click.echo(f"refused: {error}", err=True)
            sys.exit(1)
        except SchemaOutOfDate as error:
            click.echo(f"refused: {error}", err=True)
            sys.exit(1)
        except SQLAlchemyError as error:
            click.echo(
                f"database error ({get_settings().database_url}): {error.__class__.__name__}: "
                f"{str(error).splitlines()[0]}",
                err=True,
            )
            sys.exit(1)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except BrokenPipeError:  # the reader (say, `| head`) has what it wanted
            sys.stderr.close()
            sys.exit(0)
        except Exception as error:
            if get_settings().debug:
                raise
            click.echo(
                f"error: {error.__class__.__name__}: {error}\n"
                "The command stopped; what it had not committed was rolled back. "
                "Run again with MUSHARAKA_DEBUG=1 for the technical detail.",
                err=True,
            )
            sys.exit(3)


def _now(value: str | None) -> datetime:
    """The instant the command acts at: `--now` if given (for replaying a schedule), else the clock."""
    return datetime.now(UTC) if value is None else parse_instant(value)


@click.group(
    cls=Cli,
    commands={
        **cli_gates.COMMANDS,
        **cli_audit.COMMANDS,
        **cli_contributions.COMMANDS,
        **cli_programme.COMMANDS,
        **cli_outcomes.COMMANDS,
        **cli_db.COMMANDS,
        **cli_schedule.COMMANDS,
    },
)
@click.option("--now", "now_text", metavar="ISO-TIME", help="Act as at this instant (default: the clock).")
@click.pass_context
def main(ctx: click.Context, now_text: str | None) -> None:
    """Musharaka: run e-participation campaigns from plan files through six approved stages."""
    ctx.obj = _now(now_text)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Check plan files (default: the plans folder); every problem as file:line:column: field: message.

    Example: musharaka validate plans/
    """
    settings = get_settings()
    targets = list(paths) or [settings.plans_dir]
    missing = [p for p in targets if not p.exists()]
    if missing:
        raise click.BadParameter(f"no such file or folder: {', '.join(map(str, missing))}")
    plans, problems = load_plans(targets, registry_fallback=settings.plans_dir / "approvers.yaml")
    if problems:
        raise PlanError(problems)
    click.echo(
        f"ok: {len(plans.campaigns)} campaign plan(s), {len(plans.programmes)} programme(s), "
        f"{'an' if plans.registry else 'no'} approvers registry"
    )


@main.command()
@click.option("--kind", type=click.Choice(["campaign", "programme", "approvers"]), default="campaign")
def schema(kind: str) -> None:
    """Print the JSON Schema of a plan file, for editors that validate YAML as it is typed.

    Example: musharaka schema --kind campaign > campaign.schema.json
    """
    models: dict[str, type[BaseModel]] = {
        "campaign": CampaignPlan,
        "programme": Programme,
        "approvers": ApproversRegistry,
    }
    model = models[kind]
    emit(model.model_json_schema())


@main.command()
@click.argument("campaign_id")
@click.option("--as", "actor", help="Who starts it (default: the plan's owner).")
@click.option("--no-advance", is_flag=True, help="Only record the start; do not run the prepare stage.")
@click.pass_obj
def start(now: datetime, campaign_id: str, actor: str | None, no_advance: bool) -> None:
    """Start a campaign from its plan file and run it as far as its first gate.

    Example: musharaka start moheri-2025-q3-satisfaction
    """
    plans = engine.load_plan_set()
    plan = engine.plan_of(plans, campaign_id)
    with session_scope() as session:
        engine.start(plan, actor=actor or plan.owner, registry=plans.registry, now=now, session=session)
    click.echo(f"{campaign_id}: started")
    if not no_advance:
        advance_and_report([campaign_id], now)


@main.command()
@click.argument("campaign_ids", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Every started campaign that is not closed.")
@click.pass_obj
def advance(now: datetime, campaign_ids: tuple[str, ...], everything: bool) -> None:
    """Run campaigns as far as their gates allow (stops at open gates, missing inputs, open windows).

    Example: musharaka advance --all
    """
    if not campaign_ids and not everything:
        raise click.UsageError("name campaigns to advance, or pass --all")
    engine.load_plan_set()  # refuse early, with every problem, if the plans do not validate
    with session_scope() as session:
        targets = views.active_campaigns(session=session) if everything else list(campaign_ids)
        for campaign_id in targets:
            engine.campaign_state(campaign_id, session=session)
    if not targets:
        click.echo("no campaign to advance: none is started and open")
        return
    advance_and_report(targets, now)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def status(now: datetime, as_json: bool) -> None:
    """Every campaign of the programme: stage, attempt, status, open gate and window.

    Example: musharaka status --json
    """
    plans, problems = load_plans([get_settings().plans_dir])
    if problems:
        click.echo(f"warning: the plan files have {len(problems)} problem(s); run musharaka validate", err=True)
    with session_scope() as session:
        rows = views.status_rows(plans, now=now, session=session)
    if as_json:
        emit([row.model_dump(mode="json") for row in rows])
    else:
        click.echo(views.status_table(rows))


@main.command()
@click.argument("campaign_id")
@click.argument("stage", type=click.Choice(STAGES))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "actor", help="Who submits it (default: the plan's owner).")
@click.pass_obj
def submit(now: datetime, campaign_id: str, stage: str, file: Path, actor: str | None) -> None:
    """Submit what a person must supply for a stage: contributions CSV (conduct), readiness answers
    (prepare), the decision (analyse), or the lessons (evaluate), as YAML or JSON.

    Example: musharaka submit moheri-2025-q3-satisfaction analyse decision.yaml --as planning.team
    """
    plans = engine.load_plan_set()
    plan = engine.plan_of(plans, campaign_id)

    def record(session: Session) -> str:
        return engine.submit_file(
            campaign_id,
            cast(Stage, stage),  # click.Choice(STAGES) has checked it
            file,
            plans=plans,
            actor=actor or plan.owner,
            now=now,
            session=session,
        )

    # a flow or an approval appending to the same campaign at the same moment: take the next turn
    message = transaction(record)
    click.echo(f"{campaign_id}: {message}")
    click.echo(f"next: musharaka advance {campaign_id}")


@main.command()
@click.argument("campaign_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output, payloads included.")
def history(campaign_id: str, as_json: bool) -> None:
    """A campaign's event log, oldest first: who did what, when, and the hash chain.

    Example: musharaka history moheri-2025-q3-satisfaction --json
    """
    with session_scope() as session:
        campaign = engine.campaign_state(campaign_id, session=session)
        entries = views.history_entries(campaign_id, campaign.timezone, session=session)
    if as_json:
        emit([entry.model_dump(mode="json") for entry in entries])
    else:
        for entry in entries:
            click.echo(
                f"{entry.seq:>4}  {entry.local_time}  {entry.actor:<18} {entry.type:<22} {entry.hash[:12]}  "
                f"{entry.summary}"
            )


@main.command()
@click.option("--reset", is_flag=True, help="Start from an empty database (deletes the current state).")
def demo(reset: bool) -> None:
    """Replay the ministry's 2025 programme: plans, sample contributions, approvals, one rework.

    Example: musharaka demo --reset
    """
    from flows.demo import run_demo

    run_demo(reset=reset, echo=click.echo)


if __name__ == "__main__":
    main()
