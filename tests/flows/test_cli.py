"""The command line as a whole: every command loads on demand, settings errors are named, plan files
are read once per edit."""

import json
import os
import subprocess
import sys

import pytest

from musharaka.flows.cli import main
from musharaka.flows.planfiles import loading
from tests.conftest import Workspace
from tests.flows.samples import CAMPAIGN

SATISFACTION = "campaigns/moheri-2025-q3-satisfaction.yaml"


def test_every_command_is_listed_and_found_in_the_module_that_defines_it() -> None:
    import importlib

    for module, names in main.COMMAND_MODULES.items():
        assert set(importlib.import_module(module).COMMANDS) == set(names), module
    listed = main.main.list_commands(None)  # type: ignore[arg-type]
    assert len(listed) == len(set(listed)) == sum(len(n) for n in main.COMMAND_MODULES.values())


def test_help_lists_every_command(ws: Workspace) -> None:
    result = ws.run("--help")
    assert result.exit_code == 0
    for names in main.COMMAND_MODULES.values():
        for name in names:
            assert f"\n  {name} " in result.output


def test_an_unknown_command_is_a_usage_error(ws: Workspace) -> None:
    result = ws.run("statuss")
    assert result.exit_code == 2 and "No such command 'statuss'" in result.stderr


def test_status_starts_without_the_analysis_and_orchestration_libraries(ws: Workspace) -> None:
    # `status` is the command people run most; pandas, Prefect and Alembic would triple its start-up
    assert ws.run("status").exit_code == 0  # the first command migrates the empty database: Alembic's turn
    probe = (
        "import sys; from musharaka.flows.cli.main import run; sys.argv = ['musharaka', 'status', '--json']\n"
        "try:\n    run()\nexcept SystemExit as done:\n    assert not done.code, done.code\n"
        "print(sorted(m for m in ('pandas', 'prefect', 'alembic', 'weasyprint') if m in sys.modules), file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=os.environ.copy())
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "[]"
    assert json.loads(result.stdout)[0]["status"] == "missed"  # the 2025 windows passed, nothing started


def test_a_setting_that_cannot_be_read_is_named_and_nothing_runs(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from musharaka.state.settings import get_settings

    monkeypatch.setenv("MUSHARAKA_DEBUG", "maybe")
    get_settings.cache_clear()
    result = ws.run("start", CAMPAIGN, "--no-advance", now="2025-06-15T09:00+04:00")
    assert result.exit_code == 2
    assert "setting: MUSHARAKA_DEBUG: input should be a valid boolean" in result.stderr
    assert "'maybe'" in result.stderr
    monkeypatch.delenv("MUSHARAKA_DEBUG")
    get_settings.cache_clear()
    assert json.loads(ws.run("status", "--json").output)[0]["stage"] is None  # nothing was started


def _forget_this_process() -> None:
    loading._LOADED.clear()  # the next load is the first of a new command
    loading._CHECKED.clear()


def test_plans_read_from_the_cache_are_the_plans_in_the_files(ws: Workspace) -> None:
    _forget_this_process()
    loading._cache_file().unlink(missing_ok=True)
    fresh, problems = loading.load_plans([ws.plans])
    assert loading._cache_file().exists() and problems == []
    _forget_this_process()
    cached, again = loading.load_plans([ws.plans])
    assert cached == fresh and again == []


def test_an_edited_plan_is_read_again(ws: Workspace) -> None:
    _forget_this_process()
    loading.load_plans([ws.plans])
    path = ws.plans / SATISFACTION
    path.write_text(path.read_text(encoding="utf-8").replace("quorum: 2", "quorum: 1", 1), encoding="utf-8")
    _forget_this_process()
    plans, _ = loading.load_plans([ws.plans])
    assert plans.campaigns[CAMPAIGN].gates.analyse is not None
    assert plans.campaigns[CAMPAIGN].gates.analyse.quorum == 1


def test_problems_are_reported_alike_on_every_read_and_a_damaged_cache_is_ignored(ws: Workspace) -> None:
    path = ws.plans / SATISFACTION
    path.write_text(path.read_text(encoding="utf-8").replace("quorum: 2", "quorum: two", 1), encoding="utf-8")
    _forget_this_process()
    first = ws.run("validate", str(ws.plans))
    _forget_this_process()
    second = ws.run("validate", str(ws.plans))
    assert first.exit_code == second.exit_code == 2
    assert first.stderr == second.stderr and "gates.analyse.quorum" in first.stderr
    assert not loading._cache_file().exists()  # plans with problems are never kept
    loading._cache_file().parent.mkdir(parents=True, exist_ok=True)
    loading._cache_file().write_text("{not json", encoding="utf-8")
    _forget_this_process()
    third = ws.run("validate", str(ws.plans))
    assert third.exit_code == 2 and third.stderr == first.stderr
