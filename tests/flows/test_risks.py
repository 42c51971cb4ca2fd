"""The risk register end to end: located plan errors, `musharaka risks` in both languages, the register in the
conduct gate's documents with the low-turnout signal raised.

The satisfaction survey's sample contributions (tests/flows/samples.py) are 5, of which 3 came before
mid-window (26 July 2025, 00:00 Muscat time): 3 of the 400 the KPI targets is 0.75%, below 50%.
"""

import json

import pytest

from musharaka.flows.engine.campaigns import plan_json
from tests.conftest import Workspace
from tests.flows.samples import CAMPAIGN, CONTRIBUTIONS
from tests.flows.test_lifecycle import ok, to_conduct
from tests.flows.test_outcomes import closed_without_or_with_lessons, evaluate_document
from tests.flows.test_validate import SATISFACTION, edit, line_of, problems
from tests.stages.plans_fixture import SATISFACTION as SURVEY
from tests.stages.plans_fixture import changed

RAISED_EN = (
    "3 contributions by mid-window (26 July 2025, 00:00 (Oman Time)): 1% of the target of 400; "
    "the signal is raised below 50%."
)


def collected(ws: Workspace) -> None:
    """The satisfaction survey at conduct, its 5 sample contributions submitted after the window closed."""
    to_conduct(ws)
    sample = ws.write("contributions.csv", CONTRIBUTIONS)
    ok(ws, "submit", CAMPAIGN, "conduct", str(sample), now="2025-08-15T08:00+04:00")


def check_of(ws: Workspace, kind: str) -> dict[str, object]:
    """The register's check of `kind`, as `musharaka risks --json` gives it."""
    found = json.loads(ok(ws, "risks", CAMPAIGN, "--json", now="2025-08-15T10:00+04:00"))
    return next(c["check"] for c in found["checks"] if c["check"]["kind"] == kind)  # type: ignore[no-any-return]


def test_a_risk_owner_missing_from_the_registry_is_located_in_the_plan_file(ws: Workspace) -> None:
    edit(ws, SATISFACTION, "    owner: dir.communication\n", "    owner: dir.comunication\n")
    [problem] = problems(ws)
    assert problem["field"] == "risks.1.owner"
    assert int(problem["line"]) == line_of(ws, SATISFACTION, "owner: dir.comunication")
    assert "did you mean 'dir.communication'?" in problem["message"] and "'dir.comunication'" in problem["message"]


def test_a_likelihood_off_the_scale_is_located_in_the_plan_file(ws: Workspace) -> None:
    edit(ws, SATISFACTION, "    likelihood: 2\n", "    likelihood: 7\n")
    [problem] = problems(ws)
    assert problem["field"] == "risks.1.likelihood"
    assert int(problem["line"]) == line_of(ws, SATISFACTION, "likelihood: 7")
    assert "less than or equal to 5" in problem["message"]


@pytest.mark.prefect
def test_the_conduct_gate_shows_the_register_with_low_turnout_raised(ws: Workspace) -> None:
    collected(ws)
    ok(ws, "advance", CAMPAIGN, now="2025-08-15T09:00+04:00")

    history = json.loads(ok(ws, "history", CAMPAIGN, "--json", now="2025-08-15T10:00+04:00"))
    conduct = next(e for e in history if e["type"] == "stage.completed" and e["payload"]["stage"] == "conduct")
    pages = {d["lang"]: (ws.out / d["path"]).read_text(encoding="utf-8") for d in conduct["payload"]["documents"]}
    assert "Risk register" in pages["en"] and "سجل المخاطر" in pages["ar"]
    assert "Participation below the target" in pages["en"] and RAISED_EN in pages["en"]
    assert "بلغت المساهمات في منتصف فترة المشاركة" in pages["ar"]

    text = ok(ws, "risks", CAMPAIGN, now="2025-08-15T10:00+04:00")
    assert "! low-turnout" in text and RAISED_EN in text  # the planned risk marked, its signal's figures
    arabic = ok(ws, "--lang", "ar", "risks", CAMPAIGN, now="2025-08-15T10:00+04:00")
    assert "سجل مخاطر" in arabic and "مرفوعة" in arabic

    turnout = check_of(ws, "low-turnout")
    assert (turnout["state"], turnout["count"], turnout["base"], turnout["share"]) == ("raised", 3, 400, 0.0075)
    # 5 contributions, 3 from students: 60%, and too few (5 of the 20 needed) to judge anyway
    dominance = check_of(ws, "unrepresentative")
    assert (dominance["state"], dominance["base"]) == ("pending", 5)


@pytest.mark.prefect
def test_a_withdrawn_batch_no_longer_counts_towards_the_signals(ws: Workspace) -> None:
    collected(ws)
    turnout = check_of(ws, "low-turnout")
    assert (turnout["state"], turnout["count"]) == ("raised", 3)
    [batch] = json.loads(ok(ws, "contributions", CAMPAIGN, "--json", now="2025-08-15T09:00+04:00"))
    reason = ("--reason", "The export was of a draft form")
    ok(ws, "withdraw", CAMPAIGN, str(batch["batch"]), *reason, *ws.key("planning.team"), now="2025-08-15T09:30+04:00")
    turnout = check_of(ws, "low-turnout")
    assert (turnout["state"], turnout["count"]) == ("raised", 0)  # 0 of 400 by mid-window


@pytest.mark.prefect
def test_the_evaluation_records_the_register_with_the_announcement_in_time(ws: Workspace) -> None:
    closed_without_or_with_lessons(ws, "h1-a", None)
    history = json.loads(ok(ws, "history", "h1-a", "--json", now="2025-02-01T09:00+04:00"))
    evaluated = next(
        e["payload"] for e in history if e["type"] == "stage.completed" and e["payload"]["stage"] == "evaluate"
    )
    checks = {c["kind"]: c for c in evaluated["outputs"]["risks"]["checks"]}
    # decision approved 21 January 12:00, announcement 22 January 09:00 (Muscat): 21 hours, 21 / 24 = 0.875 days
    assert (checks["no-feedback"]["state"], checks["no-feedback"]["days"]) == ("clear", 0.875)
    # all 5 sample contributions dated 5 January, before mid-window (12 January 20:00 UTC): 5 / 400 = 1.25%
    assert (checks["low-turnout"]["state"], checks["low-turnout"]["count"]) == ("raised", 5)
    # the plan's risks by score: low turnout 3 x 3 = 9 before no feedback 2 x 4 = 8
    assert [r["id"] for r in evaluated["outputs"]["risks"]["risks"]] == ["low-turnout", "no-feedback"]
    english = evaluate_document(ws, "h1-a", "en")
    assert "Announced 0.9 days after the decision, within 14 days." in english


def test_a_plan_naming_no_risks_is_recorded_as_before_the_register_existed() -> None:
    bare = changed(SURVEY, risks=[], risk_signals=None)
    assert not {"risks", "risk_signals"} & set(plan_json(bare))  # so a plan recorded then keeps its digest
    assert {"risks", "risk_signals"} <= set(plan_json(changed(SURVEY, risk_signals={"turnout": 0.4})))
