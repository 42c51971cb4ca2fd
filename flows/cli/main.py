"""The `musharaka` command: a thin layer over the engine, the flows and the state.

Exit codes: 0 done; 1 refused (not allowed, or not possible in the campaign's state); 2 bad input
(plan files, submitted files, arguments); 3 an unexpected failure. No command prints a traceback.

A command's module is imported only when that command runs, so `status` does not pay for pandas,
Prefect or the PDF renderer that other commands need.
"""

import gc
import importlib
import sys
from datetime import UTC, datetime
from typing import Any, NoReturn

import click

from musharaka.flows.cli.common import parse_instant

COMMAND_MODULES = {
    "musharaka.flows.cli.status": ("validate", "schema", "status"),
    "musharaka.flows.cli.campaigns": ("start", "advance", "submit", "history", "demo"),
    "musharaka.flows.cli.gates": ("approve", "reject", "extend", "sign", "decide", "review", "gates", "keys", "remind"),
    "musharaka.flows.cli.audit": ("audit", "replay", "state"),
    "musharaka.flows.cli.contributions": ("ingest", "contributions"),
    "musharaka.flows.cli.programme": ("un-evidence", "calendar", "pdf"),
    "musharaka.flows.cli.outcomes": ("follow-up", "decisions", "lessons", "kpis"),
    "musharaka.flows.cli.db": ("db",),
    "musharaka.flows.cli.schedule": ("kickoff",),
    "musharaka.flows.cli.workspace": ("init",),
    "musharaka.flows.cli.people": ("people",),
    "musharaka.flows.cli.serve": ("serve",),
}
_MODULE_OF = {name: module for module, names in COMMAND_MODULES.items() for name in names}


def _fail(message: str, code: int) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


def _explain(error: Exception) -> NoReturn:
    """An expected failure as a message and an exit code. The error types are imported here, on the
    failure path, so a command's start does not pay for the modules that define them."""
    from sqlalchemy.exc import SQLAlchemyError

    from musharaka.flows.engine.records import Refused
    from musharaka.flows.ingest.sources import UnreadableFile
    from musharaka.flows.planfiles.reading import PlanError
    from musharaka.state.events import ConcurrentWrite, OutOfOrder
    from musharaka.state.migrate import SchemaOutOfDate
    from musharaka.state.settings import SettingsError, get_settings
    from musharaka.state.signing import KeyFileError

    if isinstance(error, SettingsError):
        _fail(f"setting: {error}", 2)
    if isinstance(error, KeyFileError):
        _fail(f"key: {error}", 2)
    if isinstance(error, OutOfOrder):
        _fail(f"refused: {error}", 2)
    if isinstance(error, PlanError | UnreadableFile):
        for problem in error.problems:
            click.echo(str(problem), err=True)
        _fail(f"{len(error.problems)} problem(s); nothing was changed.", 2)
    if isinstance(error, Refused):
        code = f" ({error.code})" if error.code != "refused" else ""
        _fail(f"refused{code}: {error}", 1)
    if isinstance(error, ConcurrentWrite | SchemaOutOfDate):
        _fail(f"refused: {error}", 1)
    if isinstance(error, SQLAlchemyError):
        _fail(
            f"database error ({get_settings().database_url}): {error.__class__.__name__}: {str(error).splitlines()[0]}",
            1,
        )
    if get_settings().debug:
        raise error
    _fail(
        f"error: {error.__class__.__name__}: {error}\n"
        "The command stopped; what it had not committed was rolled back. "
        "Run again with MUSHARAKA_DEBUG=1 for the technical detail.",
        3,
    )


class Cli(click.Group):
    """Loads each command from its module on first use; turns every expected failure into a message
    and an exit code, never a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_MODULE_OF)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = _MODULE_OF.get(cmd_name)
        if module is None:
            return None
        command: click.Command = importlib.import_module(module).COMMANDS[cmd_name]
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        resolved = super().resolve_command(ctx, args)
        # The command's modules are in: collect garbage as usual from here on, but never walk the
        # imported objects again (a full pass over them costs tens of milliseconds).
        if _start_up:
            _start_up.clear()
            gc.freeze()
            gc.enable()
        return resolved

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except BrokenPipeError:  # the reader (say, `| head`) has what it wanted
            sys.stderr.close()
            sys.exit(0)
        except Exception as error:
            _explain(error)


# They act on a calendar of their own (the demo's 2025, replay's `--at`): a moved clock cannot date a
# live campaign's events ahead of the real ones.
TAKE_NOW = ("demo", "replay")


def _now(value: str | None, command: str | None) -> datetime:
    """The instant the command acts at: the clock, or `--now` where it is allowed (for replaying a schedule)."""
    if value is None:
        return datetime.now(UTC)
    from musharaka.state.settings import get_settings  # only on this path: `status` starts without it

    if command not in TAKE_NOW and not get_settings().allow_now:
        _fail(
            f"refused: `{command}` does not take --now: a campaign's events are kept in time order, so one dated "
            "ahead of the clock would lock out every real-time event after it; only `demo` and `replay` take "
            "--now, or any command in a rehearsal workspace that sets MUSHARAKA_ALLOW_NOW=1",
            2,
        )
    return parse_instant(value)


@click.group(cls=Cli)
@click.version_option(package_name="musharaka", message="musharaka %(version)s")
@click.option(
    "--now",
    "now_text",
    metavar="ISO-TIME",
    help="Act as at this instant (default: the clock); taken only by demo and replay, or with MUSHARAKA_ALLOW_NOW=1.",
)
@click.pass_context
def main(ctx: click.Context, now_text: str | None) -> None:
    """Musharaka: run e-participation campaigns from plan files through six approved stages."""
    ctx.obj = _now(now_text, ctx.invoked_subcommand)


_start_up: list[bool] = []


def run() -> None:
    """The console command: `main`, with a start-up and an exit fit for a short-lived process."""
    # Nothing is garbage while modules import: the cyclic collector would only walk them (~10% of
    # start-up). It is back on once the command is resolved.
    _start_up.append(True)
    gc.disable()
    try:
        main()
    finally:
        # Exiting: spare the interpreter's last sweep over everything the command made (~0.1 s).
        gc.freeze()


if __name__ == "__main__":
    run()
