"""Approvers in a real browser: invited, they create a passkey, sign in with it and sign decisions with it.

Chromium with a virtual authenticator plays each person's device. The log is read back through the CLI,
as an auditor would, and the pages are checked with axe-core in both languages.
"""

import json
import re
from typing import Any

import pytest

from musharaka.state.passkeys import b64url
from tests.conftest import Workspace
from tests.flows.samples import CAMPAIGN
from tests.flows.test_gates import GPA, history, started
from tests.web.browser import Person, axe_violations, person, screenshot, served

pytestmark = pytest.mark.browser

CHATBOT = "moheri-2025-q1-chatbot-name"


def run(ws: Workspace, *args: str, now: str | None = None) -> None:
    result = ws.run(*args, now=now)
    assert result.exit_code == 0, result.output + result.stderr


def invite(ws: Workspace, who: str) -> str:
    result = ws.run("people", "invite", who)
    assert result.exit_code == 0, result.output + result.stderr
    return result.output.strip().splitlines()[-1]


def outcome(someone: Person) -> str:
    box = someone.page.locator("#outcome")
    box.wait_for(state="visible")
    someone.page.wait_for_function(
        "() => { const t = document.getElementById('outcome').textContent; return t && !t.endsWith('…'); }"
    )
    return str(box.text_content())


def enrol_and_sign_in(someone: Person, link: str, url: str, who: str, lands: str = "/") -> None:
    """Create the person's passkey from their link, sign in with it, and land on the page of their duty."""
    someone.page.goto(link)
    someone.page.get_by_role("button", name="إنشاء مفتاح المرور").click()
    assert "أُنشئ مفتاح المرور" in outcome(someone)
    someone.page.goto(f"{url}/signin")
    someone.page.get_by_label("معرّفك في سجل الأشخاص").fill(who)
    someone.page.get_by_role("button", name="تسجيل الدخول بمفتاح المرور").click()
    someone.page.wait_for_url(f"{url}{lands}")


def decide(someone: Person, url: str, campaign: str, stage: str, button: str, field: str = "", text: str = "") -> str:
    someone.page.goto(f"{url}/gates/{campaign}/{stage}")
    if field:
        someone.page.get_by_label(field).fill(text)
    someone.page.get_by_role("button", name=button, exact=True).click()
    return outcome(someone)


def decisions_in_log(ws: Workspace, campaign: str) -> list[dict[str, Any]]:
    return [e for e in history(ws, campaign) if e["type"] in ("gate.decided", "gate.refused")]


def test_an_approver_enrols_signs_in_and_signs_decisions_with_a_passkey(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, chromium: Any
) -> None:
    started(ws)  # the prepare gate of CAMPAIGN, submitted by the plan's owner
    started(ws, GPA)
    # dg.planning submits this one's readiness answers, so its prepare gate is not theirs to decide
    run(ws, "start", CHATBOT, "--no-advance", now="2025-06-15T09:00+04:00")
    readiness = str(ws.write("readiness.yaml", "management_support: I sponsor it myself.\n"))
    run(ws, "submit", CHATBOT, "prepare", readiness, *ws.key("dg.planning"), now="2025-06-15T10:00+04:00")
    run(ws, "advance", CHATBOT, now="2025-06-15T10:05+04:00")

    with served(monkeypatch) as url:
        link = invite(ws, "dg.planning")
        assert re.fullmatch(rf"{url}/enrol/[A-Za-z0-9_-]{{43}}", link)
        dg = person(chromium)
        enrol_and_sign_in(dg, link, url, "dg.planning")
        [credential] = dg.credentials()
        listed = ws.run("people", "list").output
        assert re.search(r"dg\.planning .* passkeys: 1", listed), listed

        # the link works once
        dg.page.goto(link)
        assert "استُخدم رابط التسجيل هذا من قبل" in dg.page.content()

        # the inbox: both gates dg.planning may decide, not the one they submitted; Arabic, right to left
        dg.page.goto(f"{url}/")
        assert dg.page.locator("html").get_attribute("dir") == "rtl"
        rows = dg.page.locator("tbody tr")
        assert rows.count() == 2
        inbox = dg.page.locator("main").inner_text()
        assert CAMPAIGN in inbox and GPA in inbox and CHATBOT not in inbox
        assert inbox.count("متأخرة") == 2  # due in June 2025: overdue by the clock
        screenshot(dg.page, "inbox-ar")

        # a stale digest: the outputs the page showed are not the outputs of the gate now
        dg.page.goto(f"{url}/gates/{CAMPAIGN}/prepare")
        screenshot(dg.page, "gate-ar")
        dg.page.evaluate("document.querySelectorAll('input[name=digest]').forEach(i => i.value = '0'.repeat(64))")
        dg.page.get_by_role("button", name="موافقة", exact=True).click()
        assert "تغيّرت مخرجات المرحلة منذ أن راجعتها" in outcome(dg)
        [refused] = decisions_in_log(ws, CAMPAIGN)
        assert (refused["type"], refused["payload"]["code"], refused["actor"]) == (
            "gate.refused",
            "stale-digest",
            "engine",
        )

        # approve: the event keeps the passkey's assertion over the canonical message
        message = decide(dg, url, CAMPAIGN, "prepare", "موافقة", "تعليق (اختياري)", "جاهزون للتخطيط")
        assert "سُجّلت موافقتك الموقّعة" in message and "اجتازت البوابة" in message
        decided = decisions_in_log(ws, CAMPAIGN)[-1]
        assert (decided["type"], decided["actor"], decided["payload"]["decision"]) == (
            "gate.decided",
            "dg.planning",
            "approve",
        )
        signed = decided["payload"]["signed"]
        assert signed["public_key"] == "webauthn" and signed["signature"] == ""
        assert signed["assertion"]["credential_id"] == b64url_of(credential["credentialId"])
        assert signed["text"] == "جاهزون للتخطيط"

        # reject needs a reason; with one it is recorded with it
        message = decide(dg, url, GPA, "prepare", "رفض", "سبب الرفض (مطلوب)", "الأسئلة تحتاج إلى مراجعة")
        assert "سُجّل رفضك الموقّع مع سببه" in message
        rejected = decisions_in_log(ws, GPA)[-1]
        assert (rejected["payload"]["decision"], rejected["payload"]["text"]) == ("reject", "الأسئلة تحتاج إلى مراجعة")

        # self-approval: the page offers no decision; a decision posted anyway is refused and recorded
        dg.page.goto(f"{url}/gates/{CHATBOT}/prepare")
        assert dg.page.get_by_role("button", name="موافقة", exact=True).count() == 0
        dg.page.evaluate(
            """() => {
              const form = document.createElement('form');
              form.className = 'decide'; form.dataset.passkey = 'decide'; form.method = 'post';
              form.action = location.pathname;
              for (const [k, v] of Object.entries({decision: 'approve', digest: document.getElementById('digest')
                  .textContent, attempt: '1', text: ''})) {
                const input = document.createElement('input'); input.type = 'hidden'; input.name = k; input.value = v;
                form.append(input);
              }
              const button = document.createElement('button'); button.type = 'submit'; button.textContent = 'go';
              form.append(button); document.querySelector('main').append(form);
            }"""
        )
        dg.page.get_by_role("button", name="go").click()
        assert "لا يجوز لك اعتماد مرحلة قدّمتها بنفسك" in outcome(dg)
        assert decisions_in_log(ws, CHATBOT)[-1]["payload"]["code"] == "self-approval"

        # English on request, whole
        dg.page.goto(f"{url}/gates/{GPA}/prepare")
        dg.page.get_by_role("link", name="English").click()
        assert dg.page.locator("html").get_attribute("lang") == "en"
        assert dg.page.locator("html").get_attribute("dir") == "ltr"
        assert "Earlier decisions" in dg.page.locator("main").inner_text()


def b64url_of(standard: str) -> str:
    """DevTools gives credential ids in standard base64; WebAuthn's JSON uses unpadded base64url."""
    import base64

    return b64url(base64.b64decode(standard))


def test_a_session_cookie_without_the_passkey_cannot_decide(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, chromium: Any
) -> None:
    started(ws)
    with served(monkeypatch) as url:
        dg = person(chromium)
        enrol_and_sign_in(dg, invite(ws, "dg.planning"), url, "dg.planning")
        # a real approval on another campaign's gate would be replayable only if the engine let it
        thief = person(chromium, cookies=dg.context.cookies())  # a device of its own: no passkey on it
        thief.page.goto(f"{url}/gates/{CAMPAIGN}/prepare")
        message = decide(thief, url, CAMPAIGN, "prepare", "موافقة")
        assert "لم يكتمل التحقق بمفتاح المرور" in message
        # straight to the service, with an assertion made up from the passkey's public data: refused
        csrf = thief.page.locator('meta[name="csrf"]').get_attribute("content")
        headers = {"X-CSRF-Token": csrf, "Content-Type": "application/json"}
        body = {"decision": "approve", "digest": "", "attempt": 1, "text": ""}
        digest = thief.page.locator("#digest").text_content()
        body["digest"] = digest
        first = thief.context.request.post(
            f"{url}/gates/{CAMPAIGN}/prepare/decision", data=json.dumps(body), headers=headers
        )
        assert first.ok
        [credential] = dg.credentials()
        forged = {
            "id": b64url_of(credential["credentialId"]),
            "response": {"authenticatorData": "AAAA", "clientDataJSON": "e30", "signature": "AAAA"},
        }
        second = thief.context.request.post(
            f"{url}/gates/{CAMPAIGN}/prepare/sign", data=json.dumps({"credential": forged}), headers=headers
        )
        assert second.status == 409
        assert second.json()["code"] == "bad-signature"
        log = decisions_in_log(ws, CAMPAIGN)
        assert [e["type"] for e in log] == ["gate.refused"]
        assert log[0]["payload"]["code"] == "bad-signature"


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_every_page_passes_axe_in_both_languages(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, chromium: Any, lang: str
) -> None:
    started(ws)
    with served(monkeypatch) as url:
        dg = person(chromium, audit=True)
        if lang == "en":
            dg.context.add_cookies([{"name": "musharaka_lang", "value": "en", "url": url}])
        link = invite(ws, "dg.planning")
        pages = {}
        dg.page.goto(link)
        pages["enrol"] = axe_violations(dg.page)
        dg.page.locator("button[type=submit]").click()
        outcome(dg)
        pages["enrolled"] = axe_violations(dg.page)
        dg.page.goto(f"{url}/signin")
        pages["signin"] = axe_violations(dg.page)
        dg.page.locator("#person").fill("dg.planning")
        dg.page.locator("button[type=submit]").click()
        dg.page.wait_for_url(f"{url}/")
        pages["inbox"] = axe_violations(dg.page)
        dg.page.goto(f"{url}/gates/{CAMPAIGN}/prepare")
        pages["gate"] = axe_violations(dg.page)
        assert dg.page.locator("html").get_attribute("lang") == lang
        dg.page.goto(f"{url}/no-such-page")
        pages["not-found"] = axe_violations(dg.page)
        found = {name: found for name, found in pages.items() if found}
        assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)
