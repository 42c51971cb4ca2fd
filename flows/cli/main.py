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
from musharaka.state.proven import forget_person

COMMAND_MODULES = {
    "musharaka.flows.cli.status": ("validate", "schema", "status"),
    "musharaka.flows.cli.campaigns": ("start", "advance", "submit", "history", "demo"),
    "musharaka.flows.cli.gates": ("approve", "reject", "extend", "sign", "decide", "review", "gates", "keys", "remind"),
    "musharaka.flows.cli.audit": ("audit", "replay", "state"),
    "musharaka.flows.cli.contributions": ("ingest", "contributions", "withdraw"),
    "musharaka.flows.cli.programme": ("un-evidence", "calendar", "pdf"),
    "musharaka.flows.cli.outcomes": ("follow-up", "decisions", "lessons", "kpis"),
    "musharaka.flows.cli.comms": ("comms",),
    "musharaka.flows.cli.db": ("db",),
    "musharaka.flows.cli.schedule": ("kickoff",),
    "musharaka.flows.cli.workspace": ("init",),
    "musharaka.flows.cli.people": ("people",),
    "musharaka.flows.cli.serve": ("serve",),
    "musharaka.flows.cli.risks": ("risks",),
    "musharaka.flows.cli.publish": ("publish",),
}
_MODULE_OF = {name: module for module, names in COMMAND_MODULES.items() for name in names}
# Each command's help as `musharaka --help` lists it (its first sentence, or enough of it for any width click
# gives the list): listing the commands then imports none of their modules. A test holds it to the commands.
SUMMARIES = {
    "advance": "Run campaigns as far as their gates allow (stops at open gates, missing inputs, open windows).",
    "approve": "Sign an approval of a stage's outputs; once the policy is met the next stage runs.",
    "audit": "Verify the log, file checkpoints, export bundles for auditors.",
    "calendar": "Export campaign windows and open gates' due dates as iCalendar, to import into any calendar.",
    "comms": "A campaign's communication plan: who is told what, on which channels, when; what is due and what",
    "contributions": "What a campaign collected: each ingestion's counts and whether it was withdrawn (by whom, when,",
    "db": "The state database's schema: which revision it is at, and upgrading it.",
    "decide": "Submit a decision signed with `musharaka sign`.",
    "decisions": "Every approved decision and how far it has been carried out.",
    "demo": "Replay the ministry's 2025 programme: plans, sample contributions, approvals, one rework.",
    "extend": "Sign an extension of the participation window (at conduct, while it runs or at its gate).",
    "follow-up": "Record an implementation update of a campaign's approved decision, and rewrite its \"you said,",
    "gates": "Gates with their policy, approvals so far, due date and who may decide.",
    "history": "A campaign's event log, oldest first: who did what, when, and the hash chain.",
    "ingest": "Ingest a tool's export of contributions: Google Forms CSV, Microsoft Forms XLSX, KoboToolbox",
    "init": "Lay out a workspace: the sample plans, var/ for the state, out/ for documents.",
    "keys": "Approvers' Ed25519 signing keys.",
    "kickoff": "Start the campaigns the programme plans for the current quarter that are not started yet, each",
    "kpis": "The ministry's half-yearly table (target, actual, gap) and the programme's status, from the",
    "lessons": "The lessons register: every approved evaluation's lessons and improvement proposals, with the",
    "pdf": "A4 PDFs of a campaign's recorded documents, Arabic and English, each checked against its digest",
    "people": "People of the registry (approvers.yaml) and their passkeys.",
    "publish": "Publish a closed campaign's results as open data: a Frictionless data package in FOLDER (CSV",
    "reject": "Sign a rejection with its reason; the stage runs again as a new attempt.",
    "remind": "Write each approver a digest of the gates they may decide, overdue ones first.",
    "replay": "The campaign as it stood at an instant, rebuilt from its events alone.",
    "review": "What an approver signs: the open gate, its outputs digest, and the documents to read first.",
    "schema": "Print the JSON Schema of a plan file, for editors that validate YAML as it is typed.",
    "serve": "Run the service: the web workspace, the API the CLI hands runs to, Prefect kept warm and the",
    "risks": "The campaign's risk register (likelihood, impact, owner, mitigation) and the risk signals raised from",
    "sign": "Sign a decision without recording it, for `musharaka decide` to submit later or elsewhere.",
    "start": "Start a campaign from its plan file and run it as far as its first gate.",
    "state": "The state database's projections.",
    "status": "Every campaign of the programme: stage, attempt, status, open gate and window.",
    "submit": "Submit what a person must supply for a stage: contributions CSV (conduct), readiness answers",
    "un-evidence": "Per UN level and sector: consultations held, decisions taken on them, outcomes published, and",
    "validate": "Check plan files (default: the plans folder); every problem as file:line:column: field: message.",
    "withdraw": "Withdraw an ingested batch (BATCH: its event number, as `contributions` lists it), signed,",
}


def _fail(message: str, code: int) -> NoReturn:
    from musharaka.state.settings import without_secrets

    click.echo(without_secrets(message), err=True)
    sys.exit(code)


def _words() -> Any:
    """The command's language's catalogue (the failure path only: a command's start does not read it)."""
    from musharaka.flows.cli.language import current
    from musharaka.stages.i18n import words

    return words(current())


def _explain(error: Exception) -> NoReturn:
    """An expected failure as a message and an exit code. The error types are imported here, on the
    failure path, so a command's start does not pay for the modules that define them."""
    from sqlalchemy.exc import SQLAlchemyError

    from musharaka.flows.engine.records import Refused
    from musharaka.flows.ingest.tools import UnreadableFile
    from musharaka.flows.planfiles.reading import PlanError
    from musharaka.state.events import ConcurrentWrite, OutOfOrder
    from musharaka.state.migrate import SchemaOutOfDate
    from musharaka.state.settings import SettingsError, get_settings, shown_url
    from musharaka.state.signing import KeyFileError

    # The engine's own detail stays as it wrote it (English), after the command's words in its language.
    t = _words()
    if isinstance(error, SettingsError):
        _fail(t.gettext("setting: %(detail)s") % {"detail": error}, 2)
    if isinstance(error, KeyFileError):
        _fail(t.gettext("key: %(detail)s") % {"detail": error}, 2)
    if isinstance(error, OutOfOrder):
        _fail(t.gettext("refused: %(detail)s") % {"detail": error}, 2)
    if isinstance(error, PlanError | UnreadableFile):
        for problem in error.problems:
            click.echo(str(problem), err=True)
        count = len(error.problems)
        _fail(
            t.ngettext("%(n)s problem; nothing was changed.", "%(n)s problems; nothing was changed.", count)
            % {"n": count},
            2,
        )
    if isinstance(error, Refused):
        _fail(_refusal(t, error.code, str(error)), 1)
    if isinstance(error, ConcurrentWrite | SchemaOutOfDate):
        _fail(t.gettext("refused: %(detail)s") % {"detail": error}, 1)
    if isinstance(error, SQLAlchemyError):
        detail = f"{error.__class__.__name__}: {str(error).splitlines()[0]}"
        _fail(
            t.gettext("database error (%(url)s): %(detail)s")
            % {"url": shown_url(get_settings().database_url), "detail": detail},
            1,
        )
    if get_settings().debug:
        raise error
    _fail(
        t.gettext(
            "error: %(detail)s\nThe command stopped; what it had not committed was rolled back. "
            "Run again with MUSHARAKA_DEBUG=1 for the technical detail."
        )
        % {"detail": f"{error.__class__.__name__}: {error}"},
        3,
    )


def _refusal(t: Any, code: str, detail: str) -> str:
    """A refusal: its code and the engine's detail; in Arabic, first what the code means for people."""
    from musharaka.flows.web.words import REFUSALS

    if code == "refused":
        return str(t.gettext("refused: %(detail)s") % {"detail": detail})
    line: str = t.gettext("refused (%(code)s): %(detail)s") % {"code": code, "detail": detail}
    meaning = REFUSALS.get(code)
    return f"{t.gettext(meaning)}\n{line}" if meaning and t.gettext(meaning) != meaning else line


class Cli(click.Group):
    """Loads each command from its module on first use; turns every expected failure into a message
    and an exit code, never a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_MODULE_OF)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The list of commands, from `SUMMARIES`: `--help` imports no command's module."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        with formatter.section("Commands"):
            # a stand-in command with the summary as its help: click shortens it as it would the real one's
            formatter.write_dl(
                [(name, click.Command(name, help=SUMMARIES[name]).get_short_help_str(limit)) for name in names]
            )

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
@click.option(
    "--lang",
    type=click.Choice(["en", "ar"]),
    default="en",
    envvar="MUSHARAKA_LANG",
    show_default=True,
    help="The language of messages and tables: en, or ar for Arabic (also MUSHARAKA_LANG).",
)
@click.pass_context
def main(ctx: click.Context, now_text: str | None, lang: str) -> None:
    """Musharaka: run e-participation campaigns from plan files through six approved stages."""
    ctx.meta["lang"] = lang
    ctx.obj = _now(now_text, ctx.invoked_subcommand)
    forget_person()  # a key proven by an earlier command of this process signs nothing of this one


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
