"""After the campaign, through the CLI: decision follow-up, the decisions list, and the half-year's KPIs."""

import json
from datetime import date
from pathlib import Path

import pytest

from musharaka.stages.programme import quarters_spanned
from tests.conftest import Workspace
from tests.flows.samples import CAMPAIGN, CONTRIBUTIONS, DECISION, LESSONS
from tests.flows.test_lifecycle import ok

pytestmark = pytest.mark.prefect  # runs flows on Prefect's server

SOURCE = f"campaigns/{CAMPAIGN}.yaml"


def add_campaign(ws: Workspace, campaign: str, quarter: str, opens: str, closes: str) -> None:
    """A copy of the satisfaction survey's plan under another id and window, listed in the programme in each
    quarter the window spans."""
    text = (ws.plans / SOURCE).read_text(encoding="utf-8")
    text = text.replace(f"id: {CAMPAIGN}", f"id: {campaign}").replace("quarter: 2025-Q3", f"quarter: {quarter}")
    text = text.replace("opens: 2025-07-06", f"opens: {opens}").replace("closes: 2025-08-14", f"closes: {closes}")
    (ws.plans / f"campaigns/{campaign}.yaml").write_text(text, encoding="utf-8")
    programme = ws.plans / "programme-2025.yaml"
    programme.write_text(
        programme.read_text(encoding="utf-8").replace(
            "campaigns:\n",
            "campaigns:\n"
            + "".join(
                f"  - {{campaign: {campaign}, quarter: {q}}}\n"
                for q in quarters_spanned(date.fromisoformat(opens), date.fromisoformat(closes))
            ),
            1,
        ),
        encoding="utf-8",
    )


def contributions_between(ws: Workspace, campaign: str, day: str) -> Path:
    """The sample contributions, all dated on `day`."""
    header, *rows = CONTRIBUTIONS.splitlines()
    dated = [f"{day}T10:00:00+04:00," + row.split(",", 1)[1] for row in rows]
    return ws.write(f"{campaign}.csv", "\n".join([header, *dated]) + "\n")


def to_analysed(ws: Workspace, campaign: str, opens: str, closes: str) -> None:
    """Start the campaign and take it through conduct and analyse, with signed approvals, in its window."""
    ok(ws, "start", campaign, now=f"{opens}T08:00+04:00")
    ok(ws, "approve", campaign, "prepare", *ws.key("dg.planning"), now=f"{opens}T08:30+04:00")
    ok(ws, "approve", campaign, "plan", *ws.key("dg.planning"), now=f"{opens}T08:40+04:00")
    ok(ws, "submit", campaign, "conduct", str(contributions_between(ws, campaign, opens)), now=f"{opens}T11:00+04:00")
    after = f"{closes[:8]}{int(closes[8:]) + 1:02d}"
    ok(ws, "advance", campaign, now=f"{after}T08:00+04:00")
    ok(ws, "approve", campaign, "conduct", *ws.key("dg.planning"), now=f"{after}T09:00+04:00")
    ok(ws, "submit", campaign, "analyse", str(ws.write("decision.yaml", DECISION)), now=f"{after}T10:00+04:00")
    ok(ws, "advance", campaign, now=f"{after}T10:05+04:00")
    ok(ws, "approve", campaign, "analyse", *ws.key("dg.planning"), now=f"{after}T11:00+04:00")
    ok(ws, "approve", campaign, "analyse", *ws.key("dir.digital"), now=f"{after}T12:00+04:00")


def kpis(ws: Workspace, period: str, now: str) -> dict:  # type: ignore[type-arg]
    return json.loads(ok(ws, "kpis", "--period", period, "--json", now=now))  # type: ignore[no-any-return]


def figures(report: dict) -> list[tuple[str, str, str]]:  # type: ignore[type-arg]
    return [(k["target_text"], k["actual_text"], k["gap_text"]) for k in report["indicators"]]


def test_half_year_gives_the_ministrys_own_figures(ws: Workspace) -> None:
    windows = {
        "h1-a": ("2025-Q1", "2025-01-05", "2025-01-20"),
        "h1-b": ("2025-Q1", "2025-02-02", "2025-02-20"),
        "h1-c": ("2025-Q2", "2025-04-06", "2025-04-24"),
        "h1-d": ("2025-Q2", "2025-05-04", "2025-08-20"),  # still open when the half-year ends
        "h1-e": ("2025-Q2", "2025-06-01", "2025-09-10"),  # still open when the half-year ends
    }
    for campaign, (quarter, opens, closes) in windows.items():
        add_campaign(ws, campaign, quarter, opens, closes)
    for campaign in ("h1-a", "h1-b", "h1-c"):
        _, opens, closes = windows[campaign]
        to_analysed(ws, campaign, opens, closes)
        after = f"{closes[:8]}{int(closes[8:]) + 2:02d}"
        ok(ws, "approve", campaign, "announce", *ws.key("dg.planning"), now=f"{after}T09:00+04:00")
        ok(ws, "follow-up", campaign, "--status", "implemented", "--note", "done", now=f"{after}T10:00+04:00")
    for campaign in ("h1-d", "h1-e"):
        ok(ws, "start", campaign, now=f"{windows[campaign][1]}T08:00+04:00")

    report = kpis(ws, "2025-H1", now="2025-07-01T08:00+04:00")

    assert figures(report) == [("5", "3", "2"), ("90%", "100%", "—"), ("100%", "100%", "0%")]
    assert report["indicators"][0]["campaigns"] == ["h1-a", "h1-b", "h1-c"]
    status = {line["campaign"]: line["status"]["en"] for line in report["status"]}
    assert status["h1-a"] == "done, results published"
    assert status["h1-d"] == "in preparation"
    assert status[CAMPAIGN] == "planned"
    # the same table from the kpi-report flow, in both languages
    ok(ws, "kpis", "--period", "2025-H1", "--html", now="2025-07-01T08:00+04:00")
    arabic = (ws.out / "kpis/2025-H1.ar.html").read_text(encoding="utf-8")
    english = (ws.out / "kpis/2025-H1.en.html").read_text(encoding="utf-8")
    assert 'dir="rtl"' in arabic and "عدد الاستبيانات وجلسات التشاور المنفذة" in arabic
    assert "Surveys and consultation sessions carried out" in english and "done, results published" in english
    for cells in ('<bdi dir="ltr">90%</bdi></td><td class="num"><bdi dir="ltr">100%</bdi>',):
        assert cells in english


def test_a_decision_not_yet_implemented_lowers_the_share(ws: Workspace) -> None:
    add_campaign(ws, "h1-a", "2025-Q1", "2025-01-05", "2025-01-20")
    to_analysed(ws, "h1-a", "2025-01-05", "2025-01-20")
    ok(
        ws,
        "follow-up",
        "h1-a",
        "--status",
        "in-progress",
        "--percent",
        "40",
        "--note",
        "designs",
        now="2025-02-01T09:00+04:00",
    )
    assert figures(kpis(ws, "2025-H1", now="2025-07-01T08:00+04:00"))[1:] == [
        ("90%", "0%", "90%"),
        ("100%", "0%", "100%"),
    ]

    # implemented after the half-year ended: H1's figures stay as they were
    ok(
        ws,
        "follow-up",
        "h1-a",
        "--status",
        "implemented",
        "--evidence",
        "https://moheri.gov.om/n/1",
        now="2025-07-02T09:00+04:00",
    )
    assert figures(kpis(ws, "2025-H1", now="2025-07-03T08:00+04:00"))[1] == ("90%", "0%", "90%")
    listed = json.loads(ok(ws, "decisions", "--campaign", "h1-a", "--json", now="2025-07-03T08:00+04:00"))
    assert [(u["status"], u["percent"]) for u in listed[0]["updates"]] == [("in-progress", 40), ("implemented", 100)]
    page = (ws.out / "h1-a/you-said-we-did.en.html").read_text(encoding="utf-8")
    assert "https://moheri.gov.om/n/1" in page and "Simplify the document-upload step" in page
    assert 'dir="rtl"' in (ws.out / "h1-a/you-said-we-did.ar.html").read_text(encoding="utf-8")


def test_follow_up_is_refused_before_the_decision_is_approved(ws: Workspace) -> None:
    add_campaign(ws, "h1-a", "2025-Q1", "2025-01-05", "2025-01-20")
    ok(ws, "start", "h1-a", now="2025-01-05T08:00+04:00")
    early = ws.run("follow-up", "h1-a", "--status", "planned", now="2025-01-06T08:00+04:00")
    assert early.exit_code == 1 and "no approved decision" in early.stderr
    types = [e["type"] for e in json.loads(ok(ws, "history", "h1-a", "--json", now="2025-01-06T08:00+04:00"))]
    assert "decision.updated" not in types


def test_rebuild_and_replay_reproduce_the_follow_up(ws: Workspace) -> None:
    add_campaign(ws, "h1-a", "2025-Q1", "2025-01-05", "2025-01-20")
    to_analysed(ws, "h1-a", "2025-01-05", "2025-01-20")
    ok(ws, "follow-up", "h1-a", "--status", "in-progress", "--percent", "40", now="2025-02-01T09:00+04:00")
    ok(ws, "follow-up", "h1-a", "--status", "implemented", now="2025-03-01T09:00+04:00")
    before = ok(ws, "decisions", "--json", now="2025-03-02T09:00+04:00")
    ok(ws, "state", "rebuild", now="2025-03-02T09:00+04:00")
    assert ok(ws, "decisions", "--json", now="2025-03-02T09:00+04:00") == before
    then = json.loads(
        ok(ws, "replay", "h1-a", "--at", "2025-02-15T00:00+04:00", "--json", now="2025-03-02T09:00+04:00")
    )
    assert [(u["status"], u["percent"]) for u in then["decision_updates"]] == [("in-progress", 40)]


def test_follow_up_rules_after_the_decision(ws: Workspace) -> None:
    add_campaign(ws, "h1-a", "2025-Q1", "2025-01-05", "2025-01-20")
    to_analysed(ws, "h1-a", "2025-01-05", "2025-01-20")
    now = "2025-02-01T09:00+04:00"
    history = lambda: len(json.loads(ok(ws, "history", "h1-a", "--json", now=now)))  # noqa: E731
    before = history()
    for args, message in (
        (["--status", "in-progress", "--percent", "140"], "from 0 to 100, found 140"),
        (["--status", "in-progress"], "expected how far the work is"),
        (["--status", "dropped"], "reason the decision was dropped"),
        (["--status", "planned", "--evidence", "not a link"], "http(s) link"),
    ):
        result = ws.run("follow-up", "h1-a", *args, now=now)
        assert result.exit_code == 2 and message in result.output + result.stderr, args
    assert history() == before
    ok(ws, "follow-up", "h1-a", "--status", "dropped", "--note", "superseded by the national portal", now=now)
    late = ws.run("follow-up", "h1-a", "--status", "implemented", now="2025-02-02T09:00+04:00")
    assert late.exit_code == 1 and "already dropped" in late.stderr
    assert history() == before + 1
    shown = ok(ws, "decisions", now=now)
    assert "h1-a" in shown and "dropped" in shown and "superseded by the national portal" in shown


def closed_without_or_with_lessons(ws: Workspace, campaign: str, lessons: str | None) -> None:
    add_campaign(ws, campaign, "2025-Q1", "2025-01-05", "2025-01-20")
    to_analysed(ws, campaign, "2025-01-05", "2025-01-20")
    if lessons is not None:  # written while the announcement is reviewed; the evaluation runs on approval
        ok(ws, "submit", campaign, "evaluate", str(ws.write("lessons.yaml", lessons)), now="2025-01-22T08:00+04:00")
    ok(ws, "approve", campaign, "announce", *ws.key("dg.planning"), now="2025-01-22T09:00+04:00")
    ok(ws, "approve", campaign, "evaluate", *ws.key("dg.planning"), now="2025-01-24T09:00+04:00")


def evaluate_document(ws: Workspace, campaign: str, lang: str) -> str:
    history = json.loads(ok(ws, "history", campaign, "--json", now="2025-02-01T09:00+04:00"))
    done = [e["payload"] for e in history if e["type"] == "stage.completed" and e["payload"]["stage"] == "evaluate"]
    path = next(d["path"] for d in done[-1]["documents"] if d["lang"] == lang)
    return (ws.out / path).read_text(encoding="utf-8")


def test_evaluation_without_answers_completes_and_marks_the_gaps(ws: Workspace) -> None:
    closed_without_or_with_lessons(ws, "h1-a", None)
    english = evaluate_document(ws, "h1-a", "en")
    assert "Questions still unanswered" in english and "Not answered yet" in english
    assert "Did contributions influence the decision: Yes" in english
    assert json.loads(ok(ws, "lessons", "--json", now="2025-02-01T09:00+04:00")) == []


def test_lessons_of_an_approved_evaluation_can_be_cited_by_a_later_plan(ws: Workspace) -> None:
    closed_without_or_with_lessons(ws, "h1-a", LESSONS)
    assert "Questions still unanswered" not in evaluate_document(ws, "h1-a", "en")
    register = json.loads(ok(ws, "lessons", "--json", now="2025-02-01T09:00+04:00"))
    assert [(e["id"], e["text"]) for e in register] == [
        ("h1-a.improvement-1", {"en": "Add an SMS channel for parents."}),  # written in English only
        ("h1-a.lesson-1", {"en": "Avoid the examination period."}),
    ]
    add_campaign(ws, "h1-b", "2025-Q2", "2025-04-06", "2025-04-24")
    plan_file = ws.plans / "campaigns/h1-b.yaml"
    text = plan_file.read_text(encoding="utf-8")
    plan_file.write_text(text.replace("\nplan:\n", "\nplan:\n  cites_lessons: [h1-a.lesson-2]\n", 1), "utf-8")
    refused = ws.run("start", "h1-b", now="2025-04-01T09:00+04:00")
    assert refused.exit_code == 1 and "found 'h1-a.lesson-2'" in refused.stderr
    plan_file.write_text(text.replace("\nplan:\n", "\nplan:\n  cites_lessons: [h1-a.lesson-1]\n", 1), "utf-8")
    ok(ws, "start", "h1-b", now="2025-04-01T09:00+04:00")
    ok(ws, "approve", "h1-b", "prepare", *ws.key("dg.planning"), now="2025-04-01T09:30+04:00")
    history = json.loads(ok(ws, "history", "h1-b", "--json", now="2025-04-01T10:00+04:00"))
    plan_done = next(
        e["payload"] for e in history if e["type"] == "stage.completed" and e["payload"]["stage"] == "plan"
    )
    assert plan_done["outputs"]["cited_lessons"] == {"h1-a.lesson-1": {"en": "Avoid the examination period."}}
    english = next(d["path"] for d in plan_done["documents"] if d["lang"] == "en")
    assert "Avoid the examination period." in (ws.out / english).read_text(encoding="utf-8")
