"""Participatory-budget rules: which projects a budget funds, given the voters' ballots.

Ballots are {project id: utility}: 1 per approved project (approval, choose-1, ordinal read as approval)
or the points given (cumulative, scoring).

- greedy: projects by support (approvals, or total points) from most to least; each is funded if it
  still fits in what is left of the budget, otherwise skipped (the next cheaper one may still fit).
  Ties in support go to the cheaper project, then to the plan's order.
- equal shares (MES): the budget is split equally among the voters; a voter's utility for a project is
  its cost when the voter approves it (cost utilities, for approval-like ballots: this is what Pabulib's
  `equalshares` records mean) or the points given (cumulative, scoring). A project is bought by its
  supporters, each paying in proportion to their utility at the smallest rate rho that covers its cost
  (a supporter whose money runs out pays all they have left). The project with the smallest rho per unit
  of utility is bought next (ties: cheaper, then more supporters, then plan order); it stops when no
  project can be paid for. `add1` completion: while some unfunded project still fits in the real budget,
  MES is run again with each voter's share raised by one currency unit, as long as its outcome costs no
  more than the real budget; the last such outcome is kept.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

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


def greedy(projects: Sequence[Project], ballots: Sequence[Ballot], budget: float) -> list[str]:
    """The projects funded by the greedy rule, in the order they were funded."""
    _, points = support(projects, ballots)
    order = sorted(range(len(projects)), key=lambda i: (-points[projects[i].id], projects[i].cost, i))
    funded, left = [], budget
    for i in order:
        if points[projects[i].id] > 0 and projects[i].cost <= left:
            funded.append(projects[i].id)
            left -= projects[i].cost
    return funded


def equal_shares(
    projects: Sequence[Project],
    ballots: Sequence[Ballot],
    budget: float,
    *,
    add1: bool = True,
    cost_utilities: bool = True,
) -> list[str]:
    """The projects funded by the method of equal shares (with the add1 completion when asked)."""
    if not ballots:
        return []
    supporters, utilities = _supporters(projects, ballots)
    if cost_utilities:
        utilities = [u * p.cost for u, p in zip(utilities, projects, strict=True)]
    n = len(ballots)
    funded = _mes(projects, supporters, utilities, n, budget)
    if not add1:
        return funded
    spent = sum(p.cost for p in projects if p.id in funded)
    virtual = int(budget / n) * n  # whole currency units per voter
    while any(p.id not in funded and spent + p.cost <= budget for p in projects):
        virtual += n
        attempt = _mes(projects, supporters, utilities, n, virtual)
        cost = sum(p.cost for p in projects if p.id in attempt)
        if cost > budget:
            break
        funded, spent = attempt, cost
    return funded


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
) -> list[str]:
    money = np.full(voters, budget / voters)
    remaining = [i for i, p in enumerate(projects) if p.cost > 0 and len(supporters[i])]
    funded: list[str] = []
    while remaining:
        best: list[tuple[float, int]] = []  # (rho, project index)
        for i in list(remaining):
            rho = _rate(projects[i].cost, money[supporters[i]], utilities[i])
            if rho is None:
                remaining.remove(i)  # its supporters can no longer pay for it, and money only shrinks
                continue
            best.append((rho, i))
        if not best:
            break
        lowest = min(rho for rho, _ in best)
        ties = [i for rho, i in best if rho == lowest]
        chosen = min(ties, key=lambda i: (projects[i].cost, -len(supporters[i]), i))
        payers = supporters[chosen]
        money[payers] = np.maximum(money[payers] - lowest * utilities[chosen], 0.0)
        funded.append(projects[chosen].id)
        remaining.remove(chosen)
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
