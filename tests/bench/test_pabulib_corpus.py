"""The corpus check reads a git mirror as it reads a folder, and says why a file's selection is not its rule's."""

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import require

REPOSITORY = Path(__file__).resolve().parents[2]
RECORDED = REPOSITORY / "tests" / "data" / "pabulib"
FILES = ["Poland_Gdynia_2020_Babie_Doly__small.pb", "Poland_Wroclaw_2017_Rejon_nr_11_750.pb"]


def corpus_check() -> ModuleType:
    """bench/ is a folder of scripts, not a package: load the script as a module."""
    spec = importlib.util.spec_from_file_location("pabulib_corpus", REPOSITORY / "bench" / "pabulib_corpus.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bare_mirror(tmp_path: Path) -> Path:
    """A bare git repository holding the files under pb_files/, as the pabulib_files mirror does."""
    require(shutil.which("git") is not None, "needs git")
    work = tmp_path / "work"
    (work / "pb_files").mkdir(parents=True)
    for name in FILES:
        shutil.copy(RECORDED / name, work / "pb_files" / name)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-C", str(work)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "pb files"], check=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(tmp_path / "mirror.git")], check=True)
    return tmp_path / "mirror.git"


@pytest.mark.parametrize("source", ["git", "folder"])
def test_each_file_is_checked_and_its_exceptions_diagnosed_from_a_git_mirror_or_a_folder(
    source: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if source == "git":
        corpus = bare_mirror(tmp_path)
    else:
        corpus = tmp_path / "files"
        corpus.mkdir()
        for name in FILES:
            shutil.copy(RECORDED / name, corpus / name)
    out = tmp_path / "results.json"
    assert corpus_check().main([str(corpus), "--json", str(out)]) == 0
    results = {r["file"]: r for r in json.loads(out.read_text(encoding="utf-8"))}
    # Gdynia 2020 Babie Doły: no-skip funds 4, 2 and 1 (22395 of 24420); the city also funded 5 (5995), tied
    # with 1 at 101 votes, and marked it 2: equal under the rule, with 5 funded outside it
    gdynia = results["Poland_Gdynia_2020_Babie_Doly__small.pb"]
    assert gdynia["equal"] and gdynia["outside"] == ["5"]
    assert "official outcome exceeds the budget (31595 of 24420)" in gdynia["diagnosis"]
    assert any("selected=2" in d and "tie at the last place with 1 (101)" in d for d in gdynia["diagnosis"])
    # Wrocław 2017 Rejon 11 (750): project 150, withdrawn, is passed over and 425 funded as the city did
    wroclaw = results["Poland_Wroclaw_2017_Rejon_nr_11_750.pb"]
    assert wroclaw["equal"] and wroclaw["withdrawn"] == ["150"]
    printed = capsys.readouterr().out
    assert "| greedy-no-skip | approval | 1 / 1 |" in printed and "| greedy-no-skip | choose-1 | 1 / 1 |" in printed
    assert "2 of 2 files equal" in printed
