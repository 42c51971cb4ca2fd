"""A workspace is where a ministry's files live, never the installed code: `init`, the home, the version."""

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from click.testing import CliRunner

from musharaka.flows.cli.main import main
from musharaka.state.settings import get_settings, package_folder

SAMPLE_PLANS = {
    "approvers.yaml",
    "programme-2025.yaml",
    "campaigns/moheri-2025-q1-chatbot-name.yaml",
    "campaigns/moheri-2025-q2-gpa-poll.yaml",
    "campaigns/moheri-2025-q3-satisfaction.yaml",
    "campaigns/moheri-2025-q3-video-call.yaml",
    "campaigns/moheri-2025-q4-equivalency-dialogue.yaml",
    "campaigns/moheri-2025-q4-website-design.yaml",
}


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_init_lays_out_an_empty_folder_with_the_sample_plans(tmp_path: Path) -> None:
    home = tmp_path / "ministry"
    result = CliRunner().invoke(main, ["init", str(home)])
    assert result.exit_code == 0, result.output
    assert _files(home / "plans") == SAMPLE_PLANS  # the plans, not the package's own module file
    shipped = package_folder("musharaka.plans") / "campaigns" / "moheri-2025-q3-satisfaction.yaml"
    assert (home / "plans/campaigns/moheri-2025-q3-satisfaction.yaml").read_bytes() == shipped.read_bytes()
    assert "entrypoint: musharaka.flows.lifecycle.lifecycle" in (home / "prefect.yaml").read_text()
    assert (home / "var").is_dir() and (home / "out").is_dir()
    assert f"copied the sample plans into {home / 'plans'}" in result.output


def test_init_keeps_what_a_workspace_already_holds(tmp_path: Path) -> None:
    CliRunner().invoke(main, ["init", str(tmp_path)])
    edited = tmp_path / "plans" / "approvers.yaml"
    edited.write_text("# the ministry's own registry\n", encoding="utf-8")
    (tmp_path / "prefect.yaml").unlink()
    again = CliRunner().invoke(main, ["init", str(tmp_path)])
    assert again.exit_code == 0, again.output
    assert edited.read_text(encoding="utf-8") == "# the ministry's own registry\n"
    assert f"kept {tmp_path / 'plans'} as it is" in again.output
    assert f"wrote the Prefect deployments to {tmp_path / 'prefect.yaml'}" in again.output
    assert "made" not in again.output  # var/ and out/ were there


def test_init_refuses_a_file_where_the_folder_should_be(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("not a folder", encoding="utf-8")
    result = CliRunner().invoke(main, ["init", str(target)])
    assert result.exit_code == 2
    assert f"Directory {str(target)!r} is a file" in result.output
    assert target.read_text(encoding="utf-8") == "not a folder"


def test_the_home_is_the_folder_a_command_runs_in_unless_musharaka_home_says_otherwise(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSHARAKA_")}
    here = tmp_path / "here"
    here.mkdir()
    made = subprocess.run(
        [sys.executable, "-m", "musharaka.flows.cli", "init"], cwd=here, env=env, capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    assert (here / "plans" / "approvers.yaml").is_file()
    elsewhere = tmp_path / "elsewhere"
    named = subprocess.run(
        [sys.executable, "-m", "musharaka.flows.cli", "init"],
        cwd=here,
        env={**env, "MUSHARAKA_HOME": str(elsewhere)},
        capture_output=True,
        text=True,
    )
    assert named.returncode == 0, named.stderr
    assert (elsewhere / "plans" / "approvers.yaml").is_file()
    assert "workspace ready: musharaka validate" in named.stdout


def test_settings_anchor_every_path_at_the_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUSHARAKA_HOME", str(tmp_path))
    for name in ("MUSHARAKA_PLANS_DIR", "MUSHARAKA_OUTPUT_DIR", "MUSHARAKA_DATABASE_URL", "MUSHARAKA_ENGINE_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    try:
        settings = get_settings()
        assert settings.plans_dir == tmp_path / "plans"
        assert settings.output_dir == tmp_path / "out"
        assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'musharaka.db'}"
        assert settings.templates_dir == package_folder("musharaka.templates")
    finally:
        get_settings.cache_clear()


def test_version_is_the_installed_package_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"musharaka {version('musharaka')}\n"
