"""A question's cells read as answers: options by id or label, multiple choices split against the
known options, numbers with Arabic digits, ballots; each cell either an answer or the reason it is not one.
"""

from functools import cache
from typing import Any

from musharaka.flows.ingest.columns import norm
from musharaka.stages.plans import BudgetRule, Question

# Arabic-Indic and Eastern Arabic-Indic digits, and the Arabic decimal and thousands separators
DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫٬", "01234567890123456789.,")


Answer = str | float | list[str] | None


def resolver(question: Question, separator: str, budget: BudgetRule | None = None) -> Any:
    """A function from one cell's text to (answer, problem), built once per question and chunk; `budget`, the
    plan's participatory budget when this question is its ballot (its limits on projects per ballot)."""
    field = question.id
    if question.type in ("single", "multiple", "ballot"):
        lookup = _options(question)
    if question.type == "single":

        def single(value: str) -> tuple[Answer, str | None]:
            text = value.strip()
            if not text:
                return None, _required(question)
            chosen = lookup.get(norm(text))
            if chosen is None:
                return None, f"{field}: expected one of {[o.id for o in question.options]}, found {text!r}"
            return chosen, None

        return single
    if question.type == "multiple":
        order = {o.id: i for i, o in enumerate(question.options)}

        def multiple(value: str) -> tuple[Answer, str | None]:
            text = value.strip().strip(";" if separator == ";" else "").strip()
            if not text:
                return None, _required(question)
            chosen = _split(text, separator, lookup)
            if chosen is None:
                pieces = [p.strip() for p in text.split(separator) if p.strip()]
                unknown = [p for p in pieces if norm(p) not in lookup]
                return (
                    None,
                    f"{field}: expected options among {[o.id for o in question.options]}, found {unknown or [text]}",
                )
            return sorted(set(chosen), key=order.__getitem__), None

        return multiple
    if question.type == "ballot":
        return ballot_resolver(question, lookup, budget)
    if question.type in ("likert", "number"):

        def number(value: str) -> tuple[Answer, str | None]:
            text = value.strip().translate(DIGITS).replace(",", "") if value.strip() else ""
            if not text:
                return None, _required(question)
            try:
                figure = float(text)
            except ValueError:
                return None, f"{field}: expected a number, found {value.strip()!r}"
            if figure != figure or figure in (float("inf"), float("-inf")):
                return None, f"{field}: expected a number, found {value.strip()!r}"
            if question.type == "likert" and (figure != int(figure) or not 1 <= figure <= question.scale):
                return None, f"{field}: expected a whole number from 1 to {question.scale}, found {value.strip()!r}"
            low, high = question.minimum, question.maximum
            if (low is not None and figure < low) or (high is not None and figure > high):
                return None, f"{field}: expected a number from {low} to {high}, found {value.strip()!r}"
            return figure, None

        return number

    def text(value: str) -> tuple[Answer, str | None]:
        stripped = value.strip()
        return (stripped, None) if stripped else (None, _required(question))

    return text


def ballot_resolver(question: Question, lookup: dict[str, str], budget: BudgetRule | None = None) -> Any:
    """A participatory-budget ballot: `p1,p2` or `p1|p2` (approval, ordinal: in the voter's order) or `p1:3,p2:2`
    (cumulative, scoring) -> a list of project ids, or {project id: points}. `|` is how the CSV and JSON Lines
    formats join a multiple choice; `,` is Pabulib's."""

    def ballot(value: str) -> tuple[Answer | dict[str, float], str | None]:
        text = value.strip()
        if not text:
            return None, _required(question)
        chosen: list[str] = []
        points: dict[str, float] = {}
        for piece in (p.strip() for p in text.replace("|", ",").split(",") if p.strip()):
            project, _, given = piece.partition(":")
            known = lookup.get(norm(project))
            if known is None:
                return (
                    None,
                    f"{question.id}: expected projects among {[o.id for o in question.options]}, found {project!r}",
                )
            chosen.append(known)
            if given:
                try:
                    points[known] = float(given.translate(DIGITS))
                except ValueError:
                    return None, f"{question.id}: expected points as a number, found {given!r}"
        too_many = _beyond_limits(question, budget, chosen)
        if too_many:
            return None, too_many
        return (points if points else chosen), None

    return ballot


def _beyond_limits(question: Question, budget: BudgetRule | None, chosen: list[str]) -> str | None:
    """A ballot choosing more projects than the budget lets one ballot choose, overall or in an area."""
    if budget is None:
        return None
    if budget.max_projects is not None and len(chosen) > budget.max_projects:
        return f"{question.id}: expected at most {budget.max_projects} projects on a ballot, found {len(chosen)}"
    area_of = {o.id: o.area for o in question.options}
    for area in budget.areas:
        limit = area.max_projects or budget.max_projects
        count = sum(1 for project in chosen if area_of.get(project) == area.id)
        if limit is not None and count > limit:
            most = f"{limit} project" if limit == 1 else f"{limit} projects"
            return f"{question.id}: expected at most {most} of the area {area.id} on a ballot, found {count}"
    return None


def _required(question: Question) -> str | None:
    return f"{question.id}: expected an answer (the question is required), found none" if question.required else None


def _options(question: Question) -> dict[str, str]:
    """Every way a file may write an option (its id, its English or Arabic label) -> the option id."""
    lookup: dict[str, str] = {}
    for option in question.options:
        for name in (option.id, option.label.en, option.label.ar):
            lookup.setdefault(norm(name), option.id)
    return lookup


def _split(text: str, separator: str, lookup: dict[str, str]) -> list[str] | None:
    """Split a multiple-choice cell against the known options, so an option containing the separator
    (Google Forms joins with ", ", and labels have commas) is still one option; None if no split fits."""
    whole = lookup.get(norm(text))
    if whole is not None:
        return [whole]
    pieces = text.split(separator) if separator.strip() or separator == "\x1f" else text.split()

    @cache
    def from_piece(start: int) -> tuple[str, ...] | None:
        if start == len(pieces):
            return ()
        for end in range(len(pieces), start, -1):  # the longest option first
            chosen = lookup.get(norm(separator.join(pieces[start:end])))
            if chosen is not None:
                rest = from_piece(end)
                if rest is not None:
                    return (chosen, *rest)
        return None

    found = from_piece(0)
    return list(found) if found is not None else None
