"""A command loads only what it uses: `--help` and the read commands start without pandas (or Prefect)."""

import json
import subprocess
import sys

import click
import pytest

from musharaka.flows.cli import main
from tests.conftest import Workspace

# runs the command as `musharaka` does, then says which of the heavy libraries the process had loaded
LOADED = """
import json, sys
from musharaka.flows.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(name for name in ("pandas", "numpy", "prefect") if name in sys.modules)))
"""


def loaded_by(*argv: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", LOADED, *argv], capture_output=True, text=True, timeout=120)
    last: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return last


def test_help_loads_neither_pandas_nor_prefect() -> None:
    assert loaded_by("--help") == []


@pytest.mark.parametrize(
    "argv",
    [("status",), ("status", "--json"), ("gates",), ("decisions",), ("lessons",), ("history", "no-such-campaign")],
    ids=" ".join,
)
def test_a_read_command_loads_neither_pandas_nor_prefect(ws: Workspace, argv: tuple[str, ...]) -> None:
    assert loaded_by(*argv) == []


@pytest.mark.parametrize("width", [50, 65, 78])  # click gives the list 50 to 78 columns
def test_help_lists_each_command_as_its_own_help_says(width: int) -> None:
    # the list `--help` prints from main.SUMMARIES, against click's own, which imports every command
    ours, clicks = click.HelpFormatter(width=width), click.HelpFormatter(width=width)
    context = click.Context(main.main)
    main.main.format_commands(context, ours)
    click.Group.format_commands(main.main, context, clicks)
    assert ours.getvalue() == clicks.getvalue()
    assert set(main.SUMMARIES) == {name for names in main.COMMAND_MODULES.values() for name in names}
