"""Read-only commands that must answer fast: the programme's status, and checking plan files.

This module imports only what they need (no pandas, no Prefect): the CLI loads a command's module
when the command runs.
"""

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from pydantic import BaseModel, TypeAdapter

from musharaka.flows.cli.common import emit
from musharaka.flows.cli.language import current
from musharaka.flows.planfiles.loading import PlanSet, load_plans
from musharaka.flows.planfiles.reading import PlanError
from musharaka.flows.views import overview, tables
from musharaka.stages.approvers import ApproversRegistry
from musharaka.stages.i18n import words
from musharaka.stages.plans import CampaignPlan
from musharaka.stages.programme import Programme
from musharaka.state.db import read_scope
from musharaka.state.settings import get_settings

if TYPE_CHECKING:
    from musharaka.stages.readiness import Need


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--readiness", is_flag=True, help="List, per campaign and stage, what is still to write or submit.")
def validate(paths: tuple[Path, ...], readiness: bool) -> None:
    """Check plan files (default: the plans folder); every problem as file:line:column: field: message.

    Errors stop every command (exit 2). Warnings do not (exit 0), each line starting "warning:": prose given
    in one language only (a reader of the other would see it untranslated), and what a stage will need that
    the plan file does not hold yet (`--readiness` lists everything still to write or submit, per stage).

    Example: musharaka validate plans/ --readiness
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
    for message in dict.fromkeys(w.message for w in plans.warnings):
        listed = [w for w in plans.warnings if w.message == message]
        click.echo(f"warning: {len(listed)} text(s) {message}:", err=True)
        for warning in listed:
            click.echo(f"warning: {warning}", err=True)
    from musharaka.stages import readiness as needed  # the stage modules: only validate needs them

    for campaign_id, plan in sorted(plans.campaigns.items()):
        unwritten = needed.to_write(plan)
        if unwritten and not readiness:
            stages = ", ".join(dict.fromkeys(need.stage for need in unwritten))
            click.echo(
                f"warning: {plans.sources[campaign_id]}: {campaign_id} stops at {stages} until {len(unwritten)} "
                "item(s) are written in the plan file (musharaka validate --readiness lists them)",
                err=True,
            )
    if readiness:
        click.echo(readiness_report(plans))


def readiness_report(plans: PlanSet) -> str:
    """Per campaign and stage, what is still to be written in the plan file or submitted on the way."""
    from musharaka.stages import readiness

    lines = []
    for campaign_id, plan in sorted(plans.campaigns.items()):
        lines.append(f"{campaign_id} ({plans.sources[campaign_id]})")
        lines += [
            f"  {need.stage:<8} {need.field}: {need.what} ({_how(need, campaign_id)})" for need in readiness.needs(plan)
        ]
    return "\n".join(lines)


def _how(need: "Need", campaign_id: str) -> str:
    if need.how == "write":
        return "write it in the plan file"
    if need.stage == "conduct":
        return f"ingest an export: musharaka ingest {campaign_id} FILE"
    submit = f"musharaka submit {campaign_id} {need.stage} FILE"
    return (
        f"write it in the plan file, or submit it: {submit}" if need.how == "write or submit" else f"submit: {submit}"
    )


@click.command()
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


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def status(now: datetime, as_json: bool) -> None:
    """Every campaign of the programme: stage, attempt, status, open gate and window.

    Example: musharaka status --json
    """
    plans, problems = load_plans([get_settings().plans_dir])
    t = words(current())
    if problems:
        warning = t.ngettext(
            "warning: the plan files have %(n)s problem; run musharaka validate",
            "warning: the plan files have %(n)s problems; run musharaka validate",
            len(problems),
        )
        click.echo(warning % {"n": len(problems)}, err=True)
    with read_scope() as session:
        rows = overview.status_rows(plans, now=now, session=session)
    if as_json:  # serialised by pydantic's own encoder: the same JSON as `emit`, five times faster
        click.echo(TypeAdapter(list[overview.StatusRow]).dump_json(rows, indent=2).decode())
    else:
        click.echo(tables.status_table(rows, now, current()))


COMMANDS = {c.name: c for c in (validate, schema, status) if c.name}
