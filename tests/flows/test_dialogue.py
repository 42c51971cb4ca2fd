"""A dialogue session through the CLI: no online question, its date, time and venue in the plan, and its
minutes (attendance and the points raised) submitted at conduct, each point a contribution."""

import pytest

from tests.conftest import Workspace
from tests.flows.samples import LESSONS
from tests.flows.test_lifecycle import ok, status_of
from tests.flows.test_validate import problems

DIALOGUE = "moheri-2025-q4-equivalency-dialogue"
SOURCE = f"campaigns/{DIALOGUE}.yaml"
MINUTES = """\
attendance: {students: 23}
summary: {ar: ناقش الحضور متطلبات المعادلة ومتابعة الطلبات, en: Attendees discussed the requirements and follow-up}
points:
  - audience: students
    text: The list of documents differs between the website and the service counter
  - audience: students
    text: لا تصل رسائل عن حالة الطلب بعد التحقق عبر داتافلو
  - audience: students
    text: Verification through Dataflow took more than a month for African universities
"""
DECISION = """\
summary: {ar: قائمة مستندات واحدة ورسائل بحالة الطلب, en: One list of documents and status messages}
rationale: {ar: أثارها معظم الحضور, en: Most attendees raised them}
not_adopted: {ar: تقصير مدة التحقق يعتمد على داتافلو, en: Shorter verification depends on Dataflow}
based_on_contributions: true
"""


def without_questions(ws: Workspace) -> None:
    """The sample dialogue's plan with its questionnaire taken out: the session alone."""
    path = ws.plans / SOURCE
    text = path.read_text(encoding="utf-8")
    start, end = text.index("instrument:\n"), text.index("kpis:\n")
    path.write_text(text[:start] + text[end:], encoding="utf-8")


@pytest.mark.prefect
def test_a_dialogue_session_runs_from_plan_to_closed_on_its_minutes(ws: Workspace) -> None:
    without_questions(ws)
    ok(ws, "start", DIALOGUE, now="2025-11-02T09:00+04:00")
    ok(ws, "approve", DIALOGUE, "prepare", *ws.key("dg.planning"), now="2025-11-03T09:00+04:00")
    ok(ws, "approve", DIALOGUE, "plan", *ws.key("dg.planning"), now="2025-11-04T09:00+04:00")
    plan_en = next((ws.out / DIALOGUE).glob("plan-1.en.*.html")).read_text(encoding="utf-8")
    assert "Main meeting hall, Ministry building, Muscat" in plan_en and "10:00" in plan_en

    out = ok(ws, "submit", DIALOGUE, "conduct", str(ws.write("minutes.yaml", MINUTES)), now="2025-11-23T13:00+04:00")
    assert "3 rows read = 3 stored" in out
    ok(ws, "advance", DIALOGUE, now="2025-12-01T08:00+04:00")
    ok(ws, "approve", DIALOGUE, "conduct", *ws.key("dg.planning"), now="2025-12-01T09:00+04:00")
    conduct_en = next((ws.out / DIALOGUE).glob("conduct-1.en.*.html")).read_text(encoding="utf-8")
    conduct_ar = next((ws.out / DIALOGUE).glob("conduct-1.ar.*.html")).read_text(encoding="utf-8")
    assert "Dialogue session" in conduct_en and "Attendance" in conduct_en
    assert "Head of the Equivalency Department" in conduct_en
    assert "The list of documents differs between the website and the service counter" in conduct_en
    assert "جلسة حوارية" in conduct_ar and "قاعة الاجتماعات الرئيسية" in conduct_ar
    assert "لا تصل رسائل عن حالة الطلب بعد التحقق عبر داتافلو" in conduct_ar

    ok(ws, "submit", DIALOGUE, "analyse", str(ws.write("decision.yaml", DECISION)), now="2025-12-02T09:00+04:00")
    ok(ws, "advance", DIALOGUE, now="2025-12-02T09:05+04:00")
    ok(ws, "approve", DIALOGUE, "analyse", *ws.key("dg.planning"), now="2025-12-03T09:00+04:00")
    ok(ws, "approve", DIALOGUE, "analyse", *ws.key("dir.digital"), now="2025-12-03T10:00+04:00")
    ok(ws, "approve", DIALOGUE, "announce", *ws.key("dg.planning"), now="2025-12-04T09:00+04:00")
    ok(ws, "submit", DIALOGUE, "evaluate", str(ws.write("lessons.yaml", LESSONS)), now="2025-12-05T09:00+04:00")
    ok(ws, "advance", DIALOGUE, now="2025-12-05T09:05+04:00")
    out = ok(ws, "approve", DIALOGUE, "evaluate", *ws.key("dg.planning"), now="2025-12-06T09:00+04:00")
    assert f"{DIALOGUE}: closed" in out
    assert status_of(ws, DIALOGUE)["status"] == "closed"


@pytest.mark.prefect
def test_minutes_naming_an_audience_the_plan_lacks_are_refused_and_located(ws: Workspace) -> None:
    without_questions(ws)
    ok(ws, "start", DIALOGUE, now="2025-11-02T09:00+04:00")
    minutes = ws.write("minutes.yaml", MINUTES.replace("attendance: {students: 23}", "attendance: {parents: 4}"))
    result = ws.run("submit", DIALOGUE, "conduct", str(minutes), now="2025-11-23T13:00+04:00")
    assert result.exit_code == 2, result.output + result.stderr
    assert "attendance.parents: expected one of the audiences ['students'], found 'parents'" in result.stderr


def test_a_dialogue_session_without_its_date_and_venue_is_located(ws: Workspace) -> None:
    path = ws.plans / SOURCE
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("session:\n")] + text[text.index("tools:") :], encoding="utf-8")
    found = {p["field"]: p["message"] for p in problems(ws)}
    assert "expected the session's date, start time and venue" in found["session"]
