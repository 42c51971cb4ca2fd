"""The programme seen from outside: UN e-participation evidence, the calendar export, PDF documents."""

import json
from datetime import datetime
from pathlib import Path

import click
from sqlmodel import col, select

from musharaka.flows.cli.common import emit
from musharaka.flows.engine import records
from musharaka.flows.render import ics
from musharaka.flows.render.documents import document_path, write_pdf
from musharaka.flows.views import evidence, overview
from musharaka.stages.plans import STAGES
from musharaka.state.db import read_scope
from musharaka.state.tables import StageRun


@click.command("un-evidence")
@click.option("--year", type=click.IntRange(2000, 2100), help="Only campaigns of this year's quarters.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def un_evidence(now: datetime, year: int | None, as_json: bool) -> None:
    """Per UN level and sector: consultations held, decisions taken on them, outcomes published, and gaps.

    Example: musharaka un-evidence --year 2025 --json
    """
    plans = records.load_plan_set()
    with read_scope() as session:
        levels = evidence.evidence(evidence.campaign_facts(plans, now=now, session=session), year)
    if as_json:
        emit([level.model_dump(mode="json") for level in levels])
    else:
        click.echo(evidence.evidence_table(levels))


@click.command("calendar")
@click.option(
    "--ics",
    "target",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The iCalendar file to write.",
)
@click.option("--lang", type=click.Choice(["en", "ar"]), default="en", show_default=True, help="Language of titles.")
@click.pass_obj
def calendar(now: datetime, target: Path, lang: str) -> None:
    """Export campaign windows and open gates' due dates as iCalendar, to import into any calendar.

    Example: musharaka calendar --ics programme.ics --lang ar
    """
    plans = records.load_plan_set()
    with read_scope() as session:
        cal = ics.programme_calendar(plans, lang=lang, now=now, session=session)
    if not target.parent.is_dir():
        raise click.BadParameter(f"no such folder: {target.parent}", param_hint="--ics")
    data = cal.to_ical()
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(data)
    partial.replace(target)  # whole or not at all
    events = sum(1 for c in cal.walk("VEVENT"))
    click.echo(f"{target}: {events} event(s)")


@click.command("pdf")
@click.argument("campaign_id")
@click.option("--stage", type=click.Choice(STAGES), help="Only this stage's documents (default: every stage's).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Write here (default: beside the HTML).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def pdf(now: datetime, campaign_id: str, stage: str | None, out: Path | None, as_json: bool) -> None:
    """A4 PDFs of a campaign's recorded documents, Arabic and English, each checked against its digest first.

    Example: musharaka pdf moheri-2025-q3-satisfaction --stage analyse
    """
    with read_scope() as session:
        records.campaign_state(campaign_id, session=session)
        query = select(StageRun).where(StageRun.campaign_id == campaign_id, col(StageRun.documents).is_not(None))
        runs = [r for r in session.exec(query.order_by(col(StageRun.id))) if stage in (None, r.stage)]
    documents = [d for run in runs for d in json.loads(run.documents or "[]")]
    if not documents:
        raise records.Refused(f"{campaign_id} has no recorded {stage or 'stage'} documents yet")
    changed = [d["path"] for d in documents if overview.file_digest(document_path(d["path"])) != d["digest"]]
    if changed:
        raise records.Refused(f"documents missing or changed since they were recorded: {', '.join(changed)}")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    written = []
    for document in documents:
        source = document_path(document["path"])
        target = (out or source.parent) / (source.name.removesuffix(".html") + ".pdf")
        write_pdf(source, target)
        written.append({"lang": document["lang"], "html": str(source), "pdf": str(target)})
    if as_json:
        emit(written)
    else:
        click.echo("\n".join(row["pdf"] for row in written))


COMMANDS: dict[str, click.Command] = {"un-evidence": un_evidence, "calendar": calendar, "pdf": pdf}
