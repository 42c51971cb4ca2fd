"""The record stays honest: who submitted what, when things happened, what evidence a gate saw."""

import json
import os
import re
import subprocess
from datetime import datetime

import pytest

from musharaka.flows.engine import records, runs
from musharaka.state.db import session_scope
from musharaka.state.settings import get_settings
from tests.conftest import Workspace
from tests.flows.prefect_server import MUSHARAKA, free_port
from tests.flows.samples import CAMPAIGN, CONTRIBUTIONS

GPA = "moheri-2025-q2-gpa-poll"


def ok(ws: Workspace, *args: str, now: str) -> str:
    result = ws.run(*args, now=now)
    assert result.exit_code == 0, f"{args}: {result.output}{result.stderr}"
    return result.output


@pytest.mark.prefect
def test_a_late_submission_makes_its_author_the_submitter(ws: Workspace) -> None:
    plan = ws.plans / f"campaigns/{CAMPAIGN}.yaml"
    text = plan.read_text(encoding="utf-8")  # the answer goes, with the lines of its two languages
    plan.write_text(re.sub(r"\n( +)institutional_readiness:.*(\n\1 .*)*", "", text), encoding="utf-8")
    ok(ws, "start", CAMPAIGN, now="2025-06-15T09:00+04:00")  # prepare fails: an answer is missing
    answers = ws.write("answers.yaml", "institutional_readiness: ready\n")
    ok(ws, "submit", CAMPAIGN, "prepare", str(answers), *ws.key("dg.planning"), now="2025-06-15T10:00+04:00")
    ok(ws, "advance", CAMPAIGN, now="2025-06-15T10:05+04:00")
    result = ws.approve(CAMPAIGN, "prepare", "dg.planning", now="2025-06-15T11:00+04:00")
    assert result.exit_code == 1 and "dg.planning submitted the prepare stage" in result.stderr


def to_conduct(ws: Workspace) -> None:
    ok(ws, "start", CAMPAIGN, now="2025-06-15T09:00+04:00")
    ws.approve(CAMPAIGN, "prepare", "dg.planning", now="2025-06-16T09:00+04:00")
    ws.approve(CAMPAIGN, "plan", "dg.planning", now="2025-06-17T09:00+04:00")


@pytest.mark.prefect
def test_whoever_submits_the_contributions_answers_for_conduct(ws: Workspace) -> None:
    to_conduct(ws)
    path = str(ws.write("c.csv", CONTRIBUTIONS))
    ok(ws, "submit", CAMPAIGN, "conduct", path, *ws.key("dg.planning"), now="2025-08-15T08:00+04:00")
    ok(ws, "advance", CAMPAIGN, now="2025-08-15T09:00+04:00")
    result = ws.approve(CAMPAIGN, "conduct", "dg.planning", now="2025-08-16T09:00+04:00")
    assert result.exit_code == 1 and "dg.planning submitted the conduct stage" in result.stderr


@pytest.mark.prefect
def test_no_contributions_are_taken_while_the_conduct_gate_reviews_them(ws: Workspace) -> None:
    to_conduct(ws)
    ok(ws, "submit", CAMPAIGN, "conduct", str(ws.write("c.csv", CONTRIBUTIONS)), now="2025-08-15T08:00+04:00")
    ok(ws, "advance", CAMPAIGN, now="2025-08-15T09:00+04:00")
    more = CONTRIBUTIONS.replace("2025-07-06T00:00:00+04:00", "2025-07-06T00:00:01+04:00")
    result = ws.run("submit", CAMPAIGN, "conduct", str(ws.write("more.csv", more)), now="2025-08-15T10:00+04:00")
    assert result.exit_code == 1 and "the conduct gate of" in result.stderr and "extend the window" in result.stderr


@pytest.mark.prefect
def test_the_window_cannot_be_moved_by_editing_the_plan_once_conduct_began(ws: Workspace) -> None:
    to_conduct(ws)
    plan = ws.plans / f"campaigns/{CAMPAIGN}.yaml"
    plan.write_text(plan.read_text(encoding="utf-8").replace("closes: 2025-08-14", "closes: 2025-09-30"), "utf-8")
    result = ws.run("advance", CAMPAIGN, now="2025-08-15T09:00+04:00")
    assert result.exit_code == 1 and "moves only by a signed extension" in result.stderr
    late = CONTRIBUTIONS.replace("2025-08-14T23:59:59+04:00", "2025-09-01T10:00:00+04:00")
    taken = ws.run("submit", CAMPAIGN, "conduct", str(ws.write("late.csv", late)), now="2025-09-02T08:00+04:00")
    assert taken.exit_code == 0 and "5 rows read = 4 stored + 1 quarantined" in taken.output
    held = ws.run("contributions", CAMPAIGN, "--quarantined").output
    assert "late.csv:6: submitted_at: expected a time inside the participation window 2025-07-06 to 2025-08-14" in held


@pytest.mark.prefect
def test_an_event_cannot_be_dated_before_the_last_one(ws: Workspace) -> None:
    ok(ws, "start", CAMPAIGN, now="2025-06-17T09:00+04:00")
    result = ws.approve(CAMPAIGN, "prepare", "dg.planning", now="2025-06-16T12:00+04:00")
    assert result.exit_code == 2 and "cannot be dated earlier" in result.stderr


@pytest.mark.prefect
def test_a_stage_run_that_died_midway_is_picked_up_again(ws: Workspace) -> None:
    ok(ws, "start", CAMPAIGN, "--no-advance", now="2025-06-15T09:00+04:00")
    plans = records.load_plan_set()
    with session_scope() as session:  # a run that recorded its start and then died
        job = runs.begin_stage(CAMPAIGN, plans, now=datetime.fromisoformat("2025-06-15T09:01+04:00"), session=session)
        assert job is not None
    out = ok(ws, "advance", CAMPAIGN, now="2025-06-15T09:30+04:00")
    assert "prepare (attempt 1) awaiting-gate" in out


@pytest.mark.prefect
def test_non_numbers_in_number_answers_are_quarantined(ws: Workspace) -> None:
    to_conduct(ws)
    bad = CONTRIBUTIONS.replace("students,5,", "students,nan,", 1)
    result = ws.run("submit", CAMPAIGN, "conduct", str(ws.write("nan.csv", bad)), now="2025-08-15T08:00+04:00")
    assert result.exit_code == 0 and "5 rows read = 4 stored + 1 quarantined" in result.output
    held = ws.run("contributions", CAMPAIGN, "--quarantined").output
    assert "nan.csv:2: overall: expected a number, found 'nan'" in held


def test_an_unsupported_yaml_version_is_a_located_problem(ws: Workspace) -> None:
    (ws.plans / "campaigns/odd.yaml").write_text("%YAML 1.3\n---\nid: x\n", encoding="utf-8")
    result = ws.run("validate", str(ws.plans))
    assert result.exit_code == 2 and "odd.yaml:1:1: (yaml): expected valid YAML" in result.stderr


@pytest.mark.prefect
def test_documents_of_two_databases_never_overwrite_each_other(ws: Workspace) -> None:
    ok(ws, "start", CAMPAIGN, now="2025-06-15T09:00+04:00")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MUSHARAKA_DATABASE_URL", f"sqlite:///{ws.root / 'other.db'}")
        get_settings.cache_clear()
        ok(ws, "start", CAMPAIGN, now="2025-07-01T09:00+04:00")  # same output folder, other content
    get_settings.cache_clear()
    result = ws.run("audit", "verify")
    assert result.exit_code == 0, result.stderr
    assert len(list((ws.out / CAMPAIGN).glob("prepare-1.en.*.html"))) == 2


@pytest.mark.prefect
def test_a_refused_decision_is_recorded_by_the_engine_not_its_claimed_author(ws: Workspace) -> None:
    ok(ws, "start", CAMPAIGN, now="2025-06-15T09:00+04:00")
    ws.run(
        "approve",
        CAMPAIGN,
        "prepare",
        "--as",
        "dg.planning",
        "--key",
        str(ws.keys["legal.advisor"]),
        now="2025-06-15T10:00+04:00",
    )
    last = json.loads(ws.run("history", CAMPAIGN, "--json").output)[-1]
    assert (last["type"], last["actor"], last["payload"]["approver"]) == ("gate.refused", "engine", "dg.planning")


def test_a_decision_naming_an_audience_the_plan_lacks_is_refused_at_submission(ws: Workspace) -> None:
    ok(ws, "start", CAMPAIGN, "--no-advance", now="2025-06-15T09:00+04:00")
    decision = ws.write(
        "d.yaml",
        "summary: {ar: ق, en: D}\nrationale: {ar: م, en: R}\nnot_adopted: {ar: ل, en: N}\n"
        "based_on_contributions: true\nimpact:\n  - {audience: researchrs, impact: faster}\n",
    )
    result = ws.run("submit", CAMPAIGN, "analyse", str(decision), now="2025-06-15T10:00+04:00")
    assert result.exit_code == 2
    assert "d.yaml:6:" in result.stderr and "impact.0.audience" in result.stderr
    assert "did you mean 'researchers'?" in result.stderr


def test_a_mistyped_campaign_id_gets_a_suggestion(ws: Workspace) -> None:
    ok(ws, "start", CAMPAIGN, "--no-advance", now="2025-06-15T09:00+04:00")
    result = ws.run("history", "moheri-2025-q3-satisfacton")
    assert result.exit_code == 1 and f"did you mean '{CAMPAIGN}'?" in result.stderr


@pytest.mark.prefect
def test_a_shortened_digest_is_refused_before_signing(ws: Workspace) -> None:
    ok(ws, "start", CAMPAIGN, now="2025-06-15T09:00+04:00")
    result = ws.approve(CAMPAIGN, "prepare", "dg.planning", "--digest", "476e81265add", now="2025-06-15T10:00+04:00")
    assert result.exit_code == 2 and "the full 64-character outputs digest" in result.stderr


def test_a_file_that_is_not_a_checkpoint_is_a_bad_argument(ws: Workspace) -> None:
    ok(ws, "start", CAMPAIGN, "--no-advance", now="2025-06-15T09:00+04:00")
    result = ws.run("audit", "verify", "--checkpoint", str(ws.write("x.json", "{}")), *ws.engine())
    assert result.exit_code == 2 and "expected a checkpoint written by `musharaka audit checkpoint`" in result.stderr


@pytest.mark.prefect
def test_an_approval_stands_when_the_next_stage_cannot_start(ws: Workspace) -> None:
    to_conduct(ws)
    ok(ws, "submit", CAMPAIGN, "conduct", str(ws.write("c.csv", CONTRIBUTIONS)), now="2025-08-15T08:00+04:00")
    ok(ws, "advance", CAMPAIGN, now="2025-08-15T09:00+04:00")
    plan = ws.plans / f"campaigns/{CAMPAIGN}.yaml"
    plan.write_text(plan.read_text(encoding="utf-8").replace("closes: 2025-08-14", "closes: 2025-09-30"), "utf-8")
    result = ws.approve(CAMPAIGN, "conduct", "dg.planning", now="2025-08-16T09:00+04:00")
    assert result.exit_code == 0, result.stderr
    assert "gate passed" in result.output
    assert "the decision is recorded, but the next stage did not run" in result.stderr
    assert "moves only by a signed extension" in result.stderr


@pytest.mark.prefect
def test_an_approval_stands_when_the_prefect_server_does_not_take_the_next_stage(ws: Workspace) -> None:
    ok(ws, "start", CAMPAIGN, now="2025-06-15T09:00+04:00")
    # a Prefect server configured but not answering, as a busy one answering 503 after every retry
    env = {
        **os.environ,
        **ws.env(),
        "PREFECT_API_URL": f"http://127.0.0.1:{free_port()}/api",
        "PREFECT_CLIENT_MAX_RETRIES": "0",
        "MUSHARAKA_RUN_FLOWS_HERE": "0",  # runs go to that server's workers, as a deployment's would
    }
    argv = [MUSHARAKA, "--now", "2025-06-16T09:00+04:00", "approve", CAMPAIGN, "prepare", *ws.key("dg.planning")]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "gate passed" in done.stdout
    assert "the decision is recorded, but the next stage did not run" in done.stderr
    assert f"musharaka advance {CAMPAIGN}" in done.stderr and "rolled back" not in done.stderr
    assert json.loads(ws.run("history", CAMPAIGN, "--json").output)[-1]["type"] == "gate.decided"


def test_a_second_run_of_a_stage_another_run_finished_ends_as_done_and_records_nothing(ws: Workspace) -> None:
    from musharaka.flows.lifecycle import FINISHED_ELSEWHERE, record_outcome

    # an approval's run and the advance sweep can both pick the campaign up and run the same stage
    ok(ws, "start", CAMPAIGN, "--no-advance", now="2025-06-15T09:00+04:00")
    plans = records.load_plan_set()
    now = datetime.fromisoformat("2025-06-15T09:01+04:00")
    with session_scope() as session:
        first = runs.begin_stage(CAMPAIGN, plans, now=now, session=session)
    with session_scope() as session:
        second = runs.begin_stage(CAMPAIGN, plans, now=now, session=session)
    assert first is not None and second is not None and (first.stage, first.attempt) == (second.stage, second.attempt)
    outcome = runs.run_stage_function(first, now)
    assert record_outcome.fn(first, outcome, [], now) == "awaiting-gate"
    assert record_outcome.fn(second, runs.run_stage_function(second, now), [], now) == FINISHED_ELSEWHERE
    history = json.loads(ws.run("history", CAMPAIGN, "--json").output)
    assert [e["type"] for e in history].count("stage.completed") == 1
    assert [e["type"] for e in history].count("gate.opened") == 1
