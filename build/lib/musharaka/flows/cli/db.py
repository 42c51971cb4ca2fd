"""`musharaka db`: the state database's schema revision, and upgrading it to this version's."""

import sys

import click

from musharaka.flows.cli.common import emit
from musharaka.state import migrate
from musharaka.state.db import get_engine


@click.group()
def db() -> None:
    """The state database's schema: which revision it is at, and upgrading it.

    Example: musharaka db upgrade
    """


def _describe(state: migrate.Revision) -> dict[str, object]:
    return {"current": state.current, "head": state.head, "up_to_date": state.up_to_date}


@db.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def current(as_json: bool) -> None:
    """The database's schema revision and the one this version works with.

    Example: musharaka db current --json
    """
    state = migrate.revision(get_engine())
    if as_json:
        emit(_describe(state))
    else:
        click.echo(f"revision {state.current or 'none'} (this version works with {state.head})")


@db.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def check(as_json: bool) -> None:
    """Exit 0 when the database is at this version's revision, 1 when it needs `musharaka db upgrade`.

    Example: musharaka db check && musharaka advance --all
    """
    state = migrate.revision(get_engine())
    if as_json:
        emit(_describe(state))
    elif state.up_to_date:
        click.echo(f"up to date: revision {state.head}")
    else:
        click.echo(f"needs upgrade: revision {state.current or 'none'}, this version works with {state.head}", err=True)
    if not state.up_to_date:
        sys.exit(1)


@db.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def upgrade(as_json: bool) -> None:
    """Apply every migration the database lacks (back it up first); a no-op when it is up to date.

    Example: musharaka db upgrade
    """
    before, after = migrate.upgrade(get_engine())
    if as_json:
        emit({"before": before.current, "after": after.current, "head": after.head})
    elif before.current == after.current:
        click.echo(f"up to date: revision {after.current}")
    else:
        click.echo(f"upgraded: revision {before.current or 'none'} -> {after.current}")


COMMANDS = {"db": db}
