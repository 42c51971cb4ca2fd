"""Budget rules on small profiles whose outcomes are worked out by hand in each test's comment."""

import pytest

from musharaka.stages import budget
from musharaka.stages.budget import Project


def test_equal_shares_completion_stops_when_only_an_unvoted_project_still_fits() -> None:
    # budget 10, 2 voters, both approve a (cost 4); nobody votes for z (cost 1).
    # MES funds a (each pays 2 of their 5); 6 is left and z (1) fits, but no share raise can buy an
    # unvoted project: the completion must stop with {a}, not raise shares forever.
    projects = [Project("a", 4), Project("z", 1)]
    ballots = [{"a": 1.0}, {"a": 1.0}]
    assert budget.equal_shares(projects, ballots, 10) == ["a"]


def test_equal_shares_starts_each_voter_with_the_budget_divided_by_the_voters() -> None:
    # budget 10, 4 voters: 2.5 each (a whole-unit start, 2 each, would hold only 8).
    # All four approve p (cost 10): at 2.5 each they pay exactly 10; no completion is needed.
    projects = [Project("p", 10)]
    ballots = [{"p": 1.0}] * 4
    assert budget.equal_shares(projects, ballots, 10, add1=False) == ["p"]
    assert budget.equal_shares(projects, ballots, 10) == ["p"]


def test_a_ranked_ballot_scores_its_first_choice_highest_as_pabulib_does() -> None:
    # three ranked: 3, 2 and 1 points; one ranked: 1 point
    assert budget.ordinal_points(["b", "a", "c"]) == {"b": 3.0, "a": 2.0, "c": 1.0}
    assert budget.ordinal_points(["c"]) == {"c": 1.0}


def test_ranked_ballots_fund_the_project_ranked_first_not_the_one_listed_most() -> None:
    # budget 5, both projects cost 5. Three voters rank a then b (a: 2, b: 1 each); two rank b alone (b: 1).
    # Scores: a 6, b 3 + 2 = 5: a is funded. Read as approvals b would lead, 5 ballots to 3.
    projects = [Project("a", 5), Project("b", 5)]
    ranked = [budget.ordinal_points(["a", "b"])] * 3 + [budget.ordinal_points(["b"])] * 2
    assert budget.greedy(projects, ranked, 5) == ["a"]
    approvals = [{"a": 1.0, "b": 1.0}] * 3 + [{"b": 1.0}] * 2
    assert budget.greedy(projects, approvals, 5) == ["b"]


# budget 10. Votes: p 5 (cost 6), q 4 (cost 5), r 3 (cost 3), s 1 (cost 1).
VARIANTS = [Project("p", 6), Project("q", 5), Project("r", 3), Project("s", 1)]
VOTES = [{"p": 1.0, "q": 1.0, "r": 1.0, "s": 1.0}] + [{"p": 1.0, "q": 1.0, "r": 1.0}] * 2 + [{"p": 1.0, "q": 1.0}]
VOTES += [{"p": 1.0}]


@pytest.mark.parametrize(
    ("rule", "options", "expected"),
    [
        # p (6, 4 left); q (5) does not fit, skipped; r (3, 1 left); s (1, 0 left)
        ("greedy", budget.Options(), ["p", "r", "s"]),
        # s has 1 vote, under the threshold 2: p, r
        ("greedy-threshold", budget.Options(threshold=2), ["p", "r"]),
        # stops at q, the first that does not fit: p alone
        ("greedy-no-skip", budget.Options(), ["p"]),
        # p and r share a site: p funded, r skipped; s (1) fits: p, s
        ("greedy-exclusive", budget.Options(exclusive=(frozenset({"p", "r"}),)), ["p", "s"]),
        # stops at q (cost 5, 4 left): 4 covers 80% of 5, so q is funded from the reserve: p, q
        ("greedy-custom", budget.Options(stretch=0.8), ["p", "q"]),
        # 4 left covers 4/5 = 80% but not 90%: p alone
        ("greedy-custom", budget.Options(stretch=0.9), ["p"]),
    ],
)
def test_each_greedy_variant_pabulib_names_funds_as_its_definition_says(
    rule: budget.GreedyRule, options: budget.Options, expected: list[str]
) -> None:
    assert budget.greedy(VARIANTS, VOTES, 10, rule, options) == expected


def test_a_tie_in_support_goes_to_the_cheaper_project_or_to_the_plan_order_as_the_plan_states() -> None:
    # budget 5; a (cost 5) and b (cost 4) each have 2 votes: only one fits
    projects = [Project("a", 5), Project("b", 4)]
    ballots = [{"a": 1.0, "b": 1.0}] * 2
    assert budget.greedy(projects, ballots, 5, options=budget.Options(ties="cheaper")) == ["b"]
    assert budget.greedy(projects, ballots, 5, options=budget.Options(ties="plan-order")) == ["a"]


def test_greedy_never_funds_a_project_nobody_voted_for() -> None:
    # budget 10: a (cost 2) has a vote; z (cost 1) has none and is left out though it fits
    assert budget.greedy([Project("a", 2), Project("z", 1)], [{"a": 1.0}], 10) == ["a"]


def test_equal_shares_completion_goes_on_past_an_exhaustive_outcome_while_the_budget_holds() -> None:
    # budget 14, 2 voters; one approves b (5), the other a (8) and c (4); ties to the plan's order.
    # At 7 each: b and c (each paid in full by its one supporter, rho 1) cost 9; a (8) no longer fits in the
    # 5 left, so the outcome is exhaustive. Raised to 8 each: a (rho 1, listed first) then b: 13 <= 14, kept.
    # At 9, 10, 11 each the same; at 12 each c is bought too (17 > 14): the completion ends with a and b.
    projects = [Project("a", 8), Project("b", 5), Project("c", 4)]
    ballots = [{"b": 1.0}, {"a": 1.0, "c": 1.0}]
    assert budget.equal_shares(projects, ballots, 14, add1=False, ties="plan-order") == ["b", "c"]
    assert budget.equal_shares(projects, ballots, 14, ties="plan-order") == ["a", "b"]


@pytest.mark.parametrize(
    ("for_a", "expected"),
    [
        # three for a prefer greedy's {a} (1 funded against 0), two for b and c prefer {b}: greedy's is taken
        (3, ["a"]),
        # two against two: no majority for greedy, equal shares' outcome stays
        (2, ["b"]),
    ],
)
def test_the_comparison_step_takes_greedys_outcome_only_when_more_voters_prefer_it(
    for_a: int, expected: list[str]
) -> None:
    # budget 10; a costs 10, b and c 5 each; two voters approve b and c, `for_a` voters approve a alone.
    # Equal shares (add1) funds b alone: a's supporters never hold 10 while the outcome stays within the
    # budget, and once b is bought its supporters cannot pay for c. Greedy funds a (the most votes, or first
    # in the plan's order on a tie) and then neither b nor c fits.
    projects = [Project("a", 10), Project("b", 5), Project("c", 5)]
    ballots = [{"a": 1.0}] * for_a + [{"b": 1.0, "c": 1.0}] * 2
    assert budget.equal_shares(projects, ballots, 10, ties="plan-order") == ["b"]
    assert budget.greedy(projects, ballots, 10, options=budget.Options(ties="plan-order")) == ["a"]
    assert budget.equal_shares(projects, ballots, 10, comparison=True, ties="plan-order") == expected
