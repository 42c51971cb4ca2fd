"""The risk register on the gate and campaign pages, in both languages, with the signal the figures raise."""

from datetime import UTC, datetime

import httpx
import pytest

from tests.conftest import Workspace
from tests.flows.samples import CAMPAIGN
from tests.flows.test_lifecycle import ok
from tests.flows.test_risks import RAISED_EN, collected
from tests.web.browser import served
from tests.web.software_passkey import SoftwarePasskey
from tests.web.test_campaign import text_of
from tests.web.test_sessions import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.prefect]

NOW = datetime(2025, 8, 16, 5, 0, tzinfo=UTC)  # 09:00 in Muscat, the day after the conduct gate opened


def test_the_gate_and_campaign_pages_show_the_register_with_the_raised_signal(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    collected(ws)
    ok(ws, "advance", CAMPAIGN, now="2025-08-15T09:00+04:00")
    with served(monkeypatch, now=lambda: NOW) as url, httpx.Client(base_url=url) as client:
        key = SoftwarePasskey("dg.planning", "localhost", url)
        key.enrol(NOW)
        assert sign_in(client, key).status_code == 200
        client.cookies.set("musharaka_lang", "en")
        gate = text_of(client.get(f"/gates/{CAMPAIGN}/conduct").text)
        # the planned low-turnout risk, 3 x 3 = 9 (medium), marked raised, and the figures that raised it
        assert "Risk register" in gate and "Signals raised: 1" in gate
        assert "Participation below the target Low turnout 3 × 3 = 9 (medium)" in gate
        assert RAISED_EN in gate
        assert "Reduce : Reminders on the services portal" in gate  # the treatment (in bold), then the mitigation
        campaign = text_of(client.get(f"/campaigns/{CAMPAIGN}").text)
        assert RAISED_EN in campaign
        client.cookies.set("musharaka_lang", "ar")
        arabic = text_of(client.get(f"/gates/{CAMPAIGN}/conduct").text)
        assert "سجل المخاطر" in arabic and "مشاركة دون المستهدف" in arabic and "مرفوعة" in arabic
