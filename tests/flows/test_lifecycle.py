"""A campaign driven through the CLI, from plan file to closed, as its team and approvers would."""

import itertools
import json
import re
from datetime import datetime

import pytest

from tests.conftest import Workspace
from tests.flows.samples import CAMPAIGN, CONTRIBUTIONS, DECISION, LESSONS


def status_of(ws: Workspace, campaign: str = CAMPAIGN) -> dict:  # type: ignore[type-arg]
    result = ws.run("status", "--json", now="2025-09-01T12:00+04:00")
    assert result.exit_code == 0, result.stderr
    return next(row for row in json.loads(result.output) if row["campaign"] == campaign)


def ok(ws: Workspace, *args: str, now: str) -> str:
    result = ws.run(*args, now=now)
    assert result.exit_code == 0, f"{args}: {result.output}{result.stderr}"
    return result.output


def to_conduct(ws: Workspace) -> None:
    ok(ws, "start", CAMPAIGN, now="2025-06-15T09:00+04:00")
    ok(ws, "approve", CAMPAIGN, "prepare", *ws.key("dg.planning"), "--comment", "go", now="2025-06-16T09:00+04:00")
    ok(ws, "approve", CAMPAIGN, "plan", *ws.key("dg.planning"), now="2025-06-17T09:00+04:00")


@pytest.mark.prefect
def test_campaign_runs_from_plan_file_to_closed(ws: Workspace) -> None:
    to_conduct(ws)
    row = status_of(ws)
    assert (row["stage"], row["status"]) == ("conduct", "waiting")

    contributions = ws.write("contributions.csv", CONTRIBUTIONS)
    ok(ws, "submit", CAMPAIGN, "conduct", str(contributions), now="2025-08-15T08:00+04:00")
    out = ok(ws, "advance", CAMPAIGN, now="2025-08-15T09:00+04:00")
    assert "conduct (attempt 1) awaiting-gate" in out
    ok(ws, "approve", CAMPAIGN, "conduct", *ws.key("dg.planning"), now="2025-08-16T09:00+04:00")
    assert "missing: analyse.decision" in status_of(ws)["detail"]

    ok(
        ws,
        "submit",
        CAMPAIGN,
        "analyse",
        str(ws.write("decision.yaml", DECISION)),
        now="2025-08-17T09:00+04:00",
    )
    ok(ws, "advance", "--all", now="2025-08-17T09:05+04:00")
    ok(ws, "approve", CAMPAIGN, "analyse", *ws.key("dg.planning"), now="2025-08-18T09:00+04:00")
    ok(ws, "approve", CAMPAIGN, "analyse", *ws.key("dir.digital"), now="2025-08-18T10:00+04:00")
    ok(ws, "approve", CAMPAIGN, "announce", *ws.key("dg.planning"), now="2025-08-19T09:00+04:00")
    ok(
        ws,
        "submit",
        CAMPAIGN,
        "evaluate",
        str(ws.write("lessons.yaml", LESSONS)),
        now="2025-08-25T09:00+04:00",
    )
    ok(ws, "advance", CAMPAIGN, now="2025-08-25T09:05+04:00")
    out = ok(ws, "approve", CAMPAIGN, "evaluate", *ws.key("dg.planning"), now="2025-08-26T09:00+04:00")
    assert f"{CAMPAIGN}: closed" in out
    assert status_of(ws)["status"] == "closed"

    history = json.loads(ok(ws, "history", CAMPAIGN, "--json", now="2025-09-01T12:00+04:00"))
    assert [e["seq"] for e in history] == list(range(1, len(history) + 1))
    assert all(e["prev_hash"] == p["hash"] for p, e in itertools.pairwise(history))
    completed = [e["payload"] for e in history if e["type"] == "stage.completed"]
    assert [p["stage"] for p in completed] == [
        "prepare",
        "plan",
        "conduct",
        "analyse",
        "announce",
        "evaluate",
    ]
    conduct = completed[2]["outputs"]
    assert conduct["total"] == 5 and conduct["by_audience"] == {
        "innovators": 1,
        "researchers": 1,
        "students": 3,
    }
    for document in completed[3]["documents"]:
        html = (ws.out / document["path"]).read_text(encoding="utf-8")
        assert ('dir="rtl"' in html) == (document["lang"] == "ar")
        assert "Simplify the document-upload step" in html or "تبسيط خطوة رفع المستندات" in html


@pytest.mark.prefect
def test_rejected_gate_sends_stage_back_for_rework(ws: Workspace) -> None:
    ok(ws, "start", CAMPAIGN, now="2025-06-15T09:00+04:00")
    ok(ws, "approve", CAMPAIGN, "prepare", *ws.key("dg.planning"), now="2025-06-16T09:00+04:00")
    out = ok(
        ws,
        "reject",
        CAMPAIGN,
        "plan",
        *ws.key("dg.planning"),
        "--reason",
        "budget missing",
        now="2025-06-17T09:00+04:00",
    )
    assert "plan (attempt 2) pending: rework: budget missing" in out
    plan_file = ws.plans / f"campaigns/{CAMPAIGN}.yaml"
    plan_file.write_text(plan_file.read_text(encoding="utf-8").replace("amount: 120", "amount: 180"), "utf-8")
    ok(ws, "advance", "--all", now="2025-06-18T09:00+04:00")
    row = status_of(ws)
    assert (row["stage"], row["attempt"], row["status"]) == ("plan", 2, "awaiting-gate")
    history = json.loads(ok(ws, "history", CAMPAIGN, "--json", now="2025-06-18T10:00+04:00"))
    types = [e["type"] for e in history]
    assert "plan.recorded" in types  # the reworked plan file is on the record
    budgets = [
        e["payload"]["outputs"]["budget_total"]
        for e in history
        if e["type"] == "stage.completed" and e["payload"]["stage"] == "plan"
    ]
    assert budgets == [420.0, 480.0]


@pytest.mark.prefect
def test_submitter_may_not_approve_their_own_stage(ws: Workspace) -> None:
    ok(ws, "start", CAMPAIGN, "--no-advance", now="2025-06-15T09:00+04:00")
    readiness = ws.write("readiness.yaml", "management_support: I sponsor it myself.\n")
    ok(ws, "submit", CAMPAIGN, "prepare", str(readiness), *ws.key("dg.planning"), now="2025-06-15T10:00+04:00")
    ok(ws, "advance", CAMPAIGN, now="2025-06-15T10:05+04:00")
    before = ws.run("history", CAMPAIGN, "--json").output

    result = ws.run("approve", CAMPAIGN, "prepare", *ws.key("dg.planning"), now="2025-06-15T11:00+04:00")
    assert result.exit_code == 1
    assert "dg.planning submitted the prepare stage and may not sign off its own gate" in result.stderr
    after = json.loads(ws.run("history", CAMPAIGN, "--json").output)
    [refusal] = after[len(json.loads(before)) :]
    assert (refusal["type"], refusal["payload"]["code"]) == ("gate.refused", "self-approval")
    assert status_of(ws)["gate"]["approvals"] == []


def require_two_for_prepare(ws: Workspace) -> None:
    plan_file = ws.plans / f"campaigns/{CAMPAIGN}.yaml"
    text = plan_file.read_text(encoding="utf-8")
    text = text.replace("gates:\n", "gates:\n  prepare:\n    roles: [dg-planning, director]\n    quorum: 2\n", 1)
    plan_file.write_text(text, encoding="utf-8")


@pytest.mark.prefect
def test_quorum_of_two_needs_two_different_approvers(ws: Workspace) -> None:
    require_two_for_prepare(ws)
    ok(ws, "start", CAMPAIGN, now="2025-06-15T09:00+04:00")
    out = ok(ws, "approve", CAMPAIGN, "prepare", *ws.key("dg.planning"), now="2025-06-15T10:00+04:00")
    assert "needs 2 of dg-planning|director; approved by dg.planning" in out
    assert status_of(ws)["stage"] == "prepare"

    again = ws.run("approve", CAMPAIGN, "prepare", *ws.key("dg.planning"), now="2025-06-15T10:30+04:00")
    assert again.exit_code == 1 and "already approved" in again.stderr

    ok(ws, "approve", CAMPAIGN, "prepare", *ws.key("dir.communication"), now="2025-06-15T11:00+04:00")
    row = status_of(ws)
    assert (row["stage"], row["gate"]["stage"]) == ("plan", "plan")


@pytest.mark.prefect
def test_reject_needs_a_reason(ws: Workspace) -> None:
    ok(ws, "start", CAMPAIGN, now="2025-06-15T09:00+04:00")
    result = ws.run("reject", CAMPAIGN, "prepare", *ws.key("dg.planning"), "--reason", "  ")
    assert result.exit_code == 1 and "to reject, give a reason" in result.stderr


@pytest.mark.prefect
def test_stage_missing_a_human_input_lists_exactly_what(ws: Workspace) -> None:
    plan_file = ws.plans / f"campaigns/{CAMPAIGN}.yaml"
    text = plan_file.read_text(encoding="utf-8")  # the answer goes, with the lines of its two languages
    plan_file.write_text(re.sub(r"\n( +)institutional_readiness:.*(\n\1 .*)*", "", text), encoding="utf-8")
    out = ok(ws, "start", CAMPAIGN, now="2025-06-15T09:00+04:00")
    assert "prepare (attempt 1) waiting for: prepare.readiness.institutional_readiness" in out
    assert "objective" not in status_of(ws)["detail"]
    answers = ws.write("readiness.yaml", "institutional_readiness: Two analysts, budget approved.\n")
    ok(ws, "submit", CAMPAIGN, "prepare", str(answers), now="2025-06-15T10:00+04:00")
    ok(ws, "advance", CAMPAIGN, now="2025-06-15T10:05+04:00")
    assert status_of(ws)["status"] == "awaiting-gate"


@pytest.mark.prefect
def test_bad_contribution_rows_are_quarantined_with_their_row_and_reason(ws: Workspace) -> None:
    to_conduct(ws)
    bad = CONTRIBUTIONS.replace("5,admission|scholarships,easy", "7,admission|library,easy")
    bad = bad.replace("2025-08-14T23:59:59+04:00", "2025-08-15T00:00:00+04:00")
    out = ok(ws, "submit", CAMPAIGN, "conduct", str(ws.write("c.csv", bad)), now="2025-08-15T08:00+04:00")
    assert "5 rows read = 3 stored + 2 quarantined + 0 duplicates" in out
    held = ok(ws, "contributions", CAMPAIGN, "--quarantined", now="2025-08-15T08:01+04:00")
    assert "c.csv:2: overall: expected a whole number from 1 to 5, found '7'" in held
    assert "c.csv:2: services-used: expected options among" in held and "['library']" in held
    assert "c.csv:6: submitted_at: expected a time inside the participation window 2025-07-06 to 2025-08-14" in held
    assert "2 row(s) quarantined" in held


@pytest.mark.prefect
def test_resubmitting_the_same_contributions_adds_nothing(ws: Workspace) -> None:
    to_conduct(ws)
    path = str(ws.write("c.csv", CONTRIBUTIONS))
    assert "5 rows read = 5 stored + 0 quarantined + 0 duplicates" in ok(
        ws, "submit", CAMPAIGN, "conduct", path, now="2025-08-15T08:00+04:00"
    )
    assert "5 rows read = 0 stored + 0 quarantined + 5 duplicates" in ok(
        ws, "submit", CAMPAIGN, "conduct", path, now="2025-08-15T08:01+04:00"
    )


def test_advance_all_with_nothing_started_says_so(ws: Workspace) -> None:
    result = ws.run("advance", "--all", now="2025-06-15T09:00+04:00")
    assert result.exit_code == 0 and "no campaign to advance" in result.output


def test_unknown_campaign_is_refused_with_the_known_ones(ws: Workspace) -> None:
    result = ws.run("start", "moheri-2025-q3-satisfactoin")
    assert result.exit_code == 1
    assert "no campaign plan has the id 'moheri-2025-q3-satisfactoin'" in result.stderr
    assert CAMPAIGN in result.stderr


@pytest.mark.prefect
def test_stage_runs_are_prefect_flow_runs_named_after_the_campaign(ws: Workspace) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    started = "2025-06-15T09:00:03+04:00"  # an instant no other test uses: the server is the session's
    ok(ws, "start", CAMPAIGN, now=started)
    with get_client(sync_client=True) as client:
        for name in (f"lifecycle-{CAMPAIGN}", f"prepare-{CAMPAIGN}"):
            # the newest first: the server answers 200 runs at most, and the session's holds more of this name
            found = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name])),
                sort=FlowRunSort.EXPECTED_START_TIME_DESC,
            )
            mine = [
                r for r in found if datetime.fromisoformat(str(r.parameters["now"])) == datetime.fromisoformat(started)
            ]
            assert [r.state_type.value for r in mine] == ["COMPLETED"], name
