"""`musharaka kickoff`: what the quarterly-kickoff deployment does, run in this process."""

from datetime import datetime

import click

from musharaka.flows import runtime
from musharaka.flows.cli.common import emit


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def kickoff(now: datetime, as_json: bool) -> None:
    """Start the campaigns the programme plans for the current quarter that are not started yet,
    each as far as its first gate; running it again starts nothing twice.

    Example: musharaka --now 2025-07-01T08:00+04:00 kickoff
    """
    runtime.configure_prefect()
    from musharaka.flows.kickoff import quarter_of, quarterly_kickoff
    from musharaka.flows.lifecycle import in_process
    from musharaka.state.settings import get_settings

    with in_process():
        report = quarterly_kickoff(now)
    quarter = quarter_of(now, get_settings().timezone)
    if as_json:
        emit({"quarter": quarter, "campaigns": report})
        return
    if not report:
        click.echo(f"{quarter}: the programme plans no campaign for this quarter")
    for campaign_id, where in report.items():
        click.echo(f"{campaign_id}: {where}")


COMMANDS = {"kickoff": kickoff}
