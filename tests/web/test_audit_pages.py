"""The auditor's view: a campaign's timeline and its replay to an instant, the log's verification, a checkpoint
and a bundle to take away; and an auditor, who reads everything, changes nothing anywhere in the service.

One campaign is started on 15 June 2025 at 09:00 (Muscat) and its prepare gate rejected on 16 June at 09:00
with a reason, once for the module; each test works on its own copy of that workspace.
"""

import json
import re
import shutil
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from musharaka.flows.web.app import create_app
from tests.conftest import Workspace, make_workspace
from tests.flows.samples import CAMPAIGN
from tests.state.test_audit import copy_of, rows
from tests.web.browser import axe_violations, person, screenshot, served
from tests.web.software_passkey import SoftwarePasskey
from tests.web.test_browser import invite, outcome
from tests.web.test_sessions import csrf_of, sign_in

pytestmark = pytest.mark.browser

REASON = "Add the budget line"
NOT_YOUR_DUTY_EN = "Your duties in the people registry do not include this, so nothing was done."
NOT_YOUR_DUTY_AR = "مهامك في سجل الأشخاص لا تشمل هذا، فلم يُنفَّذ شيء."


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The campaign started, its prepare gate open, then rejected: five events of its own."""
    root = tmp_path_factory.mktemp("audited")
    with pytest.MonkeyPatch.context() as patch:
        ws = make_workspace(root, patch, database=root / "state.db")  # a SQLite file: the tamper test edits it
        started = ws.run("start", CAMPAIGN, now="2025-06-15T09:00+04:00")
        assert started.exit_code == 0, started.stderr
        rejected = ws.reject(CAMPAIGN, "prepare", "dg.planning", REASON, now="2025-06-16T09:00+04:00")
        assert rejected.exit_code == 0, rejected.stderr
        yield root


@pytest.fixture
def home(golden: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """This test's own copy of the audited workspace."""
    yield copy_of(golden, tmp_path / "home", monkeypatch)


def signed_in(client: httpx.Client, url: str, who: str, lang: str = "ar") -> None:
    key = SoftwarePasskey(who, "localhost", url)
    key.enrol(datetime.now(UTC))
    answer = sign_in(client, key)
    assert answer.status_code == 200, answer.text
    if lang == "en":
        client.get("/lang/en")


def text_of(html: str) -> str:
    """What a reader sees: the page's text, tags and isolates dropped, spaces squeezed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\u2068", "").replace("\u2069", "").strip()


def row(html: str, seq: int) -> str:
    found = re.search(rf'<tr id="event-{seq}">(.*?)</tr>', html, re.S)
    assert found, f"no timeline row for event {seq}"
    return text_of(found.group(1))


# --- who may see and do what --------------------------------------------------------------------------


def test_the_audit_pages_refuse_a_person_without_the_auditor_duty(
    home: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served(monkeypatch) as url, httpx.Client(base_url=url) as client:
        signed_in(client, url, "dg.planning")  # an approver, not an auditor
        pages = ["/audit", "/audit/verify", f"/audit/campaigns/{CAMPAIGN}", f"/audit/campaigns/{CAMPAIGN}/bundle.zip"]
        for path in pages:
            refused = client.get(path)
            assert refused.status_code == 403, path
            assert NOT_YOUR_DUTY_AR in text_of(refused.text), path
        csrf = csrf_of(client, "/")
        refused = client.post("/audit/checkpoint", data={"csrf": csrf})
        assert refused.status_code == 403 and NOT_YOUR_DUTY_AR in text_of(refused.text)
        client.get("/lang/en")
        refused = client.get("/audit")
        assert refused.status_code == 403 and NOT_YOUR_DUTY_EN in text_of(refused.text)
        assert 'lang="en"' in refused.text


def plausible_path(path: str) -> str:
    """A route's path with its parameters given values a real request would carry."""
    values = {"campaign_id": CAMPAIGN, "campaign": CAMPAIGN, "stage": "prepare", "attempt": "1", "batch": "1"}
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values.get(m.group(1), "1"), path)


OPEN_TO_ALL = ("/signin", "/signin/options", "/signout", "/enrol/{secret}", "/enrol/{secret}/options", "/lang/{lang}")


def test_an_auditor_is_refused_every_state_changing_route_and_nothing_is_recorded(
    home: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    changing = [
        (route.path, method)
        for route in create_app().routes
        if isinstance(route, APIRoute)
        for method in sorted(route.methods & {"POST", "PUT", "PATCH", "DELETE"})
        if route.path not in (*OPEN_TO_ALL, "/audit/checkpoint")
    ]
    # the approvers' four at least, and whatever the other pages add
    assert {"/delegations/options", "/delegations/sign", "/gates/{campaign_id}/{stage}/decision"} <= {
        path for path, _ in changing
    }
    with served(monkeypatch) as url, httpx.Client(base_url=url) as client:
        signed_in(client, url, "internal.audit", "en")
        csrf = csrf_of(client, "/audit")
        outside_access = "select count(*) from event where campaign_id != '_access'"
        [(before,)] = rows(home, outside_access)
        body = {
            "decision": "approve",
            "attempt": 1,
            "digest": "0" * 64,
            "text": "looks fine",
            "delegate": "dir.digital",
            "starts": "2026-12-01",
            "ends": "2026-12-02",
            "reason": "leave",
            "credential": {"id": "x", "response": {}},
            "campaign": CAMPAIGN,
        }
        form = {"csrf": csrf, "campaign": CAMPAIGN, "stage": "prepare", "reason": "leave", "note": "done"}
        upload = {"file": ("contributions.csv", b"submitted_at,channel\n", "text/csv")}
        for path, method in changing:
            target = plausible_path(path)
            as_json = client.request(method, target, json=body, headers={"X-CSRF-Token": csrf})
            as_form = client.request(method, target, data=form, files=upload, headers={"X-CSRF-Token": csrf})
            assert (as_json.status_code, as_form.status_code) == (403, 403), (method, path)
            # refused for the duty, not for a token or a body the route could not read
            said = [as_json.json().get("code") if "json" in as_json.headers["content-type"] else "", as_form.text]
            assert said[0] == "not-your-duty" or NOT_YOUR_DUTY_EN in text_of(said[1]), (method, path, said)
        [(after,)] = rows(home, outside_access)
        assert after == before  # only sign-ins are recorded, in the access chain


# --- the timeline and the replay ---------------------------------------------------------------------


def test_the_timeline_says_who_did_what_when_and_why_and_marks_the_signed_decision(
    home: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served(monkeypatch) as url, httpx.Client(base_url=url) as client:
        signed_in(client, url, "internal.audit", "en")
        listed = client.get("/audit")
        assert listed.status_code == 200
        assert f'href="/audit/campaigns/{CAMPAIGN}"' in listed.text
        campaigns = text_of(listed.text)
        assert "Beneficiaries' satisfaction" in campaigns.replace("&#39;", "'") and "Prepare" in campaigns
        page = client.get(f"/audit/campaigns/{CAMPAIGN}")
        assert page.status_code == 200
        html = page.text.replace("&#39;", "'")
        assert len(re.findall(r'<tr id="event-\d+">', html)) == 5
        decided = row(html, 5)
        assert "16 June 2025, 09:00" in decided  # 05:00 UTC, in Muscat
        assert "Dr Yaqoob Al Raisi" in decided and REASON in decided and "Signature verified" in decided
        assert "Signature" not in row(html, 1)  # the start is nobody's signed decision
        assert "E-participation team, Planning Department" in row(html, 1)
        assert "Every event of this campaign links and verifies" in text_of(html)
        client.get("/lang/ar")
        arabic = client.get(f"/audit/campaigns/{CAMPAIGN}")
        decided = row(arabic.text, 5)
        assert "د. يعقوب الرئيسي" in decided and "التوقيع متحقَّق منه" in decided and "يونيو 2025" in decided
        assert "المحرّك" in row(arabic.text, 4)  # the gate was opened by the engine, named in Arabic


@pytest.mark.parametrize(
    ("at", "figures"),
    [
        # three hours after the start: the prepare gate open, no decision yet
        ("2025-06-15T12:00", ["Prepare · Attempt 1", "awaiting a gate", "Events up to then 4"]),
        # an hour after the rejection: the stage to rework, a second attempt
        ("2025-06-16T10:00", ["Prepare · Attempt 2", f"pending: rework: {REASON}", "Events up to then 5"]),
    ],
)
def test_the_campaign_as_it_stood_at_an_instant(
    home: Workspace, monkeypatch: pytest.MonkeyPatch, at: str, figures: list[str]
) -> None:
    with served(monkeypatch) as url, httpx.Client(base_url=url) as client:
        signed_in(client, url, "internal.audit", "en")
        page = client.get(f"/audit/campaigns/{CAMPAIGN}", params={"at": at})
        assert page.status_code == 200, page.text[:300]
        html = page.text
        assert f'value="{at}"' in html  # the picker keeps the instant
        stood = text_of(html)
        for figure in figures:
            assert figure in stood, figure
        assert "Contributions counted 0" in stood
        assert "6 July 2025 – 14 August 2025 · upcoming" in stood  # the window opened in July
        gates = text_of(re.search(r'<table class="audit" id="stood-gates">(.*?)</table>', html, re.S).group(1))  # type: ignore[union-attr]
        rows = len(re.findall(r'<tr id="event-\d+">', html))
        if at.startswith("2025-06-15"):
            assert "Prepare 1 open" in gates and "None yet" in gates
            assert rows == 4  # the rejection came later
        else:
            assert "Prepare 1 rejected" in gates and "Dr Yaqoob Al Raisi rejected" in gates and REASON in gates
            assert rows == 5


def test_before_the_start_the_campaign_had_not_started_and_a_wrong_instant_is_refused(
    home: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served(monkeypatch) as url, httpx.Client(base_url=url) as client:
        signed_in(client, url, "internal.audit")
        before = client.get(f"/audit/campaigns/{CAMPAIGN}", params={"at": "2025-06-15T08:59"})
        assert "لم تكن الحملة قد بدأت في ذلك الوقت." in text_of(before.text)
        assert "لم يُسجَّل أي حدث حتى تلك اللحظة." in text_of(before.text)
        wrong = client.get(f"/audit/campaigns/{CAMPAIGN}", params={"at": "yesterday"})
        assert wrong.status_code == 400 and "أدخِل تاريخًا ووقتًا" in text_of(wrong.text)
        unknown = client.get("/audit/campaigns/no-such-campaign")
        assert unknown.status_code == 404 and "لا توجد حملة بدأت بهذا المعرّف." in text_of(unknown.text)


# --- verification ------------------------------------------------------------------------------------


def test_verify_counts_the_events_and_names_the_first_broken_one(
    home: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served(monkeypatch) as url, httpx.Client(base_url=url) as client:
        signed_in(client, url, "internal.audit", "en")
        whole = client.get("/audit/verify")
        [(events,)] = rows(home, "select count(*) from event")  # every chain, the sign-in's included
        assert "The log verifies" in text_of(whole.text)
        assert re.search(r'id="events-checked">(\d+)<', whole.text).group(1) == str(events)  # type: ignore[union-attr]

        # a rogue administrator rewrites the rejection's reason with plain SQL
        rows(
            home,
            "update event set payload = replace(payload, ?, ?) where campaign_id = ? and seq = 5",
            REASON,
            "Fine",
            CAMPAIGN,
        )
        for path in ("/audit/verify", f"/audit/verify?campaign={CAMPAIGN}"):
            broken = text_of(client.get(path).text)
            assert "The log does not verify." in broken
            assert f"{CAMPAIGN} 5 its content, author, time or kind does not match its hash" in broken
        timeline = client.get(f"/audit/campaigns/{CAMPAIGN}").text
        assert "Not verified" in row(timeline, 5) and "does not verify" in text_of(timeline)
        client.get("/lang/ar")
        arabic = text_of(client.get(f"/audit/verify?campaign={CAMPAIGN}").text)
        assert "لم يثبت التحقق من السجل." in arabic
        assert f"{CAMPAIGN} 5 لا يطابق مضمونُه أو مُحدِثُه أو وقتُه أو نوعُه بصمتَه" in arabic
    cli = home.run("audit", "verify")
    assert cli.exit_code == 1 and f"{CAMPAIGN} event 5: " in cli.stderr  # the terminal names the same event


# --- checkpoint and bundle ---------------------------------------------------------------------------


def test_a_checkpoint_downloads_signed_and_records_nothing(
    home: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with served(monkeypatch) as url, httpx.Client(base_url=url) as client:
        signed_in(client, url, "internal.audit", "en")
        assert client.post("/audit/checkpoint", data={"csrf": "not-it"}).status_code == 403
        [(before,)] = rows(home, "select count(*) from event")
        taken = client.post("/audit/checkpoint", data={"csrf": csrf_of(client, "/audit")})
        [(after,)] = rows(home, "select count(*) from event")
    assert taken.status_code == 200 and after == before
    assert taken.headers["content-disposition"].startswith('attachment; filename="checkpoint-')
    checkpoint = taken.json()
    [(head,)] = rows(home, "select hash from event where campaign_id = ? and seq = 5", CAMPAIGN)
    assert checkpoint["heads"][CAMPAIGN] == [5, head]
    (tmp_path / "checkpoint.json").write_bytes(taken.content)
    checked = home.run("audit", "verify", "--checkpoint", str(tmp_path / "checkpoint.json"), *home.engine())
    assert checked.exit_code == 0, checked.stderr
    assert "the log covers the newest checkpoint" in checked.output


def test_the_bundle_downloads_as_a_zip_the_cli_verifies_as_it_is(
    home: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with served(monkeypatch) as url, httpx.Client(base_url=url) as client:
        signed_in(client, url, "internal.audit", "en")
        download = client.get(f"/audit/campaigns/{CAMPAIGN}/bundle.zip")
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    assert download.headers["content-disposition"].startswith(f'attachment; filename="{CAMPAIGN}-bundle-')
    bundle = tmp_path / "bundle.zip"
    bundle.write_bytes(download.content)
    names = zipfile.ZipFile(bundle).namelist()
    assert any(name.endswith("/manifest.json") for name in names)
    verified = home.run("audit", "verify", "--bundle", str(bundle), *home.engine())
    assert verified.exit_code == 0, verified.stderr
    assert verified.output.startswith(f"ok: bundle {bundle} verifies")

    # one event's line altered inside the zip: the manifest no longer holds
    altered = tmp_path / "altered.zip"
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(altered, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("/events.jsonl"):
                data = data.replace(REASON.encode(), b"Fine")
            target.writestr(info, data)
    refused = home.run("audit", "verify", "--bundle", str(altered), *home.engine())
    assert refused.exit_code == 1 and "events.jsonl: its bytes differ from the manifest" in refused.stderr


def test_the_cli_verifies_a_zip_with_the_bundle_at_its_top_and_refuses_a_file_that_is_not_one(
    home: Workspace, tmp_path: Path
) -> None:
    exported = home.run("audit", "export", "--campaign", CAMPAIGN, str(tmp_path / "bundle"))
    assert exported.exit_code == 0, exported.stderr
    archive = shutil.make_archive(str(tmp_path / "flat"), "zip", tmp_path / "bundle")
    verified = home.run("audit", "verify", "--bundle", archive, *home.engine())
    assert verified.exit_code == 0, verified.stderr
    (tmp_path / "notes.txt").write_text("not a bundle", encoding="utf-8")
    refused = home.run("audit", "verify", "--bundle", str(tmp_path / "notes.txt"), *home.engine())
    assert refused.exit_code == 1 and "neither a bundle's folder nor a zip file of one" in refused.stderr
    escaping = tmp_path / "escaping.zip"
    with zipfile.ZipFile(escaping, "w") as target:
        target.writestr("../outside.txt", "x")
    refused = home.run("audit", "verify", "--bundle", str(escaping), *home.engine())
    assert refused.exit_code == 1 and "would be written outside the bundle's folder" in refused.stderr
    assert not (tmp_path / "outside.txt").exists()


# --- in the browser ----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_an_auditor_reads_the_timeline_replays_it_and_verifies_in_the_browser(
    home: Workspace, monkeypatch: pytest.MonkeyPatch, chromium: Any, lang: str
) -> None:
    label = {
        "ar": {
            "create": "إنشاء مفتاح المرور",
            "who": "معرّفك في سجل الأشخاص",
            "sign in": "تسجيل الدخول بمفتاح المرور",
            "picker": "التاريخ والوقت",
            "show": "عرض الحال في تلك اللحظة",
            "verify": "التحقق من هذه الحملة",
            "verified": "التوقيع متحقَّق منه",
            "ok": "ثبت التحقق من السجل",
            "awaiting": "بانتظار قرار البوابة",
        },
        "en": {
            "create": "Create the passkey",
            "who": "Your id in the people registry",
            "sign in": "Sign in with your passkey",
            "picker": "Date and time",
            "show": "Show it as it stood",
            "verify": "Verify this campaign",
            "verified": "Signature verified",
            "ok": "The log verifies",
            "awaiting": "awaiting a gate",
        },
    }[lang]
    with served(monkeypatch) as url:
        auditor = person(chromium, audit=True)
        if lang == "en":
            auditor.context.add_cookies([{"name": "musharaka_lang", "value": "en", "url": url}])
        page = auditor.page
        page.goto(invite(home, "internal.audit"))
        page.get_by_role("button", name=label["create"]).click()
        outcome(auditor)
        page.goto(f"{url}/signin")
        page.get_by_label(label["who"]).fill("internal.audit")
        page.get_by_role("button", name=label["sign in"]).click()
        page.wait_for_url(f"{url}/audit")  # an auditor lands on the audit page
        assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
        found = {"audit": axe_violations(page)}
        screenshot(page, f"audit-{lang}")

        page.locator(f'a[href="/audit/campaigns/{CAMPAIGN}"]').click()
        page.wait_for_url(f"{url}/audit/campaigns/{CAMPAIGN}")
        assert label["verified"] in str(page.locator("#event-5").text_content())
        found["timeline"] = axe_violations(page)
        screenshot(page, f"audit-timeline-{lang}")

        page.get_by_label(label["picker"]).fill("2025-06-15T12:00")
        page.get_by_role("button", name=label["show"]).click()
        page.wait_for_url(re.compile(r".*\?at=2025-06-15T12%3A00$"))
        assert label["awaiting"] in str(page.locator("#stood-status").text_content())
        assert page.locator("#event-5").count() == 0 and page.locator("#event-4").count() == 1
        found["replay"] = axe_violations(page)
        screenshot(page, f"audit-replay-{lang}")

        page.get_by_role("link", name=label["verify"]).click()
        page.wait_for_url(re.compile(r".*/audit/verify\?campaign="))
        assert label["ok"] in str(page.locator("#verdict").text_content())
        found["verify"] = axe_violations(page)
        screenshot(page, f"audit-verify-{lang}")

        page.goto(f"{url}/audit")
        with page.expect_download() as download:
            page.locator('form[action="/audit/checkpoint"] button').click()
        assert download.value.suggested_filename.startswith("checkpoint-")
        auditor.context.close()
    found = {name: violations for name, violations in found.items() if violations}
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)
