"""The inbox lists what a person may decide now: by role, by a delegation they were given, by escalation
once a gate is overdue; and the gate page shows what changed since the rejected attempt."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import Workspace
from tests.flows.samples import CAMPAIGN, CONTRIBUTIONS
from tests.flows.test_gates import GPA, edit_gates, history, started
from tests.web.browser import served
from tests.web.software_passkey import SoftwarePasskey
from tests.web.test_sessions import csrf_of, decide, open_digest, sign_in

pytestmark = pytest.mark.browser


def inbox_rows(client: httpx.Client) -> list[str]:
    page = client.get("/")
    assert page.status_code == 200, page.text[:300]
    return re.findall(r"<tr>\s*<td><a href=\"/gates/([^\"]+)\">", page.text)


def test_a_delegation_made_in_the_service_puts_the_gate_in_the_delegates_inbox(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    started(ws)
    with served(monkeypatch) as url, httpx.Client(base_url=url) as dg, httpx.Client(base_url=url) as director:
        now = datetime.now(UTC)
        dg_key, director_key = (
            SoftwarePasskey("dg.planning", "localhost", url),
            SoftwarePasskey("dir.digital", "localhost", url),
        )
        dg_key.enrol(now)
        director_key.enrol(now)
        assert sign_in(dg, dg_key).status_code == 200
        assert sign_in(director, director_key).status_code == 200
        assert inbox_rows(director) == []  # a director holds no role of the default prepare gate

        today = now.astimezone(ZoneInfo("Asia/Muscat")).date()
        lend = {
            "delegate": "dir.digital",
            "starts": today.isoformat(),
            "ends": (today + timedelta(days=7)).isoformat(),
            "reason": "إجازة",
        }
        recorded = delegate(dg, dg_key, lend)
        assert recorded.status_code == 200 and recorded.json()["message"] == "سُجّل التفويض الموقّع."
        assert inbox_rows(director) == [f"{CAMPAIGN}/prepare"]
        assert "مفوَّض" in director.get("/").text  # the capacity they decide in

        digest = open_digest(director, CAMPAIGN)
        answer = decide(director, director_key, CAMPAIGN, {"decision": "approve", "digest": digest, "attempt": 1})
        assert answer.status_code == 200, answer.text
        decided = [e for e in history(ws) if e["type"] == "gate.decided"][-1]["payload"]
        assert (decided["approver"], decided["principal"], decided["capacity"]) == (
            "dir.digital",
            "dg.planning",
            "delegate",
        )
        assert ws.run("audit", "verify").exit_code == 0  # the signed delegation is in the registry cited

        for wrong in (
            {"ends": (today - timedelta(days=1)).isoformat()},  # ends before it starts
            {"starts": "2020-01-01", "ends": "2020-01-05"},  # in the past
            {"ends": (today + timedelta(days=120)).isoformat()},  # longer than ninety days
            {"delegate": "dg.planning"},  # to oneself
            {"reason": ""},
        ):
            refused = delegate(dg, dg_key, lend | wrong)
            assert refused.status_code in (400, 409), refused.text
            assert refused.json()["code"] == "bad-delegation", wrong


def delegate(client: httpx.Client, key: SoftwarePasskey, lend: dict[str, str]) -> httpx.Response:
    """Lend authority as the inbox's form does: the delegation shown to the passkey, then its signature."""
    headers = {"X-CSRF-Token": csrf_of(client, "/")}
    options = client.post("/delegations/options", json=lend, headers=headers)
    if options.status_code != 200:
        return options
    return client.post("/delegations/sign", json={"credential": key.get(options.json())}, headers=headers)


def test_escalation_lists_only_overdue_gates_and_rejected_stages_show_what_changed(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit_gates(ws, CAMPAIGN, "prepare", "    roles: [dg-planning]\n    escalation: [undersecretary]\n    due_days: 5\n")
    edit_gates(ws, GPA, "prepare", "    roles: [dg-planning]\n    escalation: [undersecretary]\n    due_days: 5\n")
    started(ws)  # its gate was due in June 2025: overdue
    today = datetime.now(UTC).astimezone()
    started(ws, GPA, when=today.isoformat())  # its gate is due in five days: not yet
    with served(monkeypatch) as url, httpx.Client(base_url=url) as undersecretary:
        key = SoftwarePasskey("undersecretary", "localhost", url)
        key.enrol(datetime.now(UTC))
        assert sign_in(undersecretary, key).status_code == 200
        assert inbox_rows(undersecretary) == [f"{CAMPAIGN}/prepare"]
        page = undersecretary.get("/").text
        assert "تصعيد" in page and "متأخرة" in page

        answer = decide(
            undersecretary,
            key,
            CAMPAIGN,
            {"decision": "reject", "digest": open_digest(undersecretary, CAMPAIGN), "attempt": 1, "text": "أعيدوا"},
        )
        assert answer.status_code == 200, answer.text
    reworked = ws.plans / f"campaigns/{CAMPAIGN}.yaml"
    text = reworked.read_text(encoding="utf-8")
    assert "digital services offered" in text
    reworked.write_text(text.replace("digital services offered", "e-services offered", 1), encoding="utf-8")
    result = ws.run("advance", CAMPAIGN, now=(datetime.now(UTC)).isoformat())
    assert result.exit_code == 0, result.output + result.stderr
    with served(monkeypatch) as url, httpx.Client(base_url=url) as dg:
        key = SoftwarePasskey("dg.planning", "localhost", url)
        key.enrol(datetime.now(UTC))
        assert sign_in(dg, key).status_code == 200
        rows = dg.get("/").text
        assert "عادت بعد رفض" in rows  # back after the rejection, attempt 2
        gate: Any = dg.get(f"/gates/{CAMPAIGN}/prepare").text
        assert "ما تغيّر منذ المحاولة المرفوضة" in gate
        assert "e-services offered" in gate and "<del>The digital services offered" in gate
        assert "أعيدوا" in gate  # the rejection's reason, among the earlier decisions


def test_the_conduct_gate_is_extended_with_a_new_closing_date_and_a_reason(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    started(ws)
    ws.approve(CAMPAIGN, "prepare", "dg.planning", now="2025-06-16T09:00+04:00")
    ws.approve(CAMPAIGN, "plan", "dg.planning", now="2025-06-17T09:00+04:00")
    ws.run("submit", CAMPAIGN, "conduct", str(ws.write("c.csv", CONTRIBUTIONS)), now="2025-08-15T08:00+04:00")
    ws.run("advance", CAMPAIGN, now="2025-08-15T09:00+04:00")
    with served(monkeypatch) as url, httpx.Client(base_url=url) as dg:
        key = SoftwarePasskey("dg.planning", "localhost", url)
        key.enrol(datetime.now(UTC))
        assert sign_in(dg, key).status_code == 200
        page = dg.get(f"/gates/{CAMPAIGN}/conduct").text
        assert "تاريخ الإغلاق الجديد" in page  # the extension form, at conduct only
        body = {"decision": "extend", "digest": open_digest(dg, CAMPAIGN, "conduct"), "attempt": 1}
        earlier = decide(dg, key, CAMPAIGN, body | {"closes": "2025-08-01", "text": "more voices"}, "conduct")
        assert (earlier.status_code, earlier.json()["code"]) == (409, "bad-extension")
        answer = decide(dg, key, CAMPAIGN, body | {"closes": "2027-01-31", "text": "more voices"}, "conduct")
        assert answer.status_code == 200, answer.text
        assert "سُجّل تمديد فترة المشاركة" in answer.json()["message"]
    extended = [e for e in history(ws) if e["type"] == "window.extended"][-1]
    assert (extended["actor"], extended["payload"]["closes"], extended["payload"]["reason"]) == (
        "dg.planning",
        "2027-01-31",
        "more voices",
    )
    assert ws.run("audit", "verify").exit_code == 0
