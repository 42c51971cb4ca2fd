"""`validate` is the contract: a gate policy nobody can meet is an error; what a stage will need that the
plan does not hold is a warning, and `--readiness` lists, per stage, what is still to write or submit."""

import re

import pytest

from tests.conftest import Workspace
from tests.flows.test_lifecycle import ok
from tests.flows.test_validate import SATISFACTION, edit, line_of, problems

ANALYSE_GATE = """  analyse:
    roles: [dg-planning, director]
    quorum: 2
"""


@pytest.mark.parametrize(
    ("policy", "reason"),
    [
        # dg-planning is held by dg.planning, director by dir.digital and dir.communication
        (
            "    roles: [dg-planning, director]\n    quorum: 4\n",
            "a quorum of 4 of dg-planning|director needs 4 different people, found 3 who hold those roles "
            "(dg.planning, dir.communication, dir.digital)",
        ),
        (
            "    roles: [director]\n    all_of: [legal, legal]\n",
            "all_of names legal 2 times, found 1 people who hold it (legal.advisor)",
        ),
        (
            "    roles: [dg-planning]\n    all_of: [dg-planning]\n",
            "its 2 seats need 2 different people, each holding a seat's role; the registry has too few",
        ),
    ],
)
def test_a_gate_policy_nobody_can_meet_is_an_error_at_the_gate(ws: Workspace, policy: str, reason: str) -> None:
    edit(ws, SATISFACTION, ANALYSE_GATE, "  analyse:\n" + policy)
    [found] = [p for p in problems(ws) if p["field"] == "gates.analyse"]
    assert int(found["line"]) == line_of(ws, SATISFACTION, "  analyse:") + 1
    assert found["message"] == f"expected a policy the people of approvers.yaml can meet, found that {reason}"


def test_an_absurd_quorum_is_refused_by_the_schema(ws: Workspace) -> None:
    edit(
        ws,
        SATISFACTION,
        ANALYSE_GATE,
        "  analyse:\n    roles: [dg-planning]\n    quorum: 1000000000000000000000000000000\n",
    )
    [found] = [p for p in problems(ws) if p["field"] == "gates.analyse.quorum"]
    assert "less than or equal to 50" in found["message"]


def test_validate_warns_of_what_the_plan_stage_will_lack_and_readiness_lists_it(ws: Workspace) -> None:
    path = ws.plans / SATISFACTION
    without = re.sub(r"^  slogan:.*\n(?:    .*\n)*", "", path.read_text(encoding="utf-8"), count=1, flags=re.M)
    path.write_text(without, encoding="utf-8")  # the slogan, with its Arabic and English lines
    edit(ws, SATISFACTION, "    institutional_readiness:", "    institutional_readiness_notes:")
    result = ws.run("validate", str(ws.plans))
    assert result.exit_code == 2  # an unknown key: the second edit is an error, not a warning
    edit(ws, SATISFACTION, "    institutional_readiness_notes:", "    institutional_readiness:")
    result = ws.run("validate", str(ws.plans))
    assert result.exit_code == 0, result.stderr
    [warning] = [line for line in result.stderr.splitlines() if "stops at" in line]
    assert warning == (
        f"warning: {ws.plans / SATISFACTION}: moheri-2025-q3-satisfaction stops at plan until 1 item(s) are "
        "written in the plan file (musharaka validate --readiness lists them)"
    )
    listed = ok(ws, "validate", str(ws.plans), "--readiness", now="2025-06-01T09:00+04:00")
    block = listed.split("moheri-2025-q3-satisfaction (")[1].split("\nmoheri-")[0].splitlines()[1:]
    assert block == [
        "  plan     plan.slogan: a slogan in Arabic and English (write it in the plan file)",
        "  conduct  contributions: an export of the answers from the tool that collected them "
        "(ingest an export: musharaka ingest moheri-2025-q3-satisfaction FILE)",
        "  analyse  analyse.decision: the decision taken on the analysis "
        "(submit: musharaka submit moheri-2025-q3-satisfaction analyse FILE)",
    ]
