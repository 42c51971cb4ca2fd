"""Conduct: waits while the window is open, then counts the contributions every way the plan cares about."""

from datetime import UTC, datetime, timedelta

import pytest

from musharaka.stages import conduct, prepare
from musharaka.stages import plan as plan_stage
from musharaka.stages.common import MissingInputs, NotYet
from tests.stages.plans_fixture import SATISFACTION

CLOSES = datetime(2025, 8, 14, 20, 0, tzinfo=UTC)  # midnight after 14 August, Muscat time
PLANNED = plan_stage.run(
    plan_stage.Inputs(prepare=prepare.run(prepare.Inputs(), SATISFACTION, CLOSES)), SATISFACTION, CLOSES
)


def contribution(audience: str, channel: str = "website", day: int = 10, overall: int = 4) -> conduct.Contribution:
    return conduct.Contribution(
        submitted_at=datetime(2025, 7, day, 21, 30, tzinfo=UTC),
        channel=channel,
        audience=audience,
        answers={"overall": overall, "services-used": ["admission"], "ease": "easy", "improve": None},
    )


RECORDS = (contribution("students"), contribution("students", "e-survey", 11), contribution("researchers"))
SAMPLE = conduct.frame_of(RECORDS)


OPENS = datetime(2025, 7, 5, 20, 0, tzinfo=UTC)  # midnight starting 6 July, Muscat time


@pytest.mark.parametrize(
    ("now", "reason", "until"),
    [
        (OPENS - timedelta(seconds=1), r"\(2025-07-06 to 2025-08-14\) has not opened yet", OPENS),
        (CLOSES - timedelta(seconds=1), "window is open", CLOSES),
    ],
)
def test_stage_waits_until_the_window_has_closed(now: datetime, reason: str, until: datetime) -> None:
    with pytest.raises(NotYet, match=reason) as wait:
        conduct.run(conduct.Inputs(plan=PLANNED, contributions=SAMPLE), SATISFACTION, now)
    assert wait.value.until == until


def test_at_the_closing_instant_contributions_are_counted() -> None:
    outputs = conduct.run(conduct.Inputs(plan=PLANNED, contributions=SAMPLE), SATISFACTION, CLOSES)
    assert outputs.total == 3
    assert outputs.by_audience == {"researchers": 1, "students": 2}
    assert outputs.by_channel == {"e-survey": 1, "website": 2}
    # in the plan's order (students before researchers, website before e-survey), not alphabetical
    assert list(outputs.by_audience) == ["students", "researchers"]
    assert list(outputs.by_channel) == ["website", "e-survey"]
    assert list(outputs.answered) == [q.id for q in SATISFACTION.instrument]
    # 21:30 UTC is already the next day in Muscat
    assert outputs.by_day == {"2025-07-11": 2, "2025-07-12": 1}
    assert outputs.answered["improve"] == 0 and outputs.answered["overall"] == 3
    responses, students = outputs.kpis
    assert (responses.actual, responses.share) == (3, 0.0075)
    assert (students.actual, students.target) == (2, 200)


def test_no_contributions_is_a_missing_input() -> None:
    with pytest.raises(MissingInputs, match="no contributions"):
        conduct.run(conduct.Inputs(plan=PLANNED, contributions=conduct.frame_of(())), SATISFACTION, CLOSES)


def test_audiences_the_plan_does_not_list_are_counted_after_its_own_in_alphabetical_order() -> None:
    records = (contribution("zeta"), contribution("researchers"), contribution("alpha"), contribution("students"))
    outputs = conduct.run(conduct.Inputs(plan=PLANNED, contributions=conduct.frame_of(records)), SATISFACTION, CLOSES)
    assert list(outputs.by_audience) == ["students", "researchers", "alpha", "zeta"]
