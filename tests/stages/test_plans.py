"""Plan models: quarters, windows in the campaign's zone, gate policies."""

from datetime import UTC, date, datetime

import pytest

from musharaka.stages.checks import campaign_problems
from musharaka.stages.plans import Window
from musharaka.stages.programme import quarter_bounds
from tests.stages.plans_fixture import SATISFACTION, changed


@pytest.mark.parametrize(
    ("quarter", "first", "last"),
    [("2025-Q1", date(2025, 1, 1), date(2025, 3, 31)), ("2025-Q4", date(2025, 10, 1), date(2025, 12, 31))],
)
def test_quarter_bounds(quarter: str, first: date, last: date) -> None:
    assert quarter_bounds(quarter) == (first, last)


@pytest.mark.parametrize(
    ("zone", "opens_utc", "closes_utc"),
    [
        ("Asia/Muscat", datetime(2025, 7, 5, 20, tzinfo=UTC), datetime(2025, 8, 14, 20, tzinfo=UTC)),
        ("UTC", datetime(2025, 7, 6, tzinfo=UTC), datetime(2025, 8, 15, tzinfo=UTC)),
        ("Asia/Riyadh", datetime(2025, 7, 5, 21, tzinfo=UTC), datetime(2025, 8, 14, 21, tzinfo=UTC)),
    ],
)
def test_window_days_are_whole_days_in_the_campaign_zone(zone: str, opens_utc: datetime, closes_utc: datetime) -> None:
    window = Window(opens=date(2025, 7, 6), closes=date(2025, 8, 14), timezone=zone)
    assert (window.opens_at(), window.closes_at()) == (opens_utc, closes_utc)


def test_unknown_time_zone_is_rejected() -> None:
    with pytest.raises(ValueError, match="expected a time zone name such as Asia/Muscat, found 'Asia/Muskat'"):
        Window(opens=date(2025, 7, 6), closes=date(2025, 8, 14), timezone="Asia/Muskat")


def test_stages_without_their_own_policy_take_the_default() -> None:
    assert SATISFACTION.gates.for_stage("prepare").quorum == 1
    assert SATISFACTION.gates.for_stage("analyse").quorum == 2


def test_a_kpi_naming_an_audience_the_plan_lacks_is_a_problem() -> None:
    kpis = [{**SATISFACTION.kpis[1].model_dump(), "audience": "parents"}]
    plan = changed(SATISFACTION, kpis=kpis)
    assert [loc for loc, _ in campaign_problems(plan)] == [("kpis", 0, "audience")]
