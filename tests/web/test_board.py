"""The programme board: the year's campaigns by quarter with their windows and gates, the filters, the half-year
KPIs, the UN evidence, the month view and the .ics file, and the rows following the log without a reload.

One workspace is built for the module, and read only: the satisfaction survey started on 15 June 2025 and
left at its prepare gate; the video-call consultation approved through prepare and plan and its window
extended to 15 October 2025. The service's clock is fixed at 12 August 2025, 10:00 in Muscat.
"""

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import icalendar
import pytest

from tests.conftest import Workspace
from tests.flows.samples import CAMPAIGN
from tests.web.browser import axe_violations, person, screenshot, served
from tests.web.software_passkey import SoftwarePasskey
from tests.web.test_sessions import sign_in

pytestmark = pytest.mark.browser

VIDEO = "moheri-2025-q3-video-call"
CHATBOT = "moheri-2025-q1-chatbot-name"
GPA = "moheri-2025-q2-gpa-poll"
WEBSITE = "moheri-2025-q4-website-design"
DIALOGUE = "moheri-2025-q4-equivalency-dialogue"
NOW = datetime(2025, 8, 12, 6, 0, tzinfo=UTC)  # 10:00 in Muscat
ENROLLED = datetime(2025, 8, 11, 6, 0, tzinfo=UTC)  # the passkeys, before the service's clock


def run(ws: Workspace, *args: str, now: str) -> None:
    result = ws.run(*args, now=now)
    assert result.exit_code == 0, result.output + result.stderr


@pytest.fixture(scope="module")
def programme(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("board")
    with pytest.MonkeyPatch.context() as patch:
        from tests.conftest import make_workspace

        ws = make_workspace(root, patch)
        run(ws, "start", CAMPAIGN, now="2025-06-15T09:00+04:00")
        run(ws, "start", VIDEO, now="2025-07-20T09:00+04:00")
        assert ws.approve(VIDEO, "prepare", "dg.planning", now="2025-07-21T09:00+04:00").exit_code == 0
        assert ws.approve(VIDEO, "plan", "dg.planning", now="2025-07-22T09:00+04:00").exit_code == 0
        run(
            ws,
            "extend",
            VIDEO,
            "--closes",
            "2025-10-15",
            "--reason",
            "exams",
            *ws.key("dg.planning"),
            now="2025-08-10T09:00+04:00",
        )
        yield ws


@contextmanager
def board_service(monkeypatch: pytest.MonkeyPatch, now: Any = lambda: NOW) -> Iterator[str]:
    with served(monkeypatch, now=now) as url:
        yield url


@contextmanager
def client_of(url: str, who: str, lang: str = "ar") -> Iterator[httpx.Client]:
    """`who` signed in over HTTP with a passkey of their own, reading in `lang`."""
    key = SoftwarePasskey(who, "localhost", url)
    key.enrol(ENROLLED)
    with httpx.Client(base_url=url, cookies={"musharaka_lang": lang}) as client:
        assert sign_in(client, key).status_code == 200
        yield client


def rows_of(html: str) -> dict[str, dict[str, str]]:
    """Each board row by campaign: its stage, status, window and gate cells' data, and its text."""
    found = {}
    for campaign, body in re.findall(r'<tr data-campaign="([^"]+)">(.*?)</tr>', html, re.S):
        cells = dict(re.findall(r'data-(stage|status|window|gate)="([^"]*)"', body))
        cells["text"] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()
        cells["overdue"] = "yes" if "data-overdue" in body else ""
        found[campaign] = cells
    return found


def test_the_board_lists_the_years_campaigns_by_quarter_with_windows_gates_and_who_decides(
    programme: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with board_service(monkeypatch) as url, client_of(url, "planning.team") as planner:
        page = planner.get("/programme")
        assert page.status_code == 200
        rows = rows_of(page.text)
        # the six campaigns of the 2025 programme, by quarter as the programme file orders them
        assert re.findall(r'<table class="board" data-quarter="([^"]+)">', page.text) == [
            "2025-Q1",
            "2025-Q2",
            "2025-Q3",
            "2025-Q4",
        ]
        assert list(rows) == [CHATBOT, GPA, CAMPAIGN, VIDEO, DIALOGUE, WEBSITE]
        # windows on 12 August: Q1 and Q2 closed in February and June without a start; the survey's closes on
        # 14 August (two days on); the video call's was extended to 15 October; Q4's open in October and November
        assert {c: r["window"] for c, r in rows.items()} == {
            CHATBOT: "missed",
            GPA: "missed",
            CAMPAIGN: "closing",
            VIDEO: "extended",
            DIALOGUE: "upcoming",
            WEBSITE: "upcoming",
        }
        assert "تُغلق خلال يومين" in rows[CAMPAIGN]["text"]
        assert "15 أكتوبر 2025" in rows[VIDEO]["text"]
        # the survey waits at its prepare gate, due five days after 15 June: overdue, for the DG of planning
        assert (rows[CAMPAIGN]["stage"], rows[CAMPAIGN]["status"], rows[CAMPAIGN]["gate"]) == (
            "prepare",
            "awaiting-gate",
            "prepare",
        )
        assert rows[CAMPAIGN]["overdue"] == "yes"
        assert "د. يعقوب الرئيسي" in rows[CAMPAIGN]["text"]  # dg.planning's name in the registry
        assert rows[VIDEO]["gate"] == "" and rows[VIDEO]["stage"] == "conduct"
        assert rows[WEBSITE]["status"] == "planned" and rows[WEBSITE]["overdue"] == ""
        # each title links to the campaign page
        assert f'<a href="/campaigns/{CAMPAIGN}">استطلاع حول رضا المستفيدين عن الخدمات الرقمية</a>' in page.text

        english = planner.get("/programme", cookies={"musharaka_lang": "en"})
        text = rows_of(english.text)[CAMPAIGN]["text"]
        assert "closing in 2 days" in text and "Overdue" in text and "The Prepare gate" in text


def test_the_filters_keep_the_rows_asked_for_and_the_live_part_keeps_the_filters(
    programme: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with board_service(monkeypatch) as url, client_of(url, "planning.team") as planner:
        assert list(rows_of(planner.get("/programme?quarter=2025-Q3").text)) == [CAMPAIGN, VIDEO]
        assert list(rows_of(planner.get("/programme?kind=survey").text)) == [GPA, CAMPAIGN, WEBSITE]
        assert list(rows_of(planner.get("/programme?status=missed").text)) == [CHATBOT, GPA]
        assert list(rows_of(planner.get("/programme?kind=survey&quarter=2025-Q4").text)) == [WEBSITE]
        assert len(rows_of(planner.get("/programme?sector=education").text)) == 6
        none = planner.get("/programme?sector=health")
        assert rows_of(none.text) == {} and "لا توجد حملة تطابق هذه المرشحات." in none.text
        assert rows_of(planner.get("/programme?year=2024").text) == {}
        page = planner.get("/programme?kind=survey&status=planned")
        assert 'data-live="/programme/rows?year=2025&amp;kind=survey&amp;status=planned"' in page.text
        part = planner.get("/programme/rows?year=2025&kind=survey&status=planned")
        assert part.status_code == 200 and "<html" not in part.text
        assert list(rows_of(part.text)) == [WEBSITE]
        # every filter is a labelled select
        for field in ("quarter", "kind", "sector", "status"):
            assert f'<label for="filter-{field}">' in page.text and f'<select id="filter-{field}"' in page.text


def test_approvers_and_auditors_read_the_board_and_nobody_signed_out_does(
    programme: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with board_service(monkeypatch) as url:
        for who in ("dg.planning", "internal.audit"):
            with client_of(url, who) as reader:
                for path in (
                    "/programme",
                    "/programme/rows",
                    "/programme/kpis",
                    "/programme/evidence",
                    "/programme/calendar",
                    "/programme/calendar.ics",
                ):
                    assert reader.get(path).status_code == 200, (who, path)
        with httpx.Client(base_url=url) as stranger:
            for path in ("/programme", "/programme/rows", "/programme/kpis", "/programme/calendar.ics"):
                answer = stranger.get(path)
                assert answer.status_code == 303 and answer.headers["location"] == "/signin", path


def test_the_half_year_kpis_are_the_ministrys_table(programme: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    with board_service(monkeypatch) as url, client_of(url, "planning.team", "en") as planner:
        page = planner.get("/programme/kpis?period=2025-H2")
        assert page.status_code == 200
        figures = {
            indicator: [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]
            for indicator, *cells in re.findall(
                r'<tr data-indicator="([^"]+)">.*?data-target>(.*?)</td>.*?data-actual>(.*?)</td>'
                r".*?data-gap>(.*?)</td>",
                page.text,
                re.S,
            )
        }
        # by 12 August no consultation of the second half-year is held (none passed its conduct gate), so the
        # count is 0 of 5 (gap 5); with nothing decided or analysed the two shares have nothing to measure
        assert figures == {
            "surveys-and-sessions": ["5", "0", "5"],
            "decisions-implemented": ["90%", "—", "—"],
            "results-published": ["100%", "—", "—"],
        }
        # and the programme's status table lists the six campaigns
        assert len(re.findall(r'<tr data-campaign="', page.text)) == 6
        wrong = planner.get("/programme/kpis?period=2025-H3")
        assert wrong.status_code == 400 and "Give a half-year such as 2025-H1" in wrong.text


def test_the_un_evidence_view_lists_levels_and_gaps(programme: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    with board_service(monkeypatch) as url, client_of(url, "planning.team", "en") as planner:
        page = planner.get("/programme/evidence?year=2025")
        assert page.status_code == 200
        # the sample programme: one decision-making campaign (the chatbot vote), five consultations, no
        # e-information campaign; nothing is held yet
        assert re.findall(r'<h2 id="level-([a-z-]+)">[^<]*: (\d+) campaigns?</h2>', page.text) == [
            ("information", "0"),
            ("consultation", "5"),
            ("decision-making", "1"),
        ]
        assert "No campaign at this level at all." in page.text
        assert page.text.count("No consultation held yet") == 2


def test_the_month_view_starts_weeks_on_sunday_and_lists_windows_gates_and_holidays(
    programme: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with board_service(monkeypatch) as url, client_of(url, "planning.team") as planner:
        august = planner.get("/programme/calendar?month=2025-08").text
        days = re.findall(r'<td data-day="([^"]+)" class="([^"]*)"', august)
        # August 2025 begins on a Friday and ends on a Sunday: six weeks, from Sunday 27 July to Saturday 6
        # September; Fridays and Saturdays are Oman's week-end
        assert len(days) == 42 and days[0] == ("2025-07-27", "other") and days[-1] == ("2025-09-06", "other weekend")
        assert days[5] == ("2025-08-01", "weekend") and days[6] == ("2025-08-02", "weekend")
        assert days[7] == ("2025-08-03", "")
        entries = re.findall(r'<li data-entry="([a-z]+)" data-campaign="([^"]+)">', august)
        assert entries == [("opens", VIDEO), ("closes", CAMPAIGN)]
        assert re.search(r'data-day="2025-08-03".*?data-entry="opens" data-campaign="' + VIDEO, august, re.S)
        assert re.search(r'data-day="2025-08-14"[^>]*>.*?data-entry="closes"', august, re.S)
        assert "أغسطس 2025" in august and 'href="/programme/calendar?month=2025-07"' in august
        assert 'href="/programme/calendar?month=2025-09"' in august
        june = planner.get("/programme/calendar?month=2025-06").text
        # the survey's prepare gate, due at the end of 20 June (five days after it opened: 21 June, 00:00), and Eid
        # al-Adha from 5 to 8 June
        assert re.findall(r'<li data-entry="([a-z]+)" data-campaign="([^"]+)">', june) == [
            ("gate", CAMPAIGN),  # 21 June
            ("closes", GPA),  # 30 June
        ]
        assert re.search(r'data-day="2025-06-21"[^>]*>.*?data-entry="gate"', june, re.S)
        assert june.count("عيد الأضحى") == 4
        assert planner.get("/programme/calendar?month=2025-13").status_code == 400


def test_the_ics_file_is_the_calendar_commands(
    programme: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with board_service(monkeypatch) as url, client_of(url, "planning.team") as planner:
        answer = planner.get("/programme/calendar.ics?lang=en")
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/calendar")
        assert "attachment" in answer.headers["content-disposition"]
    parsed = icalendar.Calendar.from_ical(answer.content)
    events = {str(e["uid"]): e for e in parsed.walk("VEVENT")}
    # a window for each of the six campaigns and the one open gate, the survey's prepare gate
    assert sorted(events) == sorted(
        [f"{c}.window@musharaka" for c in (CHATBOT, GPA, CAMPAIGN, VIDEO, DIALOGUE, WEBSITE)]
        + [f"{CAMPAIGN}.prepare.1.gate@musharaka"]
    )
    video = events[f"{VIDEO}.window@musharaka"]
    assert video.decoded("dtstart") == date(2025, 8, 3) and video.decoded("dtend") == date(2025, 10, 16)
    assert str(video["summary"]).startswith("Participation window: Public consultation")
    # the same events as `musharaka calendar --ics` writes at the same instant
    target = tmp_path / "programme.ics"
    run(programme, "calendar", "--ics", str(target), "--lang", "en", now=NOW.isoformat())
    written = {
        str(e["uid"]): str(e["summary"]) for e in icalendar.Calendar.from_ical(target.read_bytes()).walk("VEVENT")
    }
    assert written == {uid: str(e["summary"]) for uid, e in events.items()}


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_board_pages_pass_axe_in_both_languages(
    programme: Workspace, monkeypatch: pytest.MonkeyPatch, chromium: Any, lang: str
) -> None:
    with board_service(monkeypatch) as url, client_of(url, "planning.team") as planner:
        cookies = [{"name": name, "value": value, "url": url} for name, value in planner.cookies.items()]
        reader = person(chromium, authenticator=False, cookies=cookies, audit=True)
        reader.context.add_cookies([{"name": "musharaka_lang", "value": lang, "url": url}])
        found = {}
        for name, path in (
            ("board", "/programme"),
            ("kpis", "/programme/kpis?period=2025-H2"),
            ("evidence", "/programme/evidence"),
            ("calendar", "/programme/calendar?month=2025-08"),
        ):
            reader.page.goto(url + path)
            assert reader.page.locator("html").get_attribute("lang") == lang
            screenshot(reader.page, f"board-{name}-{lang}")
            if violations := axe_violations(reader.page):
                found[name] = violations
        reader.context.close()
        assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)


def test_a_row_changes_without_a_reload_when_a_gate_is_decided(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, chromium: Any
) -> None:
    run(ws, "start", CAMPAIGN, now="2025-08-04T09:00+04:00")
    with board_service(monkeypatch) as url, client_of(url, "planning.team") as planner:
        cookies = [{"name": name, "value": value, "url": url} for name, value in planner.cookies.items()]
        reader = person(chromium, authenticator=False, cookies=cookies)
        reader.page.goto(f"{url}/programme?quarter=2025-Q3")
        row = reader.page.locator(f'tr[data-campaign="{CAMPAIGN}"]')
        assert row.locator("td[data-status]").get_attribute("data-status") == "awaiting-gate"
        reader.page.evaluate("() => { window.notReloaded = true; }")
        reader.page.wait_for_function("() => document.body.dataset.liveVersion !== undefined")
        rejected = ws.reject(
            CAMPAIGN, "prepare", "dg.planning", "the subject is too broad", now="2025-08-12T11:00+04:00"
        )
        assert rejected.exit_code == 0, rejected.stderr
        reader.page.wait_for_function(
            f"() => document.querySelector('tr[data-campaign=\"{CAMPAIGN}\"] td[data-gate]').dataset.gate === ''"
        )
        assert reader.page.evaluate("() => window.notReloaded") is True  # the same page, its rows re-read
        assert row.locator("td[data-status]").get_attribute("data-status") != "awaiting-gate"
        reader.context.close()
