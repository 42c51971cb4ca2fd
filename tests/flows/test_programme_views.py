"""The programme seen from outside: UN e-participation evidence and the iCalendar export, through the CLI."""

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from tests.conftest import Workspace
from tests.flows.samples import CAMPAIGN, CONTRIBUTIONS, DECISION
from tests.flows.test_lifecycle import ok, to_conduct

GPA = "moheri-2025-q2-gpa-poll"
WEBSITE = "moheri-2025-q4-website-design"


def held_decided_not_published(ws: Workspace) -> None:
    """The satisfaction survey: conduct and analyse approved, the announcement still at its gate."""
    to_conduct(ws)
    ok(ws, "submit", CAMPAIGN, "conduct", str(ws.write("c.csv", CONTRIBUTIONS)), now="2025-08-15T08:00+04:00")
    ok(ws, "advance", CAMPAIGN, now="2025-08-15T09:00+04:00")
    ok(ws, "approve", CAMPAIGN, "conduct", *ws.key("dg.planning"), now="2025-08-16T09:00+04:00")
    ok(ws, "submit", CAMPAIGN, "analyse", str(ws.write("d.yaml", DECISION)), now="2025-08-17T09:00+04:00")
    ok(ws, "advance", CAMPAIGN, now="2025-08-17T09:05+04:00")
    ok(ws, "approve", CAMPAIGN, "analyse", *ws.key("dg.planning"), now="2025-08-18T09:00+04:00")
    ok(ws, "approve", CAMPAIGN, "analyse", *ws.key("dir.digital"), now="2025-08-18T10:00+04:00")


def set_sector(ws: Workspace, campaign: str, sector: str) -> None:
    path = ws.plans / f"campaigns/{campaign}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("sector: education", f"sector: {sector}"), "utf-8")


def evidence_json(ws: Workspace, *args: str, now: str = "2025-09-01T12:00+04:00") -> dict[str, dict]:  # type: ignore[type-arg]
    levels = json.loads(ok(ws, "un-evidence", "--json", *args, now=now))
    return {level["level"]: level for level in levels}


def sector_of(level: dict, sector: str) -> dict:  # type: ignore[type-arg]
    return next(row for row in level["sectors"] if row["sector"] == sector)


@pytest.mark.prefect
def test_un_evidence_names_a_consultation_held_and_decided_whose_outcome_is_unpublished(ws: Workspace) -> None:
    set_sector(ws, WEBSITE, "health")
    held_decided_not_published(ws)
    levels = evidence_json(ws)

    assert list(levels) == ["information", "consultation", "decision-making"]
    education = sector_of(levels["consultation"], "education")
    assert [p["campaign"] for p in education["held"]] == [CAMPAIGN]
    assert education["held"][0]["at"].startswith("2025-08-16T05:00")  # the conduct approval, in UTC
    assert [p["campaign"] for p in education["decided"]] == [CAMPAIGN]
    assert education["published"] == []
    assert f"consultations held in education but no outcome published: {CAMPAIGN}" in education["missing"]
    # a sector named by one planned campaign only: no evidence, and that is said
    health = sector_of(levels["consultation"], "health")
    assert (health["campaigns"], health["held"]) == ([WEBSITE], [])
    assert any("no consultation held in health yet" in gap for gap in health["missing"])
    # levels and sectors with nothing
    assert levels["information"]["campaigns"] == []
    assert levels["information"]["missing"] == ["no e-information campaign at all"]
    assert sector_of(levels["decision-making"], "health")["missing"] == ["no e-decision-making campaign in health"]

    text = ok(ws, "un-evidence", now="2025-09-01T12:00+04:00")
    assert "missing: no e-information campaign at all" in text
    assert "outcomes published: 0: none" in text
    assert f"consultations held: 1: {CAMPAIGN} (2025-08-16)" in text


@pytest.mark.prefect
def test_un_evidence_counts_an_outcome_once_the_announce_gate_is_approved(ws: Workspace) -> None:
    held_decided_not_published(ws)
    ok(ws, "approve", CAMPAIGN, "announce", *ws.key("dg.planning"), now="2025-08-19T09:00+04:00")
    education = sector_of(evidence_json(ws)["consultation"], "education")
    assert [p["campaign"] for p in education["published"]] == [CAMPAIGN]
    assert not any(CAMPAIGN in gap for gap in education["missing"])
    # as it stood before the announcement was approved, the gap is back
    before = sector_of(evidence_json(ws, now="2025-08-18T12:00+04:00")["consultation"], "education")
    assert before["published"] == [] and any("no outcome published" in gap for gap in before["missing"])


@pytest.mark.prefect
def test_un_evidence_does_not_count_a_decision_not_based_on_contributions(ws: Workspace) -> None:
    ws.write("d.yaml", DECISION.replace("based_on_contributions: true", "based_on_contributions: false"))
    to_conduct(ws)
    ok(ws, "submit", CAMPAIGN, "conduct", str(ws.write("c.csv", CONTRIBUTIONS)), now="2025-08-15T08:00+04:00")
    ok(ws, "advance", CAMPAIGN, now="2025-08-15T09:00+04:00")
    ok(ws, "approve", CAMPAIGN, "conduct", *ws.key("dg.planning"), now="2025-08-16T09:00+04:00")
    ok(ws, "submit", CAMPAIGN, "analyse", str(ws.root / "d.yaml"), now="2025-08-17T09:00+04:00")
    ok(ws, "advance", CAMPAIGN, now="2025-08-17T09:05+04:00")
    ok(ws, "approve", CAMPAIGN, "analyse", *ws.key("dg.planning"), now="2025-08-18T09:00+04:00")
    ok(ws, "approve", CAMPAIGN, "analyse", *ws.key("dir.digital"), now="2025-08-18T10:00+04:00")
    education = sector_of(evidence_json(ws)["consultation"], "education")
    assert [p["campaign"] for p in education["held"]] == [CAMPAIGN]
    assert education["decided"] == []
    assert f"decided without basing the decision on contributions: {CAMPAIGN}" in education["missing"]


def test_un_evidence_for_a_year_without_campaigns_says_every_level_is_missing(ws: Workspace) -> None:
    levels = evidence_json(ws, "--year", "2024")
    assert {name: level["missing"] for name, level in levels.items()} == {
        "information": ["no e-information campaign at all"],
        "consultation": ["no e-consultation campaign at all"],
        "decision-making": ["no e-decision-making campaign at all"],
    }


def read_calendar(path) -> dict[str, icalendar.Event]:  # type: ignore[no-untyped-def]
    calendar = icalendar.Calendar.from_ical(path.read_bytes())
    return {str(event["uid"]): event for event in calendar.walk("VEVENT")}


@pytest.mark.prefect
def test_calendar_exports_windows_with_their_extension_and_open_gates_due_dates(ws: Workspace) -> None:
    ok(ws, "start", GPA, now="2025-04-13T09:00+04:00")
    ok(ws, "approve", GPA, "prepare", *ws.key("dg.planning"), now="2025-04-14T09:00+04:00")
    ok(ws, "approve", GPA, "plan", *ws.key("dg.planning"), now="2025-04-15T09:00+04:00")
    ok(
        ws,
        "extend", GPA, "--closes", "2025-09-30", "--reason", "بعد نتائج الدبلوم", *ws.key("dg.planning"),
        now="2025-06-25T10:00+04:00",
    )  # fmt: skip
    ok(ws, "start", CAMPAIGN, now="2025-06-25T11:00+04:00")  # its prepare gate is open

    target = ws.root / "programme.ics"
    out = ok(ws, "calendar", "--ics", str(target), now="2025-06-26T09:00+04:00")
    assert f"{target}:" in out
    events = read_calendar(target)

    gpa = events[f"{GPA}.window@musharaka"]
    assert gpa.decoded("dtstart") == date(2025, 5, 4)  # all-day, the plan's opening date
    assert gpa.decoded("dtend") == date(2025, 10, 1)  # exclusive: the extended close, 30 September, included
    assert int(gpa["sequence"]) == 1
    assert "بعد نتائج الدبلوم" in str(gpa["description"])
    assert "2025-06-30 to 2025-09-30" in str(gpa["description"])
    assert str(gpa["x-musharaka-timezone"]) == "Asia/Muscat"
    assert gpa.decoded("dtstamp") == datetime(2025, 6, 26, 5, 0, tzinfo=ZoneInfo("UTC"))
    # a campaign not started yet: its plan's window
    website = events[f"{WEBSITE}.window@musharaka"]
    assert website.decoded("dtstart") < website.decoded("dtend")
    assert int(website["sequence"]) == 0

    gate = events[f"{CAMPAIGN}.prepare.1.gate@musharaka"]
    due = gate.decoded("dtstart")
    assert due.tzinfo is not None and str(gate["dtstart"].params["TZID"]) == "Asia/Muscat"
    assert due.utcoffset() == timedelta(hours=4)
    assert (due.date(), due.time().hour) == (date(2025, 7, 1), 0)  # end of the 5th day after opening, Muscat
    assert "May decide: dg.planning" in str(gate["description"])
    assert b"BEGIN:VTIMEZONE" in target.read_bytes() and b"TZID:Asia/Muscat" in target.read_bytes()
    assert all(len(line) <= 75 for line in target.read_bytes().split(b"\r\n"))  # folded lines

    # exported again after the gate is decided: the same UIDs, no gate left open
    ok(ws, "approve", CAMPAIGN, "prepare", *ws.key("dg.planning"), now="2025-06-27T09:00+04:00")
    ok(ws, "calendar", "--ics", str(target), now="2025-06-27T10:00+04:00")
    again = read_calendar(target)
    assert f"{GPA}.window@musharaka" in again and f"{CAMPAIGN}.prepare.1.gate@musharaka" not in again
    assert f"{CAMPAIGN}.plan.1.gate@musharaka" in again


def test_calendar_in_arabic_keeps_arabic_titles_in_utf8(ws: Workspace) -> None:
    target = ws.root / "programme.ar.ics"
    ok(ws, "calendar", "--ics", str(target), "--lang", "ar", now="2025-01-01T09:00+04:00")
    summaries = [str(e["summary"]) for e in read_calendar(target).values()]
    assert any(s.startswith("فترة المشاركة: ") and "استطلاع حول رضا المستفيدين" in s for s in summaries)
    assert "فترة المشاركة".encode() in target.read_bytes()


def test_calendar_into_a_missing_folder_is_refused_and_writes_nothing(ws: Workspace) -> None:
    result = ws.run("calendar", "--ics", str(ws.root / "nowhere" / "p.ics"), now="2025-01-01T09:00+04:00")
    assert result.exit_code == 2
    assert "no such folder" in result.output + result.stderr
    assert not (ws.root / "nowhere").exists()
