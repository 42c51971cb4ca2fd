"""The programme seen from outside: UN e-participation evidence and the calendar export."""

from datetime import datetime
from pathlib import Path

import click

from flows import engine, evidence, ics
from flows.cli_common import emit
from state.db import session_scope


@click.command("un-evidence")
@click.option("--year", type=click.IntRange(2000, 2100), help="Only campaigns of this year's quarters.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def un_evidence(now: datetime, year: int | None, as_json: bool) -> None:
    """Per UN level and sector: consultations held, decisions taken on them, outcomes published, and gaps.

    Example: musharaka un-evidence --year 2025 --json
    """
    plans = engine.load_plan_set()
    with session_scope() as session:
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
    plans = engine.load_plan_set()
    with session_scope() as session:
        cal = ics.programme_calendar(plans, lang=lang, now=now, session=session)
    if not target.parent.is_dir():
        raise click.BadParameter(f"no such folder: {target.parent}", param_hint="--ics")
    data = cal.to_ical()
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(data)
    partial.replace(target)  # whole or not at all
    events = sum(1 for c in cal.walk("VEVENT"))
    click.echo(f"{target}: {events} event(s)")


COMMANDS: dict[str, click.Command] = {"un-evidence": un_evidence, "calendar": calendar}
