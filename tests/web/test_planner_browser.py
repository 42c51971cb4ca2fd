"""A planner's other actions in a real browser: start a campaign and submit a stage's answers in English, record
a follow-up update in Arabic. Each answer is the page the planner reads, and the log holds what it says."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from musharaka.state.db import session_scope
from musharaka.state.events import events_of
from tests.conftest import Workspace
from tests.flows.test_outcomes import to_analysed
from tests.web.browser import axe_violations, person, screenshot, served
from tests.web.test_browser import enrol_and_sign_in

pytestmark = pytest.mark.browser

CHATBOT = "moheri-2025-q1-chatbot-name"
SURVEY = "moheri-2025-q3-satisfaction"


def last_event(campaign: str) -> tuple[str, str, datetime]:
    with session_scope() as session:
        event = list(events_of(campaign, session=session))[-1]
    return event.type, event.actor, event.at.replace(tzinfo=UTC)


def test_a_planner_starts_submits_and_follows_up_in_the_browser_in_both_languages(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, chromium: object, tmp_path: Path
) -> None:
    to_analysed(ws, SURVEY, "2025-07-06", "2025-08-14")  # its decision approved on 15 August
    after = datetime(2025, 8, 20, 5, 0, tzinfo=UTC)  # 09:00 in Muscat
    readiness = tmp_path / "readiness.yaml"
    readiness.write_text("management_support: The Undersecretary sponsors it.\n", encoding="utf-8")
    with served(monkeypatch, now=lambda: after) as url:
        planner = person(chromium, audit=True)
        page = planner.page
        link = ws.run("people", "invite", "planning.team", now="2025-08-20T09:00+04:00").output.strip().splitlines()[-1]
        enrol_and_sign_in(planner, link, url, "planning.team")

        page.goto(f"{url}/lang/en?next=/campaigns/{CHATBOT}")
        page.get_by_role("button", name="Start the campaign").click()
        assert "The campaign is started." in page.locator("main").inner_text()
        assert "runs at the service's next sweep" in page.locator("main").inner_text()  # no runner in this test
        assert last_event(CHATBOT) == ("campaign.started", "planning.team", after)
        page.get_by_label("Stage", exact=True).select_option("prepare")
        page.get_by_label("File (YAML or JSON; CSV of contributions at conduct)").set_input_files(str(readiness))
        page.get_by_role("button", name="Submit the file").click()
        assert "submission is recorded (readiness.yaml)" in page.locator("main").inner_text()
        assert last_event(CHATBOT) == ("submission.recorded", "planning.team", after)
        assert axe_violations(page) == []
        screenshot(page, "planner-submitted-en")

        page.goto(f"{url}/lang/ar?next=/campaigns/{SURVEY}")
        page.get_by_label("وضع القرار").select_option("in-progress")
        page.get_by_label("نسبة الإنجاز (من 0 إلى 100)").fill("40")
        page.get_by_label("ما أُنجز (وعند الإلغاء: السبب)").fill("النموذج الجديد قيد الاختبار")
        page.get_by_role("button", name="تسجيل التحديث").click()
        said = page.locator("main").inner_text()
        assert "النموذج الجديد قيد الاختبار" in said and "40" in said
        assert last_event(SURVEY) == ("decision.updated", "planning.team", after)
        assert axe_violations(page) == []
        screenshot(page, "planner-followed-up-ar")
        planner.context.close()
