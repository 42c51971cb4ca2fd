"""The campaign page and the planner's actions, over HTTP (a software passkey) and in Chromium.

The HTTP tests serve the app without a runner (`runs=None`): a start records the campaign's start and says the
next sweep runs it, so no flow runs and each test stays fast. The browser tests run the campaign to its first
gate with the CLI first, as a service's runner would.
"""

import re
import time
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import httpx
import pytest

from musharaka.state.db import session_scope
from musharaka.state.events import events_of
from tests.conftest import Workspace
from tests.flows.samples import CAMPAIGN, CONTRIBUTIONS
from tests.flows.test_gates import started
from tests.flows.test_outcomes import to_analysed
from tests.web.browser import axe_violations, person, screenshot, served
from tests.web.software_passkey import SoftwarePasskey
from tests.web.test_browser import enrol_and_sign_in, invite
from tests.web.test_sessions import csrf_of, sign_in

pytestmark = pytest.mark.browser

NOW = datetime(2025, 6, 15, 5, 0, tzinfo=UTC)  # 09:00 in Muscat, before the window opens on 6 July
# Five good rows and one whose audience the plan does not have (row 7 of the file, the header being row 1).
EXPORT = CONTRIBUTIONS + "2025-07-08T10:00:00+04:00,website,aliens,3,admission,easy,\n"


def clock() -> datetime:
    return NOW


def planner(client: httpx.Client, url: str, who: str = "planning.team") -> str:
    """Signed in as `who` (planning.team holds the planner duty); the page's CSRF token."""
    key = SoftwarePasskey(who, "localhost", url)
    key.enrol(NOW)
    assert sign_in(client, key).status_code == 200
    return csrf_of(client, f"/campaigns/{CAMPAIGN}")


def kinds(campaign: str = CAMPAIGN) -> list[str]:
    with session_scope() as session:
        return [e.type for e in events_of(campaign, session=session)]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def sample_plan(ws: Workspace) -> str:
    return (ws.plans / f"campaigns/{CAMPAIGN}.yaml").read_text(encoding="utf-8")


# --- plan files -----------------------------------------------------------------------------------


def test_a_bad_plan_shows_each_problem_at_its_line_and_saves_nothing(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = sample_plan(ws).replace("level: consultation", "level: chatter", 1)
    assert bad.splitlines()[5] == "level: chatter"  # line 6 of the file
    with served(monkeypatch, now=clock) as url, httpx.Client(base_url=url) as client:
        csrf = planner(client, url)
        before = sorted(p.name for p in (ws.plans / "campaigns").iterdir())
        answer = client.post(
            "/plans/upload", data={"csrf": csrf}, files={"plan": ("my plan.yaml", bad.encode(), "application/yaml")}
        )
        assert answer.status_code == 422
        row = re.search(r"<tr><td dir=\"ltr\">my plan.yaml</td><td>(.*?)</td><td[^>]*>(.*?)</td>", answer.text)
        assert row is not None, answer.text
        assert row.groups() == ("6", "level")  # line 6
        assert "chatter" in answer.text and "لم يُحفظ شيء" in text_of(answer.text)
        assert sorted(p.name for p in (ws.plans / "campaigns").iterdir()) == before


def test_a_valid_plan_is_saved_under_its_id_and_links_to_its_page(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = sample_plan(ws).replace(f"id: {CAMPAIGN}", "id: moheri-2025-q3-satisfaction-copy", 1)
    with served(monkeypatch, now=clock) as url, httpx.Client(base_url=url) as client:
        csrf = planner(client, url)
        answer = client.post(
            "/plans/upload", data={"csrf": csrf}, files={"plan": ("../../escape.yaml", copy.encode(), "text/plain")}
        )
        assert answer.status_code == 200, text_of(answer.text)[:600]
        saved = ws.plans / "campaigns" / "moheri-2025-q3-satisfaction-copy.yaml"
        assert saved.read_text(encoding="utf-8") == copy
        assert not (ws.root / "escape.yaml").exists() and not (ws.plans / "escape.yaml").exists()
        assert "moheri-2025-q3-satisfaction-copy.yaml" in answer.text
        assert 'action="/campaigns/moheri-2025-q3-satisfaction-copy/start"' in answer.text


def test_replacing_the_plan_of_a_started_campaign_is_refused(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    with served(monkeypatch, now=clock) as url, httpx.Client(base_url=url) as client:
        csrf = planner(client, url)
        assert client.post(f"/campaigns/{CAMPAIGN}/start", data={"csrf": csrf}).status_code == 200
        original = (ws.plans / f"campaigns/{CAMPAIGN}.yaml").read_text(encoding="utf-8")
        edited = original.replace("closes: 2025-08-14", "closes: 2025-08-20", 1)
        answer = client.post(
            "/plans/upload", data={"csrf": csrf}, files={"plan": ("plan.yaml", edited.encode(), "text/plain")}
        )
        assert answer.status_code == 409
        assert "لا يمكن استبدال خطتها" in answer.text
        assert (ws.plans / f"campaigns/{CAMPAIGN}.yaml").read_text(encoding="utf-8") == original


# --- starting, refusals by duty --------------------------------------------------------------------


def test_a_planner_starts_a_campaign_as_themselves_and_a_second_start_is_refused(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served(monkeypatch, now=clock) as url, httpx.Client(base_url=url) as client:
        csrf = planner(client, url)
        client.cookies.set("musharaka_lang", "en")
        answer = client.post(f"/campaigns/{CAMPAIGN}/start", data={"csrf": csrf})
        assert answer.status_code == 200
        said = text_of(answer.text)
        assert "The campaign is started. The campaign runs at the service's next sweep." in said
        with session_scope() as session:
            events = list(events_of(CAMPAIGN, session=session))
        assert [(e.type, e.actor) for e in events if e.type == "campaign.started"] == [
            ("campaign.started", "planning.team")
        ]
        assert events[-1].at.replace(tzinfo=UTC) == NOW
        again = client.post(f"/campaigns/{CAMPAIGN}/start", data={"csrf": csrf})
        assert again.status_code == 409
        assert "This campaign has already been started. Nothing was recorded." in text_of(again.text)
        assert kinds().count("campaign.started") == 1


class Recorder:
    """A runner that only notes what it was handed (the service's is `flows.service.runs.Runs`)."""

    def __init__(self) -> None:
        self.handed: list[str] = []

    def submit(self, campaign_ids: list[str], now: datetime | None) -> dict[str, str]:
        self.handed += campaign_ids
        return {c: f"run-{c}" for c in campaign_ids}


def test_a_started_campaign_and_a_submission_are_handed_to_the_services_runner(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = Recorder()
    with served(monkeypatch, runs=runner, now=clock) as url, httpx.Client(base_url=url) as client:
        csrf = planner(client, url)
        client.cookies.set("musharaka_lang", "en")
        answer = client.post(f"/campaigns/{CAMPAIGN}/start", data={"csrf": csrf})
        assert "The campaign is started. The campaign is running now; this page shows where it stops." in text_of(
            answer.text
        )
        assert runner.handed == [CAMPAIGN]
        client.post(
            f"/campaigns/{CAMPAIGN}/stages/prepare/upload",
            data={"csrf": csrf, "stage": "prepare"},
            files={"file": ("answers.yaml", b"institutional_readiness: ready\n", "text/yaml")},
        )
        assert runner.handed == [CAMPAIGN, CAMPAIGN]


def test_a_person_without_the_planner_duty_is_refused_every_action_and_nothing_is_recorded(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served(monkeypatch, now=clock) as url, httpx.Client(base_url=url) as client:
        csrf = planner(client, url, "dg.planning")  # an approver, not a planner
        assert client.get(f"/campaigns/{CAMPAIGN}").status_code == 200  # reading is for everyone signed in
        assert 'action="/campaigns/' not in client.get(f"/campaigns/{CAMPAIGN}").text  # no action offered
        plan = sample_plan(ws).replace(f"id: {CAMPAIGN}", "id: moheri-2025-q3-other", 1).encode()
        files = {"file": ("export.csv", EXPORT.encode(), "text/csv")}
        tries = [
            client.post(f"/campaigns/{CAMPAIGN}/start", data={"csrf": csrf}),
            client.post("/plans/upload", data={"csrf": csrf}, files={"plan": ("p.yaml", plan, "text/plain")}),
            client.post(f"/campaigns/{CAMPAIGN}/stages/prepare/upload", data={"csrf": csrf}, files=files),
            client.post(f"/campaigns/{CAMPAIGN}/contributions/upload", data={"csrf": csrf}, files=files),
            client.post(f"/campaigns/{CAMPAIGN}/follow-up", data={"csrf": csrf, "status": "planned"}),
            client.get("/plans/new"),
        ]
        for refused in tries:
            assert refused.status_code == 403
            assert "مهامك في سجل الأشخاص لا تشمل هذا" in refused.text
        assert kinds() == []
        assert not (ws.plans / "campaigns/moheri-2025-q3-other.yaml").exists()
        assert client.post(f"/campaigns/{CAMPAIGN}/start", data={"csrf": "wrong"}).status_code == 403  # CSRF


# --- a stage's inputs, an export, a follow-up ----------------------------------------------------


def test_a_stage_submission_is_recorded_and_a_bad_one_is_shown_at_its_line(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served(monkeypatch, now=clock) as url, httpx.Client(base_url=url) as client:
        csrf = planner(client, url)
        client.cookies.set("musharaka_lang", "en")
        client.post(f"/campaigns/{CAMPAIGN}/start", data={"csrf": csrf})
        bad = client.post(
            f"/campaigns/{CAMPAIGN}/stages/prepare/upload",
            data={"csrf": csrf, "stage": "prepare"},
            files={"file": ("answers.yaml", b"objective: fine\nmood: sunny\n", "text/yaml")},
        )
        assert bad.status_code == 422
        assert re.search(r"<td>2</td><td dir=\"ltr\">mood</td>", bad.text), text_of(bad.text)[:800]
        assert "a key the file does not have" in text_of(bad.text)
        assert kinds() == ["campaign.started"]
        good = client.post(
            f"/campaigns/{CAMPAIGN}/stages/prepare/upload",
            data={"csrf": csrf, "stage": "prepare"},
            files={"file": ("answers.yaml", b"institutional_readiness: ready\n", "text/yaml")},
        )
        assert good.status_code == 200
        assert "The Prepare submission is recorded (answers.yaml)." in text_of(good.text)
        assert kinds() == ["campaign.started", "submission.recorded"]


def test_an_export_is_ingested_in_the_background_with_its_summary(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served(monkeypatch, now=clock) as url, httpx.Client(base_url=url) as client:
        csrf = planner(client, url)
        client.post(f"/campaigns/{CAMPAIGN}/start", data={"csrf": csrf})
        files = {"file": ("responses.csv", EXPORT.encode(), "text/csv")}
        started_job = client.post(
            f"/campaigns/{CAMPAIGN}/contributions/upload",
            data={"csrf": csrf},
            files=files,
            headers={"Accept": "application/json"},
        )
        assert started_job.status_code == 200
        follow = started_job.json()["url"]
        for _ in range(200):
            answer = client.get(follow).json()
            if answer["state"] != "running":
                break
        assert answer["state"] == "done", answer
        assert answer["total"] == 6  # six lines after the header
        assert answer["summary"] == {"read": 6, "stored": 5, "quarantined": 1, "duplicates": 0}
        assert answer["message"] == (
            "اكتمل استيعاب الملف المُصدَّر: الصفوف المقروءة 6 = المخزنة 5 + المعزولة 1 + المكررة 0."
        )
        # the same file again, without the page's script: a page, every row a duplicate
        client.cookies.set("musharaka_lang", "en")
        again = client.post(f"/campaigns/{CAMPAIGN}/contributions/upload", data={"csrf": csrf}, files=files)
        assert again.status_code == 200
        assert "6 rows read = 0 stored + 0 quarantined + 6 duplicates." in text_of(again.text)
        page = client.get(f"/campaigns/{CAMPAIGN}").text
        quarantined = re.findall(r'<table class="quarantine">.*?</table>', page, re.S)[0]
        assert ">7<" in quarantined and "aliens" not in quarantined  # the row, never what it held
        assert "Contributions counted: 5" in text_of(page)
        assert not list(Path("/tmp").glob("musharaka-upload-*/responses.csv"))  # the private copy is gone
        other = client.get(follow.replace(CAMPAIGN, "moheri-2025-q1-chatbot-name"))
        assert other.status_code == 404


def test_an_export_no_tool_wrote_is_refused_with_the_reason_and_its_own_name(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served(monkeypatch, now=clock) as url, httpx.Client(base_url=url) as client:
        csrf = planner(client, url)
        client.post(f"/campaigns/{CAMPAIGN}/start", data={"csrf": csrf})
        before = kinds()
        files = {"file": ("notes.csv", b"colour,shape\nred,round\n", "text/csv")}
        asked = client.post(
            f"/campaigns/{CAMPAIGN}/contributions/upload",
            data={"csrf": csrf},
            files=files,
            headers={"Accept": "application/json"},
        )
        for _ in range(200):
            answer = client.get(asked.json()["url"]).json()
            if answer["state"] != "running":
                break
            time.sleep(0.05)
        assert (answer["state"], answer["message"]) == ("refused", "تعذّرت قراءة الملف المُصدَّر، فلم يُسجَّل شيء.")
        assert answer["detail"].startswith("notes.csv:1: header: expected the columns of a known tool")
        assert "/tmp" not in answer["detail"]
        assert "colour" in answer["detail"]  # the header it found, named
        assert kinds() == before


def test_a_follow_up_before_the_decision_is_refused_in_the_persons_language(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served(monkeypatch, now=clock) as url, httpx.Client(base_url=url) as client:
        csrf = planner(client, url)
        client.post(f"/campaigns/{CAMPAIGN}/start", data={"csrf": csrf})
        form = {"csrf": csrf, "status": "in-progress", "percent": "40", "note": "new form"}
        refused = client.post(f"/campaigns/{CAMPAIGN}/follow-up", data=form)
        assert refused.status_code == 409
        assert "لا قرار معتمداً لهذه الحملة بعد" in refused.text
        assert kinds() == ["campaign.started"]


def test_the_stages_part_is_served_alone_for_the_live_page(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    with served(monkeypatch, now=clock) as url, httpx.Client(base_url=url) as client:
        csrf = planner(client, url)
        client.cookies.set("musharaka_lang", "en")
        page = client.get(f"/campaigns/{CAMPAIGN}").text
        assert f'data-live="/campaigns/{CAMPAIGN}/stages"' in page
        assert text_of(client.get(f"/campaigns/{CAMPAIGN}/stages").text).strip() == (
            "This campaign has not been started."
        )
        client.post(f"/campaigns/{CAMPAIGN}/start", data={"csrf": csrf})
        part = client.get(f"/campaigns/{CAMPAIGN}/stages").text
        assert "<html" not in part and "<h1" not in part
        assert text_of(part).startswith(" Now at: Prepare · Attempt 1 · Status: pending")
        assert client.get("/campaigns/no-such-campaign/stages").status_code == 404


def test_a_follow_up_update_is_recorded_as_the_planner_and_rewrites_the_you_said_we_did_pages(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    to_analysed(ws, CAMPAIGN, "2025-07-06", "2025-08-14")  # the decision approved on 15 August
    after = datetime(2025, 8, 20, 5, 0, tzinfo=UTC)  # 09:00 in Muscat
    with served(monkeypatch, now=lambda: after) as url, httpx.Client(base_url=url) as client:
        key = SoftwarePasskey("planning.team", "localhost", url)
        key.enrol(after)
        assert sign_in(client, key).status_code == 200
        csrf = csrf_of(client, f"/campaigns/{CAMPAIGN}")
        before = kinds()
        wrong = {"csrf": csrf, "status": "in-progress", "percent": "140", "note": ""}
        refused = client.post(f"/campaigns/{CAMPAIGN}/follow-up", data=wrong)
        assert refused.status_code == 422
        assert "يجب أن تكون النسبة عدداً صحيحاً من 0 إلى 100." in text_of(refused.text)
        assert kinds() == before
        client.cookies.set("musharaka_lang", "en")
        form = {
            "csrf": csrf,
            "status": "in-progress",
            "percent": "40",
            "note": "The new upload form is in testing",
            "evidence": "https://www.moheri.gov.om/news/upload",
        }
        answer = client.post(f"/campaigns/{CAMPAIGN}/follow-up", data=form)
        assert answer.status_code == 200, text_of(answer.text)[:500]
        said = text_of(answer.text)
        assert "The update is recorded: the decision is in progress (40%)." in said
        assert "Simplify the document-upload step of the admission and equivalency services" in said
        assert "The new upload form is in testing" in said
        assert kinds() == [*before, "decision.updated"]
        with session_scope() as session:
            last = list(events_of(CAMPAIGN, session=session))[-1]
        assert (last.actor, last.at.replace(tzinfo=UTC)) == ("planning.team", after)
        written = (ws.out / CAMPAIGN / "you-said-we-did.en.html").read_text(encoding="utf-8")
        assert "The new upload form is in testing" in written
        dropped = client.post(f"/campaigns/{CAMPAIGN}/follow-up", data={"csrf": csrf, "status": "dropped"})
        assert dropped.status_code == 422
        assert "Give the reason the decision was dropped." in text_of(dropped.text)
        assert kinds() == [*before, "decision.updated"]


# --- in the browser ------------------------------------------------------------------------------


def test_the_campaign_page_in_both_languages_and_an_export_with_its_progress_bar(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, chromium: object, tmp_path: Path
) -> None:
    started(ws)  # the CLI runs it to its first gate, as the service's runner would
    export = tmp_path / "responses.csv"
    export.write_text(EXPORT, encoding="utf-8")
    with served(monkeypatch) as url:
        browser = person(chromium, audit=True)
        page = browser.page
        enrol_and_sign_in(browser, invite(ws, "planning.team"), url, "planning.team")
        page.goto(f"{url}/campaigns/{CAMPAIGN}")
        assert page.locator("h1").inner_text() == "استطلاع حول رضا المستفيدين عن الخدمات الرقمية"
        stages = page.locator("#stages")
        assert "بانتظار قرار البوابة" in stages.inner_text() or "تنتظر بوابتها" in stages.inner_text()
        assert axe_violations(page) == []
        screenshot(page, "campaign-ar")
        page.set_input_files("#export-file", str(export))
        page.get_by_role("button", name="استيعاب الملف المُصدَّر").click()
        page.wait_for_selector("form[data-ingest][data-state=done]")
        assert "المقروءة 6 = المخزنة 5 + المعزولة 1 + المكررة 0" in page.locator("#outcome").inner_text()
        assert page.locator("#ingest-progress").evaluate("bar => bar.value === bar.max")
        # the contributions part follows the log without a reload: five stored, by channel
        page.wait_for_function("() => document.getElementById('contributions').innerText.includes(': 5')")
        assert "الموقع الإلكتروني 3" in page.locator("#contributions").inner_text().replace("\t", " ")
        screenshot(page, "campaign-ingested-ar")
        bad = tmp_path / "plan.yaml"
        bad.write_text(sample_plan(ws).replace("level: consultation", "level: chatter", 1), encoding="utf-8")
        page.goto(f"{url}/plans/new")
        page.get_by_label("ملف الخطة (YAML)").set_input_files(str(bad))
        page.get_by_role("button", name="تدقيق الخطة وحفظها").click()
        assert "في ملف الخطة مشكلات، فلم يُحفظ شيء." in page.locator("main").inner_text()
        assert page.locator("table.problems tbody tr").first.inner_text().split("\t")[:3] == ["plan.yaml", "6", "level"]
        assert axe_violations(page) == []
        screenshot(page, "plans-problems-ar")
        page.goto(f"{url}/lang/en?next=/campaigns/{CAMPAIGN}")
        assert page.locator("h1").inner_text() == "Beneficiaries' satisfaction with the ministry's digital services"
        assert "Contributions counted: 5" in page.locator("main").inner_text()
        assert axe_violations(page) == []
        screenshot(page, "campaign-en")
        page.goto(f"{url}/plans/new")
        assert axe_violations(page) == []
        screenshot(page, "plans-new-en")
        browser.context.close()
