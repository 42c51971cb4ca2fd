"""The risk register and its signals, against figures worked out by hand.

The satisfaction survey's window is 6 July to 14 August 2025 in Muscat (UTC+4): it opens at 5 July 20:00 UTC
and closes at 14 August 20:00 UTC, 40 days later, so mid-window is 20 days in, 25 July 20:00 UTC. Its
contributions KPI's target is 400; the default thresholds are 50% (turnout), 70% (one audience), 20%
(repeated answers), 14 days (announcement) and 20 contributions before a share is judged.
"""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from musharaka.stages import risks
from musharaka.stages.checks import campaign_problems
from musharaka.stages.risks import Facts
from tests.stages.plans_fixture import SATISFACTION, changed

MID = datetime(2025, 7, 25, 20, tzinfo=UTC)
AFTER = datetime(2025, 8, 20, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def risk(id: str, kind: str, likelihood: int = 3, impact: int = 3, owner: str = "planning.team") -> dict[str, object]:
    return {
        "id": id,
        "kind": kind,
        "title": {"ar": "خطر", "en": "A risk"},
        "likelihood": likelihood,
        "impact": impact,
        "owner": owner,
        "mitigation": {"ar": "معالجة", "en": "A mitigation"},
    }


def times(n: int, start: datetime = datetime(2025, 7, 6, tzinfo=UTC)) -> list[datetime]:
    """`n` contributions an hour apart from `start`."""
    return [start + timedelta(hours=i) for i in range(n)]


def test_mid_window_is_halfway_between_the_windows_first_and_last_instants() -> None:
    assert risks.midpoint(SATISFACTION) == MID


@pytest.mark.parametrize(
    ("before", "state", "share"),
    [
        (199, "raised", 0.4975),  # 199 / 400 = 49.75%, below 50%
        (200, "clear", 0.5),  # 200 / 400 = 50% exactly: not below
    ],
)
def test_turnout_below_half_the_target_at_mid_window_raises_the_signal(before: int, state: str, share: float) -> None:
    # `before` contributions in the first half, and 300 after it, which do not count
    submitted = [*times(before), *times(300, MID + SECOND)]
    check = risks.low_turnout(SATISFACTION, submitted, AFTER)
    assert (check.state, check.count, check.base, check.share, check.at) == (state, before, 400, share, MID)


def test_a_contribution_at_the_very_instant_of_mid_window_counts_in_the_second_half() -> None:
    check = risks.low_turnout(SATISFACTION, [*times(199), MID], AFTER)
    assert (check.state, check.count) == ("raised", 199)


def test_turnout_is_not_judged_before_mid_window() -> None:
    check = risks.low_turnout(SATISFACTION, times(5), MID - SECOND)
    assert (check.state, check.at, check.count) == ("pending", MID, 0)


def test_the_signals_own_target_wins_over_the_kpi() -> None:
    plan = changed(SATISFACTION, risk_signals={"target": 100})
    # against 100, not the KPI's 400: 55 / 100 = 55% is not below 50%; 45 / 100 = 45% is
    assert risks.low_turnout(plan, times(55), AFTER).state == "clear"
    assert risks.low_turnout(plan, times(45), AFTER).share == 0.45


def test_without_any_target_turnout_is_not_measured() -> None:
    plan = changed(SATISFACTION, kpis=[])
    assert risks.low_turnout(plan, times(5), AFTER).state == "unmeasured"


@pytest.mark.parametrize(
    ("students", "state", "share"),
    [
        (14, "clear", 0.7),  # 14 of 20 = 70% exactly: not above
        (15, "raised", 0.75),  # 15 of 20 = 75%
    ],
)
def test_one_audience_above_seventy_percent_raises_the_signal(students: int, state: str, share: float) -> None:
    audiences = ["students"] * students + ["researchers"] * (20 - students)
    submitted = times(20)
    check = risks.unrepresentative(SATISFACTION, submitted, audiences, AFTER)
    assert (check.state, check.audience, check.count, check.base, check.share) == (
        state,
        "students",
        students,
        20,
        share,
    )
    assert check.at == submitted[-1]  # raised as of the last contribution counted


def test_fewer_contributions_than_the_minimum_are_not_judged_for_dominance() -> None:
    check = risks.unrepresentative(SATISFACTION, times(19), ["students"] * 19, AFTER)
    assert (check.state, check.base) == ("pending", 19)


def test_contributions_after_now_do_not_count_towards_dominance() -> None:
    # 20 contributions, but at `now` only the first 10 (an hour apart) are in: too few
    submitted = times(20)
    check = risks.unrepresentative(SATISFACTION, submitted, ["students"] * 20, submitted[9])
    assert (check.state, check.base) == ("pending", 10)


def test_a_campaign_of_one_audience_has_no_dominance_to_measure() -> None:
    plan = changed(SATISFACTION, audiences=[SATISFACTION.audiences[0].model_dump()], kpis=[])
    assert risks.unrepresentative(plan, times(30), ["students"] * 30, AFTER).state == "unmeasured"


@pytest.mark.parametrize(
    ("repeats", "state"),
    [
        (8, "clear"),  # 8 of 40 = 20% exactly: not above
        (9, "raised"),  # 9 of 40 = 22.5%
    ],
)
def test_repeated_free_text_answers_above_a_fifth_raise_the_signal(repeats: int, state: str) -> None:
    facts = Facts(submitted=times(40), audiences=["students"] * 40, answers=40, repeats=repeats)
    check = risks.organised_campaign(SATISFACTION, facts, AFTER)
    assert (check.state, check.count, check.base, check.share) == (state, repeats, 40, repeats / 40)


def test_fewer_free_text_answers_than_the_minimum_are_not_judged_for_repetition() -> None:
    facts = Facts(submitted=times(40), audiences=["students"] * 40, answers=19, repeats=19)
    assert risks.organised_campaign(SATISFACTION, facts, AFTER).state == "pending"


def test_repeats_count_word_for_word_and_near_copies_once_normalised() -> None:
    texts = [
        "Good service",
        "good service!",  # the first, once normalised: a repeat
        "Please add SMS notices",
        # " please add sms notice " shares 19 of the 22 four-grams of both (the first has 21: it ends "tice",
        # "ices", "ces "; this one 20: "tice", "ice "): 19 / 22 = 0.86, at least 0.8, a near copy
        "Please add SMS notice",
        "Something else entirely",
        "-",  # nothing once normalised: not an answer
    ]
    # 5 answers saying 3 different things: 2 repeat another
    assert risks.repeats(texts, 0.8) == (5, 2)


DECIDED = datetime(2025, 8, 20, 10, tzinfo=UTC)
DEADLINE = DECIDED + timedelta(days=14)  # 3 September 2025, 10:00 UTC


def test_an_announcement_exactly_at_the_deadline_is_within_it() -> None:
    check = risks.no_feedback(SATISFACTION, DECIDED, DEADLINE, AFTER + timedelta(days=30))
    assert (check.state, check.days, check.at) == ("clear", 14, DEADLINE)


def test_an_announcement_after_the_deadline_raises_the_signal_at_the_deadline() -> None:
    announced = DEADLINE + timedelta(hours=12)
    check = risks.no_feedback(SATISFACTION, DECIDED, announced, AFTER + timedelta(days=30))
    assert (check.state, check.at, check.days) == ("raised", DEADLINE, 14.5)


@pytest.mark.parametrize(
    ("now", "state", "days"),
    [
        (DEADLINE, "pending", 14),  # the 14 days are not over until after the deadline
        (DEADLINE + timedelta(days=1), "raised", 15),
    ],
)
def test_no_announcement_after_the_deadline_raises_the_signal(now: datetime, state: str, days: float) -> None:
    check = risks.no_feedback(SATISFACTION, DECIDED, None, now)
    assert (check.state, check.at, check.days) == (state, DEADLINE, days)


def test_an_announcement_recorded_after_now_is_not_yet_an_announcement() -> None:
    check = risks.no_feedback(SATISFACTION, DECIDED, DEADLINE, DEADLINE - timedelta(days=1))
    assert (check.state, check.days) == ("pending", 13)


def test_no_feedback_waits_for_a_decision() -> None:
    assert risks.no_feedback(SATISFACTION, None, None, AFTER).state == "pending"


def test_the_register_lists_risks_highest_score_first_and_names_unplanned_signals() -> None:
    plan = changed(
        SATISFACTION,
        risks=[risk("turnout", "low-turnout", 3, 3), risk("leak", "data-protection", 2, 5)],
    )
    # 10 contributions by mid-window: 10 / 400 = 2.5%, below 50%; 30 free-text answers of which 15 repeat: 50%
    facts = Facts(submitted=times(10), audiences=["students"] * 10, answers=30, repeats=15)
    found = risks.register(plan, facts, AFTER)
    assert [(r.id, r.score) for r in found.risks] == [("leak", 10), ("turnout", 9)]  # 2 x 5 before 3 x 3
    assert [c.kind for c in found.raised()] == ["low-turnout", "organised-campaign"]
    assert [c.kind for c in found.unplanned()] == ["organised-campaign"]


@pytest.mark.parametrize(("score", "band"), [(4, "low"), (5, "medium"), (9, "medium"), (10, "high"), (25, "high")])
def test_scores_fall_in_the_matrix_bands(score: int, band: str) -> None:
    assert risks.rating(score) == band


def test_a_risk_id_used_twice_is_a_problem_at_the_second() -> None:
    plan = changed(SATISFACTION, risks=[risk("turnout", "low-turnout"), risk("turnout", "no-feedback")])
    assert ("risks", 1, "id") in [loc for loc, _ in campaign_problems(plan)]


@pytest.mark.parametrize(
    ("field", "value", "found"),
    [
        ("likelihood", 6, "less than or equal to 5"),
        ("impact", 0, "greater than or equal to 1"),
        ("kind", "fraud", "low-turnout"),
        ("treatment", "mitigate", "reduce"),
    ],
)
def test_a_risk_outside_the_scale_or_of_an_unknown_kind_is_refused(field: str, value: object, found: str) -> None:
    with pytest.raises(ValidationError, match=found) as error:
        changed(SATISFACTION, risks=[{**risk("turnout", "low-turnout"), field: value}])
    assert error.value.errors()[0]["loc"][:3] == ("risks", 0, field)
