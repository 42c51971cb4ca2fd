"""Pabulib `.pb` files: read with their quirks, and the budget rules reproduce the official winners."""

from pathlib import Path

import pytest

from musharaka.stages import budget, pabulib

# real files, each source and licence in SOURCES.md beside them
RECORDED = Path(__file__).resolve().parents[1] / "data" / "pabulib"


def read(path: Path) -> pabulib.PbInstance:
    return pabulib.parse(path.read_text(encoding="utf-8"), path.name)


def outcome(instance: pabulib.PbInstance, as_approvals: bool = False) -> set[str]:
    """The instance's winners under its own rule, ties to the file's order as Pabulib breaks them."""
    projects = instance.candidates()
    ballots = [dict.fromkeys(v.ballot, 1.0) if as_approvals else instance.points_of(v) for v in instance.votes]
    if instance.rule == "equalshares/add1-comparison":
        return set(budget.equal_shares(projects, ballots, instance.budget, comparison=True, ties="plan-order"))
    rule = "equal-shares" if instance.rule == "equalshares/add1" else instance.rule
    assert rule in budget.RULES
    threshold = float(instance.meta.get("min_project_score_threshold") or 0)
    options = budget.Options(ties="plan-order", threshold=threshold)
    return set(budget.funded(rule, projects, ballots, instance.budget, options))


def official(instance: pabulib.PbInstance) -> set[str]:
    """The projects the file marks as funded by its rule (`selected` 1; 2 too under Poznań's rule)."""
    return instance.funded_by_rule()


# one instance for each rule supported, as the corpus names it (greedy-exclusive needs the plan's groups,
# which no file records)
CORPUS = [
    "Netherlands_Assen_2024.pb",  # equalshares/add1
    "Poland_Swiecie_2023.pb",  # equalshares/add1
    "Poland_Warszawa_2019_Piaski.pb",  # greedy
    "Poland_Krakow_2021_Bienczyce.pb",  # greedy, ranked ballots
    "Poland_Lodz_2020_Nr_33.pb",  # greedy-threshold
    "Poland_Czestochowa_2025_Podjasnogorska.pb",  # greedy-threshold, cumulative
    "Poland_Gdynia_2022_Babie_Doly__small.pb",  # greedy-no-skip
    "Poland_Poznan_2026_11_-_Fabianowo-Kotowo_Gorczyn_Junikowo_Kwiatowe_Lawica__large.pb",  # greedy-custom
    "Poland_Wroclaw_2017_Rejon_nr_11_750.pb",  # greedy-no-skip, a project withdrawn after the vote
    "Poland_Katowice_2024_Zarzecze.pb",  # greedy-threshold, cumulative; two projects funded outside the rule
    "Poland_Poznan_2025_9_-_Stare_Miasto__large.pb",  # greedy-custom; one project funded from reserve funds
    "Poland_Gdynia_2020_Babie_Doly__small.pb",  # greedy-no-skip; a tie for the last place funded outside the rule
]


@pytest.mark.parametrize("name", CORPUS)
def test_computed_winners_match_the_official_selection_of_real_instances(name: str) -> None:
    instance = read(RECORDED / name)
    assert official(instance)  # the file records who won
    assert outcome(instance) == official(instance)


def test_ranked_ballots_read_as_approvals_would_change_krakows_outcome() -> None:
    instance = read(RECORDED / "Poland_Krakow_2021_Bienczyce.pb")
    assert outcome(instance, as_approvals=True) ^ official(instance) == {"7", "11", "25", "27"}


def test_a_tie_for_the_last_place_funded_by_the_city_is_marked_as_outside_the_rule() -> None:
    # Gdynia 2020, Babie Doły (small): projects 1 and 5 tie at 101 votes; no-skip funds 4, 2 and 1 (22395 of
    # 24420) and stops at 5 (5995). The city funded 5 too, 31595 in all, and the file marks it 2, not 1.
    instance = read(RECORDED / "Poland_Gdynia_2020_Babie_Doly__small.pb")
    assert sum(p.cost for p in instance.projects if p.selected) == 31595 > instance.budget
    assert {p.id: p.selected_as for p in instance.projects if p.selected} == {"4": "1", "2": "1", "1": "1", "5": "2"}
    assert outcome(instance) == official(instance) == {"4", "2", "1"}


def test_projects_below_the_threshold_funded_by_the_city_are_not_the_rules() -> None:
    # Katowice 2024, Zarzecze: threshold 50 points; L20/09/XI (9 points) and L20/08/XI (4) were funded anyway,
    # marked 2. The rule funds the six with 50 points or more: 220000 + 39500 + 37000 + 30820 + 33600 + 5500
    # = 366420 of 367337; the city's eight cost 394820.
    instance = read(RECORDED / "Poland_Katowice_2024_Zarzecze.pb")
    assert {p.id for p in instance.projects if p.selected_as == "2"} == {"L20/09/XI", "L20/08/XI"}
    assert sum(p.cost for p in instance.projects if p.selected) == 394820
    six = {"L20/01/XI", "L20/02/XI", "L20/03/XI", "L20/07/XI", "L20/05/XI", "L20/06/XI"}
    assert outcome(instance) == official(instance) == six


def test_a_project_funded_from_reserve_funds_is_not_poznans_rule() -> None:
    # Poznań 2025, Stare Miasto: 800000. RD-IX.2 (744 votes, 475000) is funded; RD-IX.5 (705, 785000) does not
    # fit, and 325000 left is 41% of it, under 80%: the rule stops. The city funded it from reserve funds (3).
    instance = read(RECORDED / "Poland_Poznan_2025_9_-_Stare_Miasto__large.pb")
    assert {p.id: p.selected_as for p in instance.projects if p.selected} == {"RD-IX.2": "1", "RD-IX.5": "3"}
    assert outcome(instance) == official(instance) == {"RD-IX.2"}


def test_a_project_withdrawn_after_the_vote_is_passed_over_not_a_stop() -> None:
    # Wrocław 2017, Rejon 11 (750): project 150 (454 votes) was withdrawn after the vote and Pabulib gives it
    # the cost 999999999. Read as a cost, no-skip would stop there and fund nothing; the city funded 425.
    instance = read(RECORDED / "Poland_Wroclaw_2017_Rejon_nr_11_750.pb")
    assert [p.id for p in instance.candidates()] == ["425", "571"]
    assert outcome(instance) == official(instance) == {"425"}
    every = [budget.Project(p.id, p.cost) for p in instance.projects]
    assert budget.greedy(every, [instance.points_of(v) for v in instance.votes], 750000, "greedy-no-skip") == []


def test_wieliczkas_equal_shares_with_the_comparison_step_is_its_official_outcome() -> None:
    # Green Million 2023: 1000000 PLN, 6586 voters. Equal shares with add1 funds 30 projects for 995079; stopping
    # at the first exhaustive outcome (302 PLN a voter) would fund 66 and 67 instead of 46. Greedy's outcome is
    # preferred by fewer voters than equal shares', so the comparison step keeps equal shares.
    instance = read(RECORDED / "Poland_Wieliczka_2023_Green_Budget.pb")
    projects, ballots = instance.candidates(), [instance.points_of(v) for v in instance.votes]
    shares = budget.equal_shares(projects, ballots, instance.budget, ties="plan-order")
    assert set(shares) == official(instance) and len(shares) == 30
    assert sum(p.cost for p in instance.projects if p.id in shares) == 995079
    plain = budget.greedy(projects, ballots, instance.budget, options=budget.Options(ties="plan-order"))
    assert set(plain) != set(shares) and not budget.prefer(plain, shares, ballots)


def test_greedy_skips_a_project_that_no_longer_fits_and_funds_a_cheaper_one() -> None:
    # Piaski: the 700000 project comes sixth by votes but only 511970 is left; the 392000 one after it fits
    instance = read(RECORDED / "Poland_Warszawa_2019_Piaski.pb")
    funded = outcome(instance)
    assert "2307" not in funded and "2321" in funded
    assert sum(p.cost for p in instance.projects if p.id in funded) <= instance.budget


def test_cumulative_file_with_comma_decimal_cost_is_read_and_its_stated_votes_and_score_recomputed() -> None:
    instance = read(RECORDED / "pabulib_checker_example_valid_gdansk_2020_przerobka.pb")
    assert instance.vote_type == "cumulative" and instance.budget == 242800
    assert {p.id: p.cost for p in instance.projects} == {"3": 8000.0, "1": 42000.0, "2": 5900.0}
    assert len(instance.votes) == 182 and instance.votes[0].segments == {"age": "35", "sex": "F"}
    projects = [budget.Project(p.id, p.cost) for p in instance.projects]
    supporters, points = budget.support(projects, [instance.points_of(v) for v in instance.votes])
    for p in instance.projects:  # the file's own votes and score columns
        assert supporters[p.id] == p.votes and points[p.id] == p.score
    # fully_funded;1: the three projects cost 55900 of 242800, so the greedy rule funds them all
    assert outcome(instance) == {"1", "2", "3"}


def test_approval_file_with_doubled_quotes_in_meta_is_read_and_its_stated_votes_recomputed() -> None:
    instance = read(RECORDED / "pabulib_checker_example_valid_mturk_k_approval_3.pb")
    assert '"Participatory Budgeting Design for the Real World"' in instance.meta["acknowledgments"]
    assert instance.rule == "unknown" and len(instance.projects) == 10 and len(instance.votes) == 76
    projects = [budget.Project(p.id, p.cost) for p in instance.projects]
    supporters, _ = budget.support(projects, [instance.points_of(v) for v in instance.votes])
    assert supporters == {p.id: p.votes for p in instance.projects}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("PROJECTS\nproject_id;cost\n", "expected the section name META, found 'PROJECTS'"),
        (
            "META\nkey;value\nbudget;10\nvote_type;approval\nPROJECTS\nproject_id;cost\n1;ten\n",
            "line 7 (PROJECTS), cost: expected a number, found 'ten'",
        ),
        (
            "META\nkey;value\nbudget;10\nvote_type;approval\nPROJECTS\nproject_id;cost\n1;5\nVOTES\nvoter_id;vote\nv1;1,9\n",
            "line 10 (VOTES), vote: expected project ids of PROJECTS, found 9",
        ),
        (
            "META\nkey;value\nbudget;10\nvote_type;approval\nPROJECTS\nproject_id;cost\n1;5;x\n",
            "line 7, section PROJECTS: expected 2 fields",
        ),
        (
            "META\nkey;value\nbudget;10\nvote_type;plurality\nPROJECTS\nproject_id;cost\n1;5\n",
            "vote_type: expected approval",
        ),
    ],
)
def test_a_broken_file_is_refused_naming_the_line_and_field(text: str, message: str) -> None:
    with pytest.raises(pabulib.PbError, match=r"^x\.pb") as error:
        pabulib.parse(text, "x.pb")
    assert message in str(error.value)


def test_equal_shares_gives_a_minority_its_proportional_share_where_greedy_does_not() -> None:
    # 10 voters, budget 10 (1 each). Six approve a1 and a2 (cost 5 each); four approve b (cost 4).
    # greedy: a1 and a2 (6 votes each, plan order) spend all 10; b (4 votes) no longer fits.
    # MES (cost utilities): a1 costs each of the six 5/6 (rate 1/6 per unit of utility), b costs each of
    # the four 1 (rate 1/4): a1 first; the six then hold 1/6 each, too little for a2; b is bought.
    projects = [budget.Project("a1", 5), budget.Project("a2", 5), budget.Project("b", 4)]
    ballots = [{"a1": 1.0, "a2": 1.0}] * 6 + [{"b": 1.0}] * 4
    assert budget.greedy(projects, ballots, 10) == ["a1", "a2"]
    assert budget.equal_shares(projects, ballots, 10) == ["a1", "b"]
