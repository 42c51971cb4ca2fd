"""Commands for after the campaign: follow a decision through, list decisions and lessons, the KPIs."""

from datetime import datetime
from pathlib import Path
from typing import cast

import click

from musharaka.flows import runtime
from musharaka.flows.cli.campaigns import actor_of, identity_options
from musharaka.flows.cli.common import emit
from musharaka.flows.cli.language import current
from musharaka.flows.engine import lessons, records, updates
from musharaka.flows.render import reports
from musharaka.flows.views import outcomes, tables
from musharaka.stages import followup
from musharaka.state.db import read_scope, session_scope


@click.command("follow-up")
@click.argument("campaign_id")
@click.option("--status", type=click.Choice(followup.STATUSES), required=True, help="Where the decision stands.")
@click.option("--percent", type=int, help="How far the work is, 0-100 (required for in-progress).")
@click.option("--note", default="", help="What was done; for dropped, the reason.")
@click.option("--evidence", help="A link to evidence (a published notice, a release note).")
@identity_options("reports it")
@click.pass_obj
def follow_up(
    now: datetime,
    campaign_id: str,
    status: str,
    percent: int | None,
    note: str,
    evidence: str | None,
    person: str | None,
    key_path: Path | None,
    passphrase_file: Path | None,
) -> None:
    """Record an implementation update of a campaign's approved decision, and rewrite its
    "you said, we did" page.

    Example: musharaka follow-up moheri-2025-q3-satisfaction --status in-progress --percent 40 --note "new form"
    """
    update = followup.Update(cast(followup.Status, status), percent, note, evidence)
    plans = records.load_plan_set()
    actor = actor_of(person, key_path, passphrase_file, records.plan_of(plans, campaign_id), plans, now)
    with session_scope() as session:
        records.campaign_state(campaign_id, session=session)
        problems = updates.record_update(campaign_id, update, actor=actor, now=now, session=session)
        if problems:
            raise click.UsageError("; ".join(problems) + "; nothing was recorded")
        session.flush()
        view = outcomes.decisions(session=session, campaign_id=campaign_id)[0]
    pages = reports.write_you_said_we_did(view, now=now)
    click.echo(f"{campaign_id}: decision {view.status} ({view.percent}%)")
    click.echo(f"page: {pages[-1].parent}/you-said-we-did.{{ar,en}}.html")


@click.command("decisions")
@click.option("--campaign", "campaign_id", help="Only this campaign's decision.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output, updates included.")
def decisions_command(campaign_id: str | None, as_json: bool) -> None:
    """Every approved decision and how far it has been carried out.

    Example: musharaka decisions --campaign moheri-2025-q3-satisfaction --json
    """
    with read_scope() as session:
        if campaign_id is not None:
            records.campaign_state(campaign_id, session=session)
        views = outcomes.decisions(session=session, campaign_id=campaign_id)
    if as_json:
        emit([v.model_dump(mode="json") for v in views])
        return
    if not views:
        click.echo("no approved decision yet")
    for v in views:
        based = "based on contributions" if v.based_on_contributions else "not based on contributions"
        click.echo(f"{v.campaign}  approved {v.approved_at.date()}  {v.status} {v.percent}%  ({based})")
        click.echo(f"    {v.summary.en}")
        for u in v.updates:
            link = f"  {u.evidence}" if u.evidence else ""
            click.echo(f"    {u.at.date()}  {u.status:<12} {u.percent:>3}%  {u.actor}: {u.note}{link}")


@click.command("lessons")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def lessons_command(as_json: bool) -> None:
    """The lessons register: every approved evaluation's lessons and improvement proposals, with the ids
    a later plan cites under `plan.cites_lessons`.

    Example: musharaka lessons --json
    """
    with read_scope() as session:
        entries = lessons.lessons_register(session=session)
    if as_json:
        emit([e.model_dump(mode="json") for e in entries])
        return
    if not entries:
        click.echo("no lessons yet: they come from approved evaluations")
    for e in entries:
        click.echo(f"{e.id:<52} {e.kind:<11} {e.text}")


@click.command("kpis")
@click.option("--period", required=True, metavar="YYYY-H1|YYYY-H2", help="The half-year, e.g. 2025-H1.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--html", is_flag=True, help="Also render out/kpis/<period>.{ar,en}.html (the kpi-report flow).")
@click.pass_obj
def kpis_command(now: datetime, period: str, as_json: bool, html: bool) -> None:
    """The ministry's half-yearly table (target, actual, gap) and the programme's status, from the log.

    Example: musharaka kpis --period 2025-H1 --json
    """
    plans = records.load_plan_set()
    try:
        with read_scope() as session:
            report = outcomes.kpi_report(plans, period, now=now, session=session)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--period") from None
    if html:
        runtime.configure_prefect()
        from musharaka.flows.kpis import kpi_report  # Prefect loads only for commands that run flows
        from musharaka.flows.lifecycle import in_process

        with in_process():
            written = kpi_report(period, now)
        click.echo(f"written: {', '.join(written)}", err=as_json)
    if as_json:
        emit(report.model_dump(mode="json"))
        return
    click.echo(tables.kpis_table(report, current()))


COMMANDS = {c.name: c for c in (follow_up, decisions_command, lessons_command, kpis_command) if c.name}
