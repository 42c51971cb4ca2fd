"""The communication plan through the CLI: messages recorded as sent, what is due, and the announcement's
report of the promises to participants.

The satisfaction survey's window runs from Sunday 6 July to Thursday 14 August 2025, Asia/Muscat (UTC+4).
"""

import json

import pytest

from tests.conftest import Workspace
from tests.flows.samples import CAMPAIGN, CONTRIBUTIONS, DECISION
from tests.flows.test_lifecycle import ok, to_conduct

pytestmark = pytest.mark.prefect  # runs flows on Prefect's server

COMMUNICATION = """
communication:
  - id: survey-open
    stage: conduct
    to: [public]
    what: {ar: الاستبيان مفتوح, en: The survey is open}
    channels: [website]
    when: {at: window-opens}
    promise: true
  - id: thanks
    stage: conduct
    to: [participants]
    what: {ar: شكراً لمشاركتكم, en: Thank you for taking part}
    channels: [website, e-survey]
    when: {at: window-closes, days: 1}
    promise: true
  - id: results
    stage: announce
    to: [participants, public]
    what: {ar: نشر النتائج خلال خمسة أيام عمل, en: Results published within five working days}
    channels: [website]
    when: {at: decision, days: 5, counted: working}
    promise: true
"""


def statuses(ws: Workspace, now: str) -> dict[str, tuple[str | None, str]]:
    rows = json.loads(ok(ws, "comms", "list", CAMPAIGN, "--json", now=now))
    return {row["message"]["id"]: (row["due_on"], row["status"]) for row in rows}


def test_messages_sent_are_listed_and_the_announcement_reports_the_promises(ws: Workspace) -> None:
    plan = ws.plans / f"campaigns/{CAMPAIGN}.yaml"
    plan.write_text(plan.read_text(encoding="utf-8") + COMMUNICATION, encoding="utf-8")
    to_conduct(ws)  # started 15 June; prepare and plan approved 16 and 17 June
    link = "https://moheri.gov.om/survey"
    ok(ws, "comms", "sent", CAMPAIGN, "survey-open", "--evidence", link, now="2025-07-06T09:00+04:00")

    again = ws.run("comms", "sent", CAMPAIGN, "survey-open", now="2025-07-06T09:05+04:00")
    assert again.exit_code == 1 and "already-sent" in again.stderr
    unknown = ws.run("comms", "sent", CAMPAIGN, "survey-opens", now="2025-07-06T09:05+04:00")
    assert unknown.exit_code == 2 and "['survey-open', 'thanks', 'results']" in unknown.stderr

    ok(ws, "submit", CAMPAIGN, "conduct", str(ws.write("c.csv", CONTRIBUTIONS)), now="2025-08-15T08:00+04:00")
    ok(ws, "advance", CAMPAIGN, now="2025-08-15T09:00+04:00")
    # the window's last day is Thu 14 Aug: the thanks are due Fri 15 Aug, and at 09:00 that day not yet sent
    assert statuses(ws, "2025-08-15T09:00+04:00") == {
        "survey-open": ("2025-07-06", "sent-on-time"),
        "thanks": ("2025-08-15", "due"),
        "results": (None, "scheduled"),  # no decision yet
    }
    ok(ws, "comms", "sent", CAMPAIGN, "thanks", now="2025-08-17T10:00+04:00")  # Sun 17 Aug: two days late
    ok(ws, "approve", CAMPAIGN, "conduct", *ws.key("dg.planning"), now="2025-08-17T11:00+04:00")
    ok(ws, "submit", CAMPAIGN, "analyse", str(ws.write("decision.yaml", DECISION)), now="2025-08-17T12:00+04:00")
    ok(ws, "advance", CAMPAIGN, now="2025-08-17T12:05+04:00")
    ok(ws, "approve", CAMPAIGN, "analyse", *ws.key("dg.planning"), now="2025-08-18T09:00+04:00")
    ok(ws, "approve", CAMPAIGN, "analyse", *ws.key("dir.digital"), now="2025-08-18T10:00+04:00")

    # the decision on Mon 18 Aug; 5 working days: Tue 19, Wed 20, Thu 21, (Fri, Sat), Sun 24, Mon 25
    assert statuses(ws, "2025-08-26T09:00+04:00")["results"] == ("2025-08-25", "overdue")

    pack = next((ws.out / CAMPAIGN).glob("announce-1.en.*.html")).read_text(encoding="utf-8")
    rows = {key: pack.split(f'id="promise-{key}"')[1].split("</tr>")[0] for key in ("survey-open", "thanks", "results")}
    assert "kept" in rows["survey-open"]
    assert "2 days late" in rows["thanks"] and "broken" in rows["thanks"]
    assert "not sent" in rows["results"] and "pending" in rows["results"]
    assert "Kept: 1; broken: 1; pending: 1." in pack
    portal_ar = next((ws.out / CAMPAIGN).glob("announce-web-page-1.ar.*.html")).read_text(encoding="utf-8")
    assert "لم يُوفَ به" in portal_ar  # broken, on the participation portal's page too

    history = ok(ws, "history", CAMPAIGN, now="2025-08-26T09:00+04:00")
    assert "message thanks sent (conduct) on website, e-survey" in history
    assert ws.run("audit", "verify", *ws.engine()).exit_code == 0
