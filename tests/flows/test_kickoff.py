"""The quarterly kick-off starts the quarter's planned campaigns once, whatever Prefect's schedule does."""

import json
from datetime import UTC, datetime

import pytest

from musharaka.flows.kickoff import quarter_of
from tests.conftest import Workspace


def kickoff(ws: Workspace, now: str) -> dict:  # type: ignore[type-arg]
    result = ws.run("kickoff", "--json", now=now)
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output))


def test_the_quarter_is_read_on_the_ministrys_calendar() -> None:
    # 22:00 UTC on 30 June is already 1 July in Muscat
    assert quarter_of(datetime(2025, 6, 30, 22, 0, tzinfo=UTC), "Asia/Muscat") == "2025-Q3"
    assert quarter_of(datetime(2025, 6, 30, 19, 0, tzinfo=UTC), "Asia/Muscat") == "2025-Q2"


@pytest.mark.prefect
def test_kickoff_starts_the_quarters_planned_campaigns_to_their_first_gate_and_only_once(ws: Workspace) -> None:
    first = kickoff(ws, "2025-07-01T08:00+04:00")
    assert first["quarter"] == "2025-Q3"
    assert first["campaigns"] == {
        "moheri-2025-q3-satisfaction": "awaiting-gate",
        "moheri-2025-q3-video-call": "awaiting-gate",
    }
    status = json.loads(ws.run("status", "--json", now="2025-07-01T09:00+04:00").output)
    started = {row["campaign"]: (row["stage"], row["status"]) for row in status if row["stage"] is not None}
    # the first two quarters' campaigns never started and their windows passed (20 February, 30 June)
    assert {row["campaign"]: row["status"] for row in status if row["stage"] is None} == {
        "moheri-2025-q1-chatbot-name": "missed",
        "moheri-2025-q2-gpa-poll": "missed",
        "moheri-2025-q4-equivalency-dialogue": "planned",
        "moheri-2025-q4-website-design": "planned",
    }
    assert started == {
        "moheri-2025-q3-satisfaction": ("prepare", "awaiting-gate"),
        "moheri-2025-q3-video-call": ("prepare", "awaiting-gate"),
    }

    again = kickoff(ws, "2025-07-01T08:05+04:00")
    assert set(again["campaigns"].values()) == {"already started"}
    for campaign in started:
        history = json.loads(ws.run("history", campaign, "--json").output)
        assert [e["type"] for e in history].count("campaign.started") == 1


@pytest.mark.prefect
def test_kickoff_in_a_quarter_with_no_planned_campaign_starts_nothing(ws: Workspace) -> None:
    result = ws.run("kickoff", now="2026-01-01T08:00+04:00")
    assert result.exit_code == 0
    assert "2026-Q1: the programme plans no campaign for this quarter" in result.output
    status = json.loads(ws.run("status", "--json", now="2026-01-01T09:00+04:00").output)
    assert all(row["stage"] is None and row["status"] == "missed" for row in status)  # 2025's windows passed
