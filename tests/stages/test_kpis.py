"""The indicator definitions: half-years, what counts, and the gap as the ministry's table shows it."""

from datetime import UTC, datetime

import pytest

from musharaka.stages import followup
from musharaka.stages import kpis as k
from musharaka.stages.plans import Bilingual
from musharaka.stages.programme import Indicator

ZONE = "Asia/Muscat"
H1 = k.parse_period("2025-H1", ZONE)
NAME = Bilingual(ar="م", en="m")


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=UTC)


def test_a_half_year_runs_from_local_midnight_to_local_midnight() -> None:
    assert H1.starts == datetime(2024, 12, 31, 20, tzinfo=UTC) and H1.ends == datetime(2025, 6, 30, 20, tzinfo=UTC)
    assert k.period_just_ended(datetime(2025, 7, 1, 4, tzinfo=UTC), ZONE) == "2025-H1"
    assert k.period_just_ended(datetime(2025, 12, 31, 21, tzinfo=UTC), ZONE) == "2025-H2"  # 1 Jan 2026 in Muscat
    with pytest.raises(ValueError, match="2025-H3"):
        k.parse_period("2025-H3", ZONE)


def test_gap_is_a_dash_when_the_actual_exceeds_the_target() -> None:
    facts = [k.Facts("a", {"analyse": at(3, 1)}, True, ((at(4, 1), "implemented"),))]
    row = k.kpi_row(2, Indicator(id=k.IMPLEMENTED, name=NAME, target=90, unit="percent"), facts, H1)
    assert (row.target_text, row.actual_text, row.gap_text) == ("90%", "100%", "—")


def test_counts_only_what_happened_within_the_half_year() -> None:
    facts = [
        k.Facts("in", {"conduct": at(6, 30, 19)}),  # 23:00 Muscat on 30 June: H1
        k.Facts("late", {"conduct": at(6, 30, 21)}),  # 1 July in Muscat: H2
        k.Facts("early", {"conduct": datetime(2024, 12, 31, 19, tzinfo=UTC)}),
    ]
    row = k.kpi_row(1, Indicator(id=k.CARRIED_OUT, name=NAME, target=5, unit="count"), facts, H1)
    assert (row.actual_text, row.gap_text, row.campaigns) == ("1", "4", ["in"])


def test_decisions_not_based_on_opinions_do_not_count_and_none_is_a_dash() -> None:
    facts = [k.Facts("a", {"analyse": at(3, 1)}, False, ((at(4, 1), "implemented"),))]
    row = k.kpi_row(2, Indicator(id=k.IMPLEMENTED, name=NAME, target=90, unit="percent"), facts, H1)
    assert (row.actual, row.actual_text, row.gap_text) == (None, "—", "—")


def test_a_dropped_or_later_implemented_decision_is_not_implemented_in_the_half_year() -> None:
    dropped = k.Facts("d", {"analyse": at(3, 1)}, True, ((at(4, 1), "implemented"), (at(5, 1), "dropped")))
    later = k.Facts("l", {"analyse": at(3, 1)}, True, ((at(7, 2), "implemented"),))
    done = k.Facts("i", {"analyse": at(3, 1)}, True, ((at(5, 1), "in-progress"), (at(6, 1), "implemented")))
    row = k.kpi_row(2, Indicator(id=k.IMPLEMENTED, name=NAME, target=90, unit="percent"), [dropped, later, done], H1)
    assert (row.counted, row.out_of, row.actual_text, row.gap_text) == (1, 3, "33%", "57%")


def test_follow_up_rules() -> None:
    def problems(status: followup.Status, percent: int | None, note: str = "", previous: str | None = None) -> str:
        before = followup.Previous(previous, 60) if previous else None
        return "; ".join(followup.problems(followup.Update(status, percent, note, None), before))

    assert problems("in-progress", 40) == ""
    assert "from 0 to 100" in problems("in-progress", -1)
    assert "at 100" in problems("implemented", 80)
    assert "reason" in problems("dropped", None)
    assert "already implemented" in problems("planned", None, previous="implemented")
    assert "at least the 60%" in problems("in-progress", 30, previous="in-progress")
