"""The annual programme as a typed model: campaigns by quarter, KPI targets per half-year."""

from datetime import date, timedelta
from typing import Literal

from pydantic import Field

from musharaka.stages.plans import QUARTER, Bilingual, Calendar, Id, Strict, Vocabulary


class ProgrammeEntry(Strict):
    campaign: Id
    quarter: str = Field(pattern=QUARTER.pattern)


class Indicator(Strict):
    """A line of the ministry's half-yearly measurement table.

    The engine measures the built-in indicators by their id (stages/kpis.py); any other is computed by its
    `formula` over the half-year's figures (stages/formulas.py), or has no actual.
    """

    id: Id
    name: Bilingual
    target: float = Field(ge=0)
    unit: Literal["count", "percent"]
    formula: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="the actual, in the indicator's unit, from the half-year's figures: numbers, figure names, "
        "+ - * / and parentheses, such as `100 * published / analysed`",
    )


class Programme(Strict):
    """The annual programme: campaigns by quarter and the half-yearly indicators."""

    id: Id
    year: int = Field(ge=2000, le=2100)
    ministry: Bilingual
    title: Bilingual
    campaigns: tuple[ProgrammeEntry, ...] = Field(min_length=1)
    indicators: tuple[Indicator, ...] = ()
    calendar: Calendar | None = Field(
        default=None, description="the working week and holidays of the campaigns it lists that name none"
    )
    vocabulary: Vocabulary = Field(
        default=Vocabulary(), description="channels, tools and sectors beyond the built-in ones, with their names"
    )


def quarter_bounds(quarter: str) -> tuple[date, date]:
    """First and last day of a quarter written `2025-Q3`."""
    match = QUARTER.match(quarter)
    if not match:
        raise ValueError(f"a quarter like 2025-Q3, found {quarter!r}")
    year, q = int(match[1]), int(match[2])
    first = date(year, 3 * q - 2, 1)
    last = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return first, last - timedelta(days=1)


def quarters_spanned(first: date, last: date) -> list[str]:
    """The quarters, written `2025-Q3`, from the one holding `first` to the one holding `last`."""
    quarters = []
    year, q = first.year, (first.month - 1) // 3 + 1
    while (year, q) <= (last.year, (last.month - 1) // 3 + 1):
        quarters.append(f"{year}-Q{q}")
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)
    return quarters
