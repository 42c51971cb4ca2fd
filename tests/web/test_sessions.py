"""The service's doors, over HTTP: sessions, CSRF, the sign-in limit, and every refusal of a decision.

A software passkey (tests/web/software_passkey.py) answers the service's WebAuthn requests as a device
would, so these run without a browser; the browser tests drive the same routes through Chromium.
"""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from musharaka.state.db import session_scope
from musharaka.state.events import SignInRecorded, events_of, payload_of
from musharaka.state.passkeys import b64url
from tests.conftest import Workspace
from tests.flows.samples import CAMPAIGN
from tests.flows.test_gates import edit_gates, edit_registry, history, started
from tests.web.browser import served
from tests.web.software_passkey import SoftwarePasskey

pytestmark = pytest.mark.browser


class Clock:
    """The service's clock for a test: the real time, moved on when the test says so."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def csrf_of(client: httpx.Client, path: str) -> str:
    page = client.get(path)
    found = re.search(r'<meta name="csrf" content="([^"]+)">', page.text)
    assert found, page.text[:300]
    return found.group(1)


def sign_in(client: httpx.Client, key: SoftwarePasskey) -> httpx.Response:
    csrf = csrf_of(client, "/signin")
    headers = {"X-CSRF-Token": csrf}
    options = client.post("/signin/options", json={"person": key.person}, headers=headers)
    if options.status_code != 200:
        return options
    return client.post("/signin", json={"person": key.person, "credential": key.get(options.json())}, headers=headers)


def decide(
    client: httpx.Client, key: SoftwarePasskey, campaign: str, body: dict[str, Any], stage: str = "prepare"
) -> httpx.Response:
    csrf = csrf_of(client, "/")
    headers = {"X-CSRF-Token": csrf}
    options = client.post(f"/gates/{campaign}/{stage}/decision", json=body, headers=headers)
    assert options.status_code == 200, options.text
    return client.post(f"/gates/{campaign}/{stage}/sign", json={"credential": key.get(options.json())}, headers=headers)


def open_digest(client: httpx.Client, campaign: str, stage: str = "prepare") -> str:
    page = client.get(f"/gates/{campaign}/{stage}")
    found = re.search(r'id="digest">([0-9a-f]{64})<', page.text)
    assert found, page.text[:500]
    return found.group(1)


def access_log() -> list[SignInRecorded]:
    with session_scope() as session:
        found = [payload_of(e) for e in events_of("_access", session=session)]
    return [p for p in found if isinstance(p, SignInRecorded)]


def test_a_session_is_a_strict_http_only_cookie_that_ends_when_idle(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    with served(monkeypatch, now=clock) as url, httpx.Client(base_url=url) as client:
        key = SoftwarePasskey("dg.planning", "localhost", url)
        key.enrol(clock())
        signed_in = sign_in(client, key)
        assert signed_in.status_code == 200, signed_in.text
        cookie = signed_in.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
        assert client.get("/").status_code == 200
        clock.offset += timedelta(minutes=29)  # within the 30 minutes: touching it keeps it alive
        assert client.get("/").status_code == 200
        clock.offset += timedelta(minutes=31)
        gone = client.get("/")
        assert (gone.status_code, gone.headers["location"]) == (303, "/signin")
        assert [(e.person, e.outcome) for e in access_log()] == [("dg.planning", "signed-in")]


def test_a_request_without_its_csrf_token_is_refused_and_changes_nothing(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    started(ws)
    with served(monkeypatch) as url, httpx.Client(base_url=url) as client:
        key = SoftwarePasskey("dg.planning", "localhost", url)
        key.enrol(datetime.now(UTC))
        assert sign_in(client, key).status_code == 200
        before = len(history(ws))
        body = {"decision": "approve", "digest": open_digest(client, CAMPAIGN), "attempt": 1, "text": ""}
        assert client.post(f"/gates/{CAMPAIGN}/prepare/decision", json=body).status_code == 403
        wrong = {"X-CSRF-Token": "not-the-token"}
        assert client.post(f"/gates/{CAMPAIGN}/prepare/decision", json=body, headers=wrong).status_code == 403
        lend = {"delegate": "dir.digital", "starts": "2026-12-01", "ends": "2026-12-31", "reason": "leave"}
        assert client.post("/delegations/options", json=lend).status_code == 403
        assert client.post("/signout", data={}).status_code == 403
        assert len(history(ws)) == before
        assert client.get("/").status_code == 200  # still signed in: the refused sign-out did nothing


def test_failed_sign_ins_are_limited_and_recorded(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    with served(monkeypatch) as url, httpx.Client(base_url=url) as client:
        key = SoftwarePasskey("dg.planning", "localhost", url)
        key.enrol(datetime.now(UTC))
        impostor = SoftwarePasskey("dg.planning", "localhost", url, credential_id=key.credential_id)  # other key
        for _ in range(5):
            refused = sign_in(client, impostor)
            assert refused.status_code == 401, refused.text
            assert refused.json()["message"] == "تعذّر تسجيل الدخول بمفتاح المرور هذا."
        limited = sign_in(client, key)  # the right passkey, but after five failures
        assert limited.status_code == 429
        assert "خمس عشرة دقيقة" in limited.json()["message"]
        assert client.get("/").status_code == 303
        outcomes = [(e.person, e.outcome) for e in access_log()]
        assert outcomes == [("dg.planning", "refused")] * 5
        assert all("does not verify" in e.reason for e in access_log())


def test_each_refusal_of_a_decision_is_given_in_both_languages_and_recorded(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit_gates(ws, CAMPAIGN, "prepare", "    roles: [dg-planning, director]\n    quorum: 2\n")
    started(ws)
    with served(monkeypatch) as url, httpx.Client(base_url=url) as client:
        key = SoftwarePasskey("dg.planning", "localhost", url)
        key.enrol(datetime.now(UTC))
        assert sign_in(client, key).status_code == 200
        digest = open_digest(client, CAMPAIGN)
        approve = {"decision": "approve", "digest": digest, "attempt": 1, "text": ""}

        no_reason = client.post(
            f"/gates/{CAMPAIGN}/prepare/decision",
            json={"decision": "reject", "digest": digest, "attempt": 1, "text": " "},
            headers={"X-CSRF-Token": csrf_of(client, "/")},
        )
        assert (no_reason.status_code, no_reason.json()["code"]) == (400, "no-reason")

        first = decide(client, key, CAMPAIGN, approve)
        assert first.status_code == 200, first.text
        seat = decide(client, key, CAMPAIGN, approve)  # a second approval by the same person: one seat each
        assert (seat.status_code, seat.json()["code"]) == (409, "already-approved")
        assert seat.json()["message"] == "شُغل مقعدك في النصاب: وافقت على هذه البوابة من قبل."

        replayed = decide(client, key, CAMPAIGN, approve | {"attempt": 2})
        assert replayed.json()["code"] == "replayed"

        client.cookies.set("musharaka_lang", "en")
        stale = decide(client, key, CAMPAIGN, approve | {"digest": "0" * 64})
        assert (
            stale.json()["message"]
            == "The stage's outputs changed since you reviewed them: review them again, then sign."
        )

        # the registry file revokes the passkey: its next signature is refused
        def revoke(registry: Any) -> None:
            dg = next(a for a in registry["approvers"] if a["id"] == "dg.planning")
            dg["passkeys"] = [
                {
                    "id": "dg.planning-passkey-1",
                    "credential_id": key.credential_id,
                    "public_key": b64url(key.cose()),
                    "algorithm": "ES256",
                    "rp_id": "localhost",
                    "origin": url,
                    "valid_from": "2025-01-01T00:00:00+04:00",
                    "revoked_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
                }
            ]

        edit_registry(ws, revoke)
        revoked = decide(client, key, CAMPAIGN, approve)
        assert (revoked.status_code, revoked.json()["code"]) == (409, "key-not-in-force")
        assert revoked.json()["message"] == "This passkey is revoked or not in force now."
        codes = [e["payload"]["code"] for e in history(ws) if e["type"] == "gate.refused"]
        assert codes == ["already-approved", "replayed", "stale-digest", "key-not-in-force"]
        # and it no longer signs in
        with httpx.Client(base_url=url) as fresh:
            assert sign_in(fresh, key).status_code == 401


def test_the_enrolment_link_works_once_and_for_a_day(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    with served(monkeypatch, now=clock) as url, httpx.Client(base_url=url) as client:
        link = ws.run("people", "invite", "dir.digital").output.strip().splitlines()[-1]
        path = link.removeprefix(url)
        assert client.get(path).status_code == 200
        clock.offset += timedelta(days=1, minutes=1)
        expired = client.get(path)
        assert expired.status_code == 410 and "انتهت صلاحية رابط التسجيل" in expired.text
        assert client.get("/enrol/not-a-link").status_code == 404
        unknown = ws.run("people", "invite", "nobody")
        assert unknown.exit_code == 1 and "'nobody' is not in the people registry" in unknown.stderr


def test_broken_plan_files_give_a_message_in_the_persons_language_not_a_traceback(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served(monkeypatch) as url, httpx.Client(base_url=url) as client:
        key = SoftwarePasskey("dg.planning", "localhost", url)
        key.enrol(datetime.now(UTC))
        assert sign_in(client, key).status_code == 200
        plan = ws.plans / f"campaigns/{CAMPAIGN}.yaml"
        plan.write_text(plan.read_text(encoding="utf-8").replace("quarter:", "quarterr:", 1), encoding="utf-8")
        page = client.get("/")
        assert page.status_code == 500
        assert "في ملفات الخطط أخطاء تمنع المتابعة" in page.text and "Traceback" not in page.text
        assert 'lang="ar"' in page.text


def test_hostile_requests_get_a_message_in_the_persons_language_and_change_nothing(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served(monkeypatch) as url, httpx.Client(base_url=url) as client:
        key = SoftwarePasskey("dg.planning", "localhost", url)
        key.enrol(datetime.now(UTC))
        csrf = csrf_of(client, "/signin")
        headers = {"X-CSRF-Token": csrf, "Content-Type": "application/json"}
        huge = client.post("/signin", content=b'{"person": "' + b"x" * 100_000 + b'"}', headers=headers)
        assert huge.status_code == 413 and huge.json()["message"] == "الطلب أكبر مما يُقبل."
        deep = client.post("/signin", content=b"[" * 20_000 + b"]" * 20_000, headers=headers)
        assert deep.status_code in (400, 413) and "message" in deep.json()
        wrong_method = client.get("/signout")
        assert (
            wrong_method.status_code == 405 and 'lang="ar"' in wrong_method.text and "detail" not in wrong_method.text
        )
        # a malformed credential is a failed sign-in like any other: limited and on the record
        client.post("/signin/options", json={"person": "dg.planning"}, headers={"X-CSRF-Token": csrf})
        broken = {"id": key.credential_id, "rawId": 5, "response": "x", "type": "public-key"}
        refused = client.post("/signin", json={"person": "dg.planning", "credential": broken}, headers=headers)
        assert refused.status_code == 401
        assert [(e.person, e.outcome) for e in access_log()] == [("dg.planning", "refused")]
        assert client.get("/").status_code == 303  # not signed in


def test_one_invitation_enrols_one_passkey(ws: Workspace) -> None:
    from musharaka.flows.engine import people, records
    from musharaka.stages.approvers import Passkey
    from musharaka.state.db import transaction

    registry = records.load_plan_set().registry
    assert registry is not None
    now = datetime.now(UTC)
    secret = transaction(lambda s: people.invite(registry, "legal.advisor", actor="administrator", now=now, session=s))
    made = [
        Passkey(
            id="placeholder",
            credential_id=credential,
            public_key=b64url(SoftwarePasskey("legal.advisor", "localhost", "http://localhost:8400").cose()),
            algorithm="ES256",
            rp_id="localhost",
            origin="http://localhost:8400",
            valid_from=now,
        )
        for credential in ("AAAA", "BBBB")
    ]
    first = transaction(lambda s: people.enrol(secret, registry, made[0], now=now, session=s))
    assert first.id == "legal.advisor-passkey-1"
    with pytest.raises(records.Refused, match="used already"):
        transaction(lambda s: people.enrol(secret, registry, made[1], now=now, session=s))
