"""The three users of the workspace, one after another, against the real `musharaka serve` and Chromium.

A planner uploads a new plan and an export, starts the campaign and watches it reach its first gate on the
board without reloading; an approver signs the gate off with a passkey; an auditor replays the campaign to
before the decision, verifies the log, and downloads a bundle that `musharaka audit verify --bundle` accepts.
The service is the one a ministry runs: its own Prefect server, its runner and its sweep, at the clock's time.
The plan's window is placed around today, so the tour holds whenever it runs.
"""

import os
import shutil
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Workspace
from tests.flows.prefect_server import free_port
from tests.flows.test_service import _spawn_service, _stop, _wait_for_service
from tests.web.browser import REPOSITORY, Person, axe_violations, person, screenshot
from tests.web.test_browser import decide, enrol_and_sign_in, invite, outcome

pytestmark = [pytest.mark.server, pytest.mark.browser]

MUSCAT = ZoneInfo("Asia/Muscat")
TOUR = REPOSITORY / "tests" / "web" / "tour"  # the README's screenshots: MUSHARAKA_REFRESH_TOUR=1 refreshes them
NEW = "moheri-tour-satisfaction"


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def new_plan(ws: Workspace, today: date) -> Path:
    """The satisfaction survey's plan under a new id, its window open since six days ago for six weeks."""
    text = (ws.plans / "campaigns" / "moheri-2025-q3-satisfaction.yaml").read_text(encoding="utf-8")
    opens, closes = today - timedelta(days=6), today + timedelta(days=36)
    text = (
        text.replace("id: moheri-2025-q3-satisfaction", f"id: {NEW}")
        .replace("quarter: 2025-Q3", f"quarter: {quarter_of(today)}")
        .replace("opens: 2025-07-06", f"opens: {opens.isoformat()}")
        .replace("closes: 2025-08-14", f"closes: {closes.isoformat()}")
    )
    assert f"id: {NEW}" in text and f"opens: {opens.isoformat()}" in text
    return ws.write(f"uploads/{NEW}.yaml", text)


def export(ws: Workspace, today: date) -> Path:
    """Five rows as a tool exports them: three in the window, one from last year, one repeated."""
    day = [(today - timedelta(days=k)).isoformat() for k in (5, 4, 3)]
    text = (
        "submitted_at,channel,audience,overall,services-used,ease,improve\n"
        f"{day[0]}T10:00:00+04:00,website,students,5,admission,easy,\n"
        f"{day[1]}T11:30:00+04:00,e-survey,researchers,2,research-funding,hard,\n"
        f"{day[2]}T09:15:00+04:00,website,students,4,equivalency,acceptable,\n"
        f"{today.year - 1}-01-10T09:00:00+04:00,website,students,3,admission,easy,\n"
        f"{day[2]}T09:15:00+04:00,website,students,4,equivalency,acceptable,\n"
    )
    return ws.write("uploads/responses.csv", text)


def checked_page(someone: Person, name: str) -> None:
    """No WCAG 2.1 AA violation on the page as it is, and its screenshot for the README's tour."""
    assert axe_violations(someone.page) == [], name
    shot = screenshot(someone.page, f"tour-{name}")
    if os.environ.get("MUSHARAKA_REFRESH_TOUR") == "1":
        shutil.copyfile(shot, TOUR / f"{name}.png")


def test_a_planner_an_approver_and_an_auditor_carry_a_campaign_through_its_first_gate(
    ws: Workspace, tmp_path: Path, chromium: Any
) -> None:
    today = datetime.now(UTC).astimezone(MUSCAT).date()
    plan, responses = new_plan(ws, today), export(ws, today)
    log, port = tmp_path / "serve.log", free_port()
    process = _spawn_service(ws, log, port)
    try:
        _wait_for_service(process, log, timeout=240)
        url = f"http://localhost:{port}"

        # the planner: a new plan, started; an export ingested; the board shows the gate it waits at
        planner = person(chromium, audit=True)
        enrol_and_sign_in(planner, invite(ws, "planning.team"), url, "planning.team")
        page = planner.page
        page.goto(f"{url}/plans/new")
        page.get_by_label("ملف الخطة (YAML)").set_input_files(str(plan))
        page.get_by_role("button", name="تدقيق الخطة وحفظها").click()
        page.get_by_text(f"الخطة صالحة وحُفظت باسم {NEW}.yaml").wait_for()
        assert (ws.plans / "campaigns" / f"{NEW}.yaml").read_bytes() == plan.read_bytes()
        # the board, open in a second tab before the start, is watched without ever being reloaded
        board = planner.context.new_page()
        board.goto(f"{url}/programme")
        row = board.locator(f'tr[data-campaign="{NEW}"]')
        assert row.locator("td[data-gate]").get_attribute("data-gate") == ""  # no gate yet: planned
        board.evaluate("() => { window.notReloaded = true; }")
        page.get_by_role("button", name="بدء الحملة").click()
        page.get_by_text("بدأت الحملة.").wait_for()

        page.goto(f"{url}/campaigns/{NEW}")
        page.get_by_label("الملف المُصدَّر (CSV أو XLSX أو JSON Lines)").set_input_files(str(responses))
        page.get_by_role("button", name="استيعاب الملف المُصدَّر").click()
        page.locator("form[data-ingest][data-state=done]").wait_for(timeout=60_000)
        # read 5 = stored 3 + quarantined 1 (outside the window) + duplicates 1, worked out from the file above
        assert "الصفوف المقروءة 5 = المخزنة 3 + المعزولة 1 + المكررة 1" in outcome(planner)
        checked_page(planner, "campaign")

        # the row turns to the prepare gate, waiting for its approver by name, as the run reaches it
        board.wait_for_function(
            f"""() => {{ const r = document.querySelector('tr[data-campaign="{NEW}"] td[data-gate]');
                       return r && r.textContent.includes('د. يعقوب الرئيسي'); }}""",
            timeout=120_000,
        )
        assert board.evaluate("() => window.notReloaded") is True
        assert row.locator("td[data-status]").get_attribute("data-status") == "awaiting-gate"
        assert "بوابة الإعداد" in str(row.locator("td[data-gate]").text_content())
        assert row.locator("td[data-window]").get_attribute("data-window") == "open"
        page.close()
        planner.page = board
        checked_page(planner, "board")
        before_decision = datetime.now(UTC)
        time.sleep(1.1)  # the decision's second is after the auditor's chosen instant

        # the approver signs the prepare gate off
        approver = person(chromium)
        enrol_and_sign_in(approver, invite(ws, "dg.planning"), url, "dg.planning")
        message = decide(approver, url, NEW, "prepare", "موافقة")
        assert "سُجّلت موافقتك الموقّعة" in message and "اجتازت البوابة" in message

        # the auditor replays the campaign to before the decision, verifies, downloads the bundle
        auditor = person(chromium, audit=True)
        enrol_and_sign_in(auditor, invite(ws, "internal.audit"), url, "internal.audit", lands="/audit")
        at = before_decision.astimezone(MUSCAT).strftime("%Y-%m-%dT%H:%M:%S")
        auditor.page.goto(f"{url}/audit/campaigns/{NEW}?at={at}")
        assert "بانتظار قرار البوابة" in str(auditor.page.locator("#stood-status").text_content())
        checked_page(auditor, "audit")
        auditor.page.goto(f"{url}/audit/verify?campaign={NEW}")
        assert "ثبت التحقق من السجل" in str(auditor.page.locator("#verdict").text_content())
        auditor.page.goto(f"{url}/audit/campaigns/{NEW}")
        with auditor.page.expect_download() as download:
            auditor.page.get_by_role("link", name="تنزيل حزمة التدقيق").click()
        bundle = tmp_path / "bundle.zip"
        download.value.save_as(bundle)
    finally:
        _stop(process)
    verified = ws.run("audit", "verify", "--bundle", str(bundle), *ws.engine())
    assert verified.exit_code == 0, verified.output + verified.stderr
