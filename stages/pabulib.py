"""The Pabulib `.pb` format of participatory-budgeting instances, read into a typed instance.

A file has three sections in order, META, PROJECTS and VOTES; each section name is followed by a
`;`-separated header line and CSV-quoted rows. Costs may use a decimal comma (`8000,0`).
"""

import csv
import io
from typing import Literal

from pydantic import BaseModel, ConfigDict

from musharaka.stages.budget import Project, ordinal_points

VoteType = Literal["approval", "ordinal", "cumulative", "scoring", "choose-1"]
SECTIONS = ("META", "PROJECTS", "VOTES")
# columns of VOTES that are neither the ballot nor the voter id: kept as the voter's segment fields
_BALLOT_COLUMNS = {"voter_id", "vote", "points"}


# the cost Pabulib gives a project withdrawn after the vote (its votes kept): no rule considers it
WITHDRAWN_COST = 999999999


class PbError(ValueError):
    """A `.pb` file that cannot be read; the message names the file, line and field."""


class PbModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PbProject(PbModel):
    id: str
    cost: float
    name: str = ""
    votes: int | None = None  # as the file states it
    score: float | None = None
    selected: bool | None = None  # the official outcome, when the file records it
    selected_as: str = ""  # the file's own value: 1 funded, 0 not; some cities use more (Poznań: 3, from reserves)


class PbVote(PbModel):
    voter_id: str
    ballot: tuple[str, ...]  # project ids, in the voter's order (preference order for ordinal ballots)
    points: tuple[float, ...] = ()  # per ballot entry, for cumulative and scoring ballots
    segments: dict[str, str] = {}  # age, sex, district, voting_method... as the file gives them


class PbInstance(PbModel):
    source: str
    meta: dict[str, str]
    budget: float
    vote_type: VoteType
    rule: str
    projects: tuple[PbProject, ...]
    votes: tuple[PbVote, ...]

    def candidates(self) -> list[Project]:
        """The projects a rule considers: all but those withdrawn after the vote (Pabulib's cost marker)."""
        return [Project(p.id, p.cost) for p in self.projects if p.cost != WITHDRAWN_COST]

    def funded_by_rule(self) -> set[str]:
        """The official outcome of the file's rule: `selected` 1, and for Poznań's rule (`greedy-custom`)
        2, the project its 80% rule funds; a 2 elsewhere, or a 3, is funded outside the rule (a city's own
        decision, reserve funds), as Pabulib's checker reads them."""
        by_rule = ("1", "2") if self.rule == "greedy-custom" else ("1",)
        return {p.id for p in self.projects if p.selected_as in by_rule}

    def points_of(self, vote: PbVote) -> dict[str, float]:
        """The voter's points per project: as the ballot gives them, else by rank for an ordinal ballot
        (Pabulib's default: of k ranked projects the first gets k, the last 1), else 1 for each approved one."""
        if vote.points:
            return dict(zip(vote.ballot, vote.points, strict=True))
        if self.vote_type == "ordinal":
            return ordinal_points(vote.ballot)
        return dict.fromkeys(vote.ballot, 1.0)


def parse(text: str, source: str) -> PbInstance:
    """Read a `.pb` file's text; `source` names the file in errors."""
    sections: dict[str, list[tuple[int, dict[str, str]]]] = {name: [] for name in SECTIONS}
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";", quotechar='"')
    current: str | None = None
    header: list[str] = []
    expect_header = False
    for cells in rows:
        line = rows.line_num
        if not cells or all(not c.strip() for c in cells):
            continue
        first = cells[0].strip()
        if len(cells) == 1 and first in SECTIONS:
            expected = SECTIONS[0 if current is None else min(SECTIONS.index(current) + 1, 2)]
            if first != expected:
                raise PbError(f"{source} line {line}: expected the section name {expected}, found {first!r}")
            current, expect_header = first, True
            continue
        if current is None:
            raise PbError(f"{source} line {line}: expected the section name META, found {first!r}")
        if expect_header:
            header, expect_header = [c.strip() for c in cells], False
            continue
        if len(cells) != len(header):
            raise PbError(
                f"{source} line {line}, section {current}: expected {len(header)} fields ({';'.join(header)}), "
                f"found {len(cells)}"
            )
        sections[current].append((line, dict(zip(header, (c.strip() for c in cells), strict=True))))
    missing = [name for name in SECTIONS if not sections[name] and name != "VOTES"]
    if missing:
        raise PbError(f"{source}: expected the sections {', '.join(SECTIONS)}, found none for {', '.join(missing)}")
    meta = {row.get("key", ""): row.get("value", "") for _, row in sections["META"]}
    budget = _number(meta.get("budget"), source, "META", "budget")
    vote_type = meta.get("vote_type", "")
    if vote_type not in ("approval", "ordinal", "cumulative", "scoring", "choose-1"):
        raise PbError(
            f"{source}, META vote_type: expected approval, ordinal, cumulative, scoring or choose-1, "
            f"found {vote_type!r}"
        )
    projects = tuple(_project(line, row, source) for line, row in sections["PROJECTS"])
    known = {p.id for p in projects}
    votes = tuple(_vote(line, row, source, known) for line, row in sections["VOTES"])
    return PbInstance(
        source=source,
        meta=meta,
        budget=budget,
        vote_type=vote_type,
        rule=meta.get("rule", "unknown"),
        projects=projects,
        votes=votes,
    )


def _number(value: str | None, source: str, where: str, field: str) -> float:
    if value is None or not value.strip():
        raise PbError(f"{source} {where}, {field}: expected a number, found nothing")
    try:
        return float(value.strip().replace(" ", "").replace(",", "."))
    except ValueError:
        raise PbError(f"{source} {where}, {field}: expected a number, found {value!r}") from None


def _project(line: int, row: dict[str, str], source: str) -> PbProject:
    where = f"line {line} (PROJECTS)"
    if not row.get("project_id"):
        raise PbError(f"{source} {where}, project_id: expected a project id, found nothing")
    votes, score, selected = row.get("votes"), row.get("score"), row.get("selected")
    return PbProject(
        id=row["project_id"],
        cost=_number(row.get("cost"), source, where, "cost"),
        name=row.get("name", ""),
        votes=int(_number(votes, source, where, "votes")) if votes else None,
        score=_number(score, source, where, "score") if score else None,
        selected=(selected.strip() not in ("0", "")) if selected is not None and selected.strip() else None,
        selected_as=(selected or "").strip(),
    )


def _vote(line: int, row: dict[str, str], source: str, known: set[str]) -> PbVote:
    where = f"line {line} (VOTES)"
    ballot = tuple(p.strip() for p in row.get("vote", "").split(",") if p.strip())
    unknown = [p for p in ballot if p not in known]
    if unknown:
        raise PbError(f"{source} {where}, vote: expected project ids of PROJECTS, found {', '.join(unknown)}")
    points: tuple[float, ...] = ()
    if row.get("points"):
        points = tuple(_number(p, source, where, "points") for p in row["points"].split(","))
        if len(points) != len(ballot):
            raise PbError(
                f"{source} {where}, points: expected one value per voted project ({len(ballot)}), found {len(points)}"
            )
    segments = {k: v for k, v in row.items() if k not in _BALLOT_COLUMNS and v}
    return PbVote(voter_id=row.get("voter_id", str(line)), ballot=ballot, points=points, segments=segments)
