"""Identity is proven, never taken on a caller's word: `--as` needs the person's key, `--now` needs leave."""

import json

import pytest

from musharaka.state.db import session_scope
from musharaka.state.events import events_of
from tests.conftest import Workspace, forget_settings
from tests.flows.samples import CAMPAIGN, CONTRIBUTIONS
from tests.flows.test_lifecycle import ok, to_conduct

START = "2025-06-15T09:00+04:00"


@pytest.fixture
def no_leave(monkeypatch: pytest.MonkeyPatch) -> None:
    """A real workspace: MUSHARAKA_ALLOW_NOW is not set, as the test suite sets it for itself."""
    monkeypatch.setenv("MUSHARAKA_ALLOW_NOW", "0")
    forget_settings()


def started(ws: Workspace) -> bool:
    """Whether the first campaign of the programme has started (its status is then a stage's)."""
    return json.loads(ws.run("status", "--json").output)[0]["stage"] is not None


def actors(ws: Workspace, event_type: str) -> list[str]:
    return [e["actor"] for e in json.loads(ws.run("history", CAMPAIGN, "--json").output) if e["type"] == event_type]


def test_now_is_refused_without_the_setting_and_nothing_is_written(ws: Workspace, no_leave: None) -> None:
    result = ws.run("start", CAMPAIGN, "--no-advance", now="2031-01-01T09:00+04:00")
    assert result.exit_code == 2
    assert "refused: `start` does not take --now" in result.stderr
    assert "would lock out every real-time event" in result.stderr and "MUSHARAKA_ALLOW_NOW=1" in result.stderr
    assert not started(ws)  # no campaign was started, at 2031 or at all


def test_demo_and_replay_take_now_without_the_setting(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    ok(ws, "start", CAMPAIGN, "--no-advance", now=START)
    monkeypatch.setenv("MUSHARAKA_ALLOW_NOW", "0")
    forget_settings()
    replayed = ws.run("replay", CAMPAIGN, "--at", "2025-06-15T10:00+04:00", now="2025-06-15T10:00+04:00")
    assert replayed.exit_code == 0, replayed.stderr
    assert f"{CAMPAIGN} at 2025-06-15T06:00:00+00:00 (" in replayed.output
    # the time is taken before the command reads its options: `demo --help` shows the rule without the slow demo
    assert ws.run("demo", "--help", now=START).exit_code == 0
    assert ws.run("status", "--json", now=START).exit_code == 2


def test_as_without_a_key_is_refused_and_says_how_to_prove_it(ws: Workspace) -> None:
    result = ws.run("start", CAMPAIGN, "--as", "dir.digital", "--no-advance", now=START)
    assert result.exit_code == 1
    assert "refused (unproven-identity): --as dir.digital is not proven: give --key" in result.stderr
    assert "or leave out --as to act as the plan's owner (planning.team)" in result.stderr
    assert not started(ws)


def test_someone_elses_key_does_not_prove_who_acts(ws: Workspace) -> None:
    result = ws.run(
        "start", CAMPAIGN, "--as", "dir.digital", "--key", str(ws.keys["dg.planning"]), "--no-advance", now=START
    )
    assert result.exit_code == 1
    assert "refused (unproven-identity): the key" in result.stderr
    assert "is not one of dir.digital's keys in the approvers registry" in result.stderr
    assert not started(ws)


def test_a_person_the_registry_does_not_know_cannot_be_proven(ws: Workspace) -> None:
    result = ws.run("start", CAMPAIGN, "--as", "nobody", "--key", str(ws.keys["dg.planning"]), now=START)
    assert result.exit_code == 1
    assert "'nobody' is not in the approvers registry" in result.stderr
    assert not started(ws)


def test_a_key_not_yet_in_force_does_not_prove_who_acts(ws: Workspace) -> None:
    result = ws.run("start", CAMPAIGN, *ws.key("dir.digital"), "--no-advance", now="2024-12-31T09:00+04:00")
    assert result.exit_code == 1
    assert "key dir.digital-1 of dir.digital is not in force at 2024-12-31T05:00:00+00:00" in result.stderr
    assert not started(ws)


def test_a_key_without_as_is_a_usage_error(ws: Workspace) -> None:
    result = ws.run("start", CAMPAIGN, "--key", str(ws.keys["dir.digital"]), now=START)
    assert result.exit_code == 2 and "--key proves who --as names: give --as with it" in result.stderr
    assert not started(ws)


def test_start_is_recorded_as_the_person_whose_key_proves_it(ws: Workspace) -> None:
    ok(ws, "start", CAMPAIGN, *ws.key("dir.digital"), "--no-advance", now=START)
    assert actors(ws, "campaign.started") == ["dir.digital"]


def test_without_as_the_plans_owner_acts(ws: Workspace) -> None:
    ok(ws, "start", CAMPAIGN, "--no-advance", now=START)
    assert actors(ws, "campaign.started") == ["planning.team"]


def test_submit_names_its_author_only_with_their_key(ws: Workspace) -> None:
    ok(ws, "start", CAMPAIGN, "--no-advance", now=START)
    answers = str(ws.write("readiness.yaml", "management_support: I sponsor it myself.\n"))
    unproven = ws.run("submit", CAMPAIGN, "prepare", answers, "--as", "dg.planning", now="2025-06-15T10:00+04:00")
    assert unproven.exit_code == 1 and "--as dg.planning is not proven" in unproven.stderr
    assert actors(ws, "submission.recorded") == []
    ok(ws, "submit", CAMPAIGN, "prepare", answers, *ws.key("dg.planning"), now="2025-06-15T10:01+04:00")
    assert actors(ws, "submission.recorded") == ["dg.planning"]


@pytest.mark.prefect
def test_ingest_names_its_author_only_with_their_key(ws: Workspace) -> None:
    to_conduct(ws)
    path = str(ws.write("c.csv", CONTRIBUTIONS))
    someone_else = ["--as", "dg.planning", "--key", str(ws.keys["dir.digital"])]
    wrong = ws.run("ingest", CAMPAIGN, path, *someone_else, now="2025-08-15T08:00+04:00")
    assert wrong.exit_code == 1 and "is not one of dg.planning's keys" in wrong.stderr
    assert actors(ws, "contributions.ingested") == []
    ok(ws, "ingest", CAMPAIGN, path, *ws.key("dg.planning"), now="2025-08-15T08:01+04:00")
    assert actors(ws, "contributions.ingested") == ["dg.planning"]


def test_follow_up_names_its_reporter_only_with_their_key(ws: Workspace) -> None:
    ok(ws, "start", CAMPAIGN, "--no-advance", now=START)
    unproven = ws.run("follow-up", CAMPAIGN, "--status", "planned", "--as", "dir.digital", now=START)
    assert unproven.exit_code == 1 and "--as dir.digital is not proven" in unproven.stderr


def test_an_invitation_is_recorded_as_the_administrator_only_with_their_key(ws: Workspace) -> None:
    refused = ws.run("people", "invite", "dg.planning", *ws.key("dir.digital"))
    assert refused.exit_code == 1 and "dir.digital is not an administrator" in refused.stderr
    unproven = ws.run("people", "invite", "dg.planning", "--as", "it.administrator")
    assert unproven.exit_code == 1 and "--as it.administrator is not proven" in unproven.stderr
    for who in (ws.key("it.administrator"), []):
        done = ws.run("people", "invite", "dg.planning", *who)
        assert done.exit_code == 0, done.stderr
    with session_scope() as session:
        invited = [(e.actor, e.type) for e in events_of("_registry", session=session)]
    # the registry holding the administrator's key is recorded first, so that their signature can be checked
    assert invited == [
        ("engine", "registry.recorded"),
        ("it.administrator", "person.invited"),
        ("operator", "person.invited"),
    ]
