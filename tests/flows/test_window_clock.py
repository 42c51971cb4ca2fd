"""The window in the campaign's own zone, read against the clock (frozen with freezegun)."""

import json

import pytest
from freezegun import freeze_time

from tests.conftest import Workspace

VIDEO = "moheri-2025-q3-video-call"  # window 2025-08-03 .. 2025-09-30, Asia/Muscat (UTC+4)


@pytest.mark.parametrize(
    ("instant", "state"),
    [
        ("2025-08-02T19:59:59Z", "upcoming"),
        ("2025-08-02T20:00:00Z", "open"),  # midnight of 3 August in Muscat
        ("2025-09-30T19:59:59Z", "open"),  # 23:59:59 on 30 September in Muscat
        ("2025-09-30T20:00:00Z", "closed"),
    ],
)
def test_window_state_follows_the_campaign_zone(ws: Workspace, instant: str, state: str) -> None:
    with freeze_time(instant):
        result = ws.run("status", "--json")
    row = next(r for r in json.loads(result.output) if r["campaign"] == VIDEO)
    assert row["window"]["state"] == state


@pytest.mark.prefect
def test_gate_is_overdue_after_its_due_day_in_the_campaign_zone(ws: Workspace) -> None:
    ws.run("start", "moheri-2025-q3-satisfaction", now="2025-06-15T09:00+04:00")  # due in 5 days
    for instant, overdue in (("2025-06-20T19:59:59Z", False), ("2025-06-20T20:00:00Z", True)):
        with freeze_time(instant):
            result = ws.run("gates", "--pending", "--json")
        [gate] = json.loads(result.output)
        assert gate["overdue"] is overdue, instant
