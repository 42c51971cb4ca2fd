"""Windows and programmes as they are: a window may run into the next quarter, and the programme lists the
campaign in each quarter it spans; a campaign whose window passed without it starting is "missed"."""

import json

from tests.conftest import Workspace
from tests.flows.test_lifecycle import ok
from tests.flows.test_validate import SATISFACTION, edit, problems

PROGRAMME = "programme-2025.yaml"
Q3_ENTRY = "  - {campaign: moheri-2025-q3-satisfaction, quarter: 2025-Q3}\n"


def test_a_window_into_the_next_quarter_is_listed_in_each_quarter_it_spans(ws: Workspace) -> None:
    edit(ws, SATISFACTION, "closes: 2025-08-14", "closes: 2025-10-15")
    [left_out] = [p for p in problems(ws) if p["file"].endswith(PROGRAMME)]
    assert (left_out["field"], left_out["message"]) == (
        "campaigns.2.quarter",
        "expected moheri-2025-q3-satisfaction listed in every quarter its window spans (2025-Q3, 2025-Q4), "
        "found it without 2025-Q4",
    )
    edit(ws, PROGRAMME, Q3_ENTRY, Q3_ENTRY + "  - {campaign: moheri-2025-q3-satisfaction, quarter: 2025-Q4}\n")
    assert ws.run("validate", str(ws.plans)).exit_code == 0
    edit(
        ws,
        PROGRAMME,
        "quarter: 2025-Q4}\n  - {campaign: moheri-2025-q3-video",
        "quarter: 2026-Q1}\n  - {campaign: moheri-2025-q3-video",
    )
    wrong = [p for p in problems(ws) if p["file"].endswith(PROGRAMME)]
    assert [p["message"] for p in wrong] == [
        "expected a quarter moheri-2025-q3-satisfaction's window spans (2025-Q3, 2025-Q4), found 2026-Q1",
        "expected moheri-2025-q3-satisfaction listed in every quarter its window spans (2025-Q3, 2025-Q4), "
        "found it without 2025-Q4",
    ]


def test_a_campaign_listed_twice_in_one_quarter_is_a_problem(ws: Workspace) -> None:
    edit(ws, PROGRAMME, Q3_ENTRY, Q3_ENTRY * 2)
    [twice] = [p for p in problems(ws) if p["file"].endswith(PROGRAMME)]
    assert (twice["field"], twice["message"]) == (
        "campaigns.3.quarter",
        "expected moheri-2025-q3-satisfaction listed once in 2025-Q3, found it listed again",
    )


def test_a_campaign_whose_window_passed_unstarted_is_missed_in_status_and_kpis(ws: Workspace) -> None:
    # on 1 July 2025 nothing has started: the chatbot poll's window closed on 20 February, the GPA poll's on
    # 30 June; the satisfaction survey's opens on 6 July
    rows = {r["campaign"]: r["status"] for r in json.loads(ok(ws, "status", "--json", now="2025-07-01T08:00+04:00"))}
    assert rows["moheri-2025-q1-chatbot-name"] == rows["moheri-2025-q2-gpa-poll"] == "missed"
    assert rows["moheri-2025-q3-satisfaction"] == "planned"
    table = ok(ws, "status", now="2025-07-01T08:00+04:00")
    assert [line.split()[4] for line in table.splitlines() if "moheri-2025-q1" in line] == ["missed"]
    report = json.loads(ok(ws, "kpis", "--period", "2025-H1", "--json", now="2025-07-01T08:00+04:00"))
    words = {line["campaign"]: line["status"] for line in report["status"]}
    assert words["moheri-2025-q1-chatbot-name"] == {
        "en": "missed: the window closed and the campaign never started",
        "ar": "فاتت: أُغلقت فترة المشاركة ولم تبدأ الحملة",
    }
    assert words["moheri-2025-q3-satisfaction"]["en"] == "planned"
