"""The suite's own rules: nothing is written outside a test's temporary folders, and what a machine lacks is
skipped, or failed where MUSHARAKA_TEST_REQUIRE_ALL=1 says everything must run."""

from pathlib import Path

import pytest

from musharaka.state.settings import get_settings
from tests.conftest import SESSION_HOME, Workspace, require

REPOSITORY = Path(__file__).resolve().parents[1]


def test_a_test_without_a_workspace_works_in_the_session_home_not_the_repository_or_current_folder() -> None:
    home = get_settings().home
    assert home == Path(SESSION_HOME)
    assert not home.is_relative_to(REPOSITORY) and home != Path.cwd()


def test_a_workspace_is_the_tests_own_home_with_its_var_folder(ws: Workspace, tmp_path: Path) -> None:
    settings = get_settings()
    assert settings.home == ws.root == tmp_path
    assert settings.pseudonym_key_file == tmp_path / "var" / "pseudonym.key"
    assert settings.plans_dir == ws.plans and (ws.plans / "approvers.yaml").is_file()
    assert not (ws.plans / "__init__.py").exists()  # the sample plans, without the package's module file


def test_what_is_missing_skips_the_test_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MUSHARAKA_TEST_REQUIRE_ALL", raising=False)
    require(True, "never said")
    with pytest.raises(pytest.skip.Exception, match="needs a thing"):
        require(False, "needs a thing")


def test_what_is_missing_fails_the_test_when_everything_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUSHARAKA_TEST_REQUIRE_ALL", "1")
    require(True, "never said")
    with pytest.raises(pytest.fail.Exception, match="needs a thing"):
        require(False, "needs a thing")
