"""`musharaka publish`: a closed campaign's results as open data, a Frictionless data package."""

import hashlib
from pathlib import Path

import click

from musharaka.flows.cli.common import emit
from musharaka.flows.cli.language import current
from musharaka.flows.engine import records
from musharaka.flows.render import opendata as package
from musharaka.flows.views import opendata
from musharaka.stages.i18n import words
from musharaka.state.db import read_scope


@click.command("publish")
@click.argument("campaign_id")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output: the files and their SHA-256.")
def publish_command(campaign_id: str, folder: Path, as_json: bool) -> None:
    """Publish a closed campaign's results as open data: a Frictionless data package in FOLDER (CSV tables,
    datapackage.json, a README in Arabic and English), with no personal data.

    FOLDER is new, empty, or the campaign's package published before, which is replaced whole. The package is
    checked with frictionless before it is put in place; the same log always gives the same bytes.

    Example: musharaka publish moheri-2025-q3-satisfaction out/open-data/moheri-2025-q3-satisfaction
    """
    t = words(current())
    try:
        package.check_folder(folder, campaign_id)  # a bad argument first, before the log is read
        plans = records.load_plan_set()
        with read_scope() as session:
            facts = opendata.facts(plans, campaign_id, session=session)
        written = package.write_package(facts, folder)
    except package.BadFolder as error:
        raise click.UsageError(t.gettext(error.message) % {"folder": error.folder}) from None
    digests = {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in written.files}
    if as_json:
        emit({"campaign": campaign_id, "folder": str(folder), "replaced": written.replaced, "files": digests})
        return
    click.echo(
        t.gettext("%(campaign)s: open data published in %(folder)s (%(count)s files)")
        % {"campaign": campaign_id, "folder": folder, "count": len(digests)}
    )
    for name, digest in digests.items():
        click.echo(f"  {digest}  {name}")


COMMANDS = {c.name: c for c in (publish_command,) if c.name}
