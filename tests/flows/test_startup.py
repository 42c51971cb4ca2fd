"""A command loads only what it uses: `--help` and the read commands start without pandas (or Prefect)."""

import json
import subprocess
import sys

import pytest

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
