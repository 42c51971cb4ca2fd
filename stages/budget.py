"""Participatory-budget rules: which projects a budget funds, given the voters' ballots.

Ballots are {project id: utility}: 1 per approved project (approval, choose-1), the points given
(cumulative, scoring), or for a ranked (ordinal) ballot the points Pabulib gives by position
(`ordinal_points`: of k ranked projects the first gets k, the last 1). Reading a ranking as approvals
would give a last choice as much as a first, which is not how the ranked-ballot cities counted.

- greedy: projects by support (approvals, or total points) from most to least; each is funded if it
  still fits in what is left of the budget, otherwise skipped (the next cheaper one may still fit).
  Pabulib's variants, as its corpus names them: `greedy-threshold` leaves out projects scoring under
  the threshold; `greedy-no-skip` stops at the first project that does not fit; `greedy-exclusive`
  skips a project once another of its exclusive group (same site, say) is funded; `greedy-custom` is
  Poznań's: it stops at the first project that does not fit, but funds it if what is left covers at
  least a stated share of its cost (80%), the rest coming from the city's reserve.
  Ties in support follow the plan's rule: the cheaper project first, then the plan's order
  (`cheaper`), or the plan's order alone (`plan-order`, as Pabulib files list their projects).
- equal shares (MES): the budget is split equally among the voters, B/n each; a voter's utility for a
  project is its cost when the voter approves it (cost utilities, for approval-like ballots: this is
  what Pabulib's `equalshares` records mean) or the points given (cumulative, scoring, ordinal). A
  project is bought by its supporters, each paying in proportion to their utility at the smallest rate
  rho that covers its cost (a supporter whose money runs out pays all they have left). The project with
  the smallest rho per unit of utility is bought next (ties: cheaper, then more supporters, then plan
  order; or plan order alone); it stops when no project can be paid for. `add1` completion, as Pabulib
  records it (`equalshares/add1`) and as its checker computes it: each voter's share is raised to the
  next whole currency unit above B/n, then one unit more at a time, and MES run again, as long as its
  outcome costs no more than the real budget; the last such outcome is kept. It ends when the next
  raise would overspend, or when every project somebody voted for is bought (a project nobody voted for
  cannot be bought at any share, so it does not keep the completion going). Raising shares past an
  outcome that is already exhaustive is what the real elections did: Wieliczka's Green Million 2023
  went on past the first exhaustive outcome (302 zł a voter, projects 66 and 67 funded) to the last
  within its budget (about 313 zł, as published: project 46 instead).
  The comparison step (`equalshares/add1-comparison`, as Wieliczka ran it; equalshares.net's compute
  tool calls it "popularity with respect to voter satisfaction"): the outcome is set against plain
  greedy's, and greedy's is taken instead if more voters have more of their chosen projects funded
  under greedy than under equal shares than the other way round.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

Ballot = Mapping[str, float]


@dataclass(frozen=True)
class Project:
    id: str
    cost: float


def support(projects: Sequence[Project], ballots: Sequence[Ballot]) -> tuple[dict[str, int], dict[str, float]]:
    """Per project: how many voters support it and the total utility (points) they give it."""
    voters = dict.fromkeys((p.id for p in projects), 0)
    points = dict.fromkeys((p.id for p in projects), 0.0)
    for ballot in ballots:
        for project, utility in ballot.items():
            if project in voters and utility > 0:
                voters[project] += 1
                points[project] += utility
    return voters, points


def ordinal_points(ranking: Sequence[str]) -> dict[str, float]:
    """Pabulib's default score of a ranked ballot: of k ranked projects the first gets k points, the last 1."""
    return {project: float(len(ranking) - i) for i, project in enumerate(ranking)}


Ties = Literal["cheaper", "plan-order"]
GreedyRule = Literal["greedy", "greedy-threshold", "greedy-no-skip", "greedy-exclusive", "greedy-custom"]
Rule = GreedyRule | Literal["equal-shares", "equal-shares-comparison"]
RULES: tuple[Rule, ...] = (*get_args(GreedyRule), "equal-shares", "equal-shares-comparison")


@dataclass(frozen=True)
class Options:
    """What a plan states beyond the rule: tie-breaking, the variants' threshold, groups and stretch."""

    ties: Ties = "cheaper"
    threshold: float = 0.0  # the least score a funded project has (greedy-threshold's; any greedy rule keeps it)
    exclusive: tuple[frozenset[str], ...] = ()  # greedy-exclusive: at most one project of each group
    stretch: float = 0.8  # greedy-custom: the share of its cost the leftover must cover
    cost_utilities: bool = True  # equal shares on approval-like ballots


def greedy(
    projects: Sequence[Project],
    ballots: Sequence[Ballot],
    budget: float,
    rule: GreedyRule = "greedy",
    options: Options = Options(),
) -> list[str]:
    """The projects funded by a greedy rule, in the order they were funded."""
    _, points = support(projects, ballots)
    order = sorted(range(len(projects)), key=lambda i: _rank(-points[projects[i].id], projects[i], i, options.ties))
    funded: list[str] = []
    closed: set[str] = set()  # projects of an exclusive group already served
    left = budget
    for i in order:
        project = projects[i]
        score = points[project.id]
        if score <= 0 or score < options.threshold or project.id in closed:
            continue
        if project.cost <= left:
            funded.append(project.id)
            left -= project.cost
            if rule == "greedy-exclusive":
                closed.update(*(group for group in options.exclusive if project.id in group))
        elif rule == "greedy-no-skip":
            break
        elif rule == "greedy-custom":
            if left >= options.stretch * project.cost:
                funded.append(project.id)
            break
    return funded


def funded(
    rule: Rule, projects: Sequence[Project], ballots: Sequence[Ballot], budget: float, options: Options = Options()
) -> list[str]:
    """The projects a rule funds, in the order it funds them."""
    if rule == "equal-shares" or rule == "equal-shares-comparison":
        return equal_shares(
            projects,
            ballots,
            budget,
            comparison=rule == "equal-shares-comparison",
            cost_utilities=options.cost_utilities,
            ties=options.ties,
        )
    return greedy(projects, ballots, budget, rule, options)


def _rank(support: float, project: Project, index: int, ties: Ties) -> tuple[float, ...]:
    return (support, project.cost, index) if ties == "cheaper" else (support, index)


def equal_shares(
    projects: Sequence[Project],
    ballots: Sequence[Ballot],
    budget: float,
    *,
    add1: bool = True,
    comparison: bool = False,
    cost_utilities: bool = True,
    ties: Ties = "cheaper",
) -> list[str]:
    """The projects funded by the method of equal shares (with the add1 completion, and the comparison step,
    when asked)."""
    if not ballots:
        return []
    if comparison:
        shares = equal_shares(projects, ballots, budget, add1=add1, cost_utilities=cost_utilities, ties=ties)
        plain = greedy(projects, ballots, budget, options=Options(ties=ties))
        return plain if prefer(plain, shares, ballots) else shares
    supporters, utilities = _supporters(projects, ballots)
    if cost_utilities:
        utilities = [u * p.cost for u, p in zip(utilities, projects, strict=True)]
    n = len(ballots)
    funded = _mes(projects, supporters, utilities, n, budget, ties)
    if not add1:
        return funded
    cost = {p.id: p.cost for p in projects}
    # only a project somebody voted for can be bought by a larger share: once all are, nothing can change
    buyable = {p.id for p, s in zip(projects, supporters, strict=True) if len(s) and p.cost > 0}
    virtual = int(budget / n) * n  # whole currency units per voter
    while not buyable <= set(funded):
        attempt = _mes(projects, supporters, utilities, n, virtual + n, ties)
        if sum(cost[p] for p in attempt) > budget:
            break
        funded, virtual = attempt, virtual + n
    return funded


def prefer(challenger: Sequence[str], outcome: Sequence[str], ballots: Sequence[Ballot]) -> bool:
    """The comparison step: whether more voters have more of their chosen projects funded in `challenger`
    than in `outcome` than the other way round (a voter with as many in both counts for neither)."""
    ours, theirs = set(outcome), set(challenger)
    balance = 0
    for ballot in ballots:
        chosen = {p for p, utility in ballot.items() if utility > 0}
        balance += _sign(len(chosen & theirs) - len(chosen & ours))
    return balance > 0


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


def _supporters(projects: Sequence[Project], ballots: Sequence[Ballot]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    index: dict[str, list[int]] = {p.id: [] for p in projects}
    utility: dict[str, list[float]] = {p.id: [] for p in projects}
    for voter, ballot in enumerate(ballots):
        for project, value in ballot.items():
            if project in index and value > 0:
                index[project].append(voter)
                utility[project].append(float(value))
    return (
        [np.array(index[p.id], dtype=np.int64) for p in projects],
        [np.array(utility[p.id], dtype=np.float64) for p in projects],
    )


def _mes(
    projects: Sequence[Project],
    supporters: list[np.ndarray],
    utilities: list[np.ndarray],
    voters: int,
    budget: float,
    ties: Ties,
) -> list[str]:
    money = np.full(voters, budget / voters)
    # each project's rho as last computed: money only shrinks, so a project's rho only grows, and one whose
    # last rho is above the best found this round cannot be bought this round (equalshares.net's speed-up)
    last = {i: 0.0 for i, p in enumerate(projects) if p.cost > 0 and len(supporters[i])}
    funded: list[str] = []
    while last:
        best: list[tuple[float, int]] = []  # (rho, project index)
        lowest = np.inf
        for i in sorted(last, key=lambda i: (last[i], i)):
            if last[i] > lowest:
                break
            rho = _rate(projects[i].cost, money[supporters[i]], utilities[i])
            if rho is None:
                del last[i]  # its supporters can no longer pay for it, and money only shrinks
                continue
            last[i] = rho
            best.append((rho, i))
            lowest = min(lowest, rho)
        if not best:
            break
        tied = [i for rho, i in best if rho == lowest]
        chosen = min(tied, key=lambda i: (projects[i].cost, -len(supporters[i]), i) if ties == "cheaper" else (i,))
        payers = supporters[chosen]
        money[payers] = np.maximum(money[payers] - lowest * utilities[chosen], 0.0)
        funded.append(projects[chosen].id)
        del last[chosen]
    return funded


def _rate(cost: float, money: np.ndarray, utility: np.ndarray) -> float | None:
    """The smallest rho with sum(min(money_i, rho * utility_i)) = cost; None if they cannot afford it."""
    if money.sum() < cost:
        return None
    order = np.argsort(money / utility, kind="stable")
    ratio, paid, weight = (money / utility)[order], money[order], utility[order]
    # supporters before k pay everything they have; those from k on pay rho * utility
    paid_before = np.concatenate(([0.0], np.cumsum(paid)[:-1]))
    weight_from = np.cumsum(weight[::-1])[::-1]
    rho = (cost - paid_before) / weight_from
    fits = np.nonzero(rho <= ratio)[0]
    return float(rho[fits[0]]) if len(fits) else None
