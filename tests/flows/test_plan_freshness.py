"""The plan cache's freshness check: a plan file is read again only when its stat says it may have changed, and a
file changed within the filesystem's timestamp tick of being read is never believed on its stat."""

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from musharaka.flows.planfiles import loading

PLAN = "id: survey-2025\ntitle: a plan\n"


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The files the check opens, by name; what it remembered of earlier files forgotten."""
    opened: list[str] = []

    def counting(path: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        opened.append(os.path.basename(path))
        return open(path, mode, *args, **kwargs)

    monkeypatch.setattr(loading, "open", counting, raising=False)
    monkeypatch.setattr(loading, "_SEEN", {})
    yield opened


def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written a moment ago count as settled: as if they had changed more than two seconds before."""
    monkeypatch.setattr(loading, "_SETTLED_NS", -(10**12))


def test_a_settled_unchanged_file_is_not_read_again(
    tmp_path: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settled(monkeypatch)
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    first = loading._files_key([plan])
    assert reads.count("plan.yaml") == 1
    assert loading._files_key([plan]) == first
    assert reads.count("plan.yaml") == 1  # the second check took the file on its stat


def test_an_edit_of_the_same_size_with_its_time_set_back_is_seen(
    tmp_path: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settled(monkeypatch)
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    before = plan.stat()
    first = loading._files_key([plan])
    time.sleep(0.05)  # past the filesystem's timestamp tick (this test's file counts as settled)
    plan.write_text(PLAN.replace("a plan", "A plan"), encoding="utf-8")  # the same size
    os.utime(plan, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same modification time
    assert plan.stat().st_size == before.st_size
    assert loading._files_key([plan]) != first  # its change time moved on: read again
    assert reads.count("plan.yaml") == 2


def test_a_file_changed_just_now_is_read_on_every_check(tmp_path: Path, reads: list[str]) -> None:
    """Within the timestamp tick, a same-size edit may leave every time as it was: such a file is not believed."""
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    first = loading._files_key([plan])
    loading._files_key([plan])
    assert reads.count("plan.yaml") == 2
    plan.write_text(PLAN.replace("a plan", "A plan"), encoding="utf-8")
    assert loading._files_key([plan]) != first


def test_a_touched_file_is_read_again_and_keeps_its_key(
    tmp_path: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settled(monkeypatch)
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    first = loading._files_key([plan])
    os.utime(plan, ns=(1_000_000_000, 1_000_000_000))
    assert loading._files_key([plan]) == first  # the same bytes
    assert reads.count("plan.yaml") == 2


def test_a_link_pointed_elsewhere_changes_the_key(
    tmp_path: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settled(monkeypatch)
    (tmp_path / "one.yaml").write_text(PLAN, encoding="utf-8")
    (tmp_path / "two.yaml").write_text(PLAN, encoding="utf-8")  # the same bytes in another file
    link = tmp_path / "plan.yaml"
    link.symlink_to(tmp_path / "one.yaml")
    first = loading._files_key([link])
    link.unlink()
    link.symlink_to(tmp_path / "two.yaml")
    assert loading._files_key([link]) != first  # the file read is another, named as such


def test_a_folders_files_are_keyed_as_each_resolved_alone(tmp_path: Path, reads: list[str]) -> None:
    """The folder is resolved once for all its files: the key names each file as `Path.resolve` does."""
    (tmp_path / "real").mkdir()
    (tmp_path / "via").symlink_to(tmp_path / "real")
    plan = tmp_path / "via" / "plan.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    assert loading._resolved(plan, {})[0] == str(plan.resolve()) == str(tmp_path / "real" / "plan.yaml")


def test_a_missing_file_gives_no_key(tmp_path: Path, reads: list[str]) -> None:
    assert loading._files_key([tmp_path / "gone.yaml"]) == ""
