"""The programme's half-yearly indicators, defined once: what counts as carried out, implemented, published.

Pure: it takes each campaign's facts (when its gates were approved, its decision, its follow-up) and a
half-year, and returns the ministry's table. Every fact is taken as it stood at the end of the half-year,
so a past half-year's figures never change.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from musharaka.stages.formulas import DivisionByZero, parse
from musharaka.stages.i18n import N_, words
from musharaka.stages.plans import Bilingual, local_midnight
from musharaka.stages.programme import Indicator, Programme

PERIOD = re.compile(r"^(\d{4})-H([12])$")

# Which measure each indicator of the programme file is computed with (its id in programme-2025.yaml).
CARRIED_OUT = "surveys-and-sessions"
IMPLEMENTED = "decisions-implemented"
PUBLISHED = "results-published"
BUILT_IN = (CARRIED_OUT, IMPLEMENTED, PUBLISHED)


@dataclass(frozen=True)
class Period:
    """A half-year, `2025-H1`: from its first midnight to the next half-year's, in the programme's zone."""

    name: str
    starts: datetime  # UTC, inclusive
    ends: datetime  # UTC, exclusive


def parse_period(text: str, zone: str) -> Period:
    """`2025-H1` (January to June) or `2025-H2` (July to December); ValueError naming what was found."""
    match = PERIOD.match(text)
    if not match:
        raise ValueError(f"expected a half-year such as 2025-H1, found {text!r}")
    year, half = int(match[1]), int(match[2])
    first = date(year, 1 if half == 1 else 7, 1)
    after = date(year, 7, 1) if half == 1 else date(year + 1, 1, 1)
    return Period(text, local_midnight(first, zone), local_midnight(after, zone))


def period_just_ended(now: datetime, zone: str) -> str:
    """The half-year that ended last before `now` (in `zone`): on 1 July 2025, 2025-H1."""
    local = now.astimezone(ZoneInfo(zone))
    return f"{local.year - 1}-H2" if local.month <= 6 else f"{local.year}-H1"


@dataclass(frozen=True)
class Facts:
    """What the log says of one campaign: when each gate was approved, its decision and follow-up."""

    campaign_id: str
    approved: dict[str, datetime] = field(default_factory=dict)  # stage -> when its gate was approved (UTC)
    based_on_contributions: bool | None = None  # of the approved decision, if any
    updates: tuple[tuple[datetime, str], ...] = ()  # (when, status), oldest first
    contributions: int = 0  # accepted at its approved conduct gate

    def approved_within(self, stage: str, period: Period) -> bool:
        moment = self.approved.get(stage)
        return moment is not None and period.starts <= moment < period.ends

    def approved_by(self, stage: str, moment: datetime) -> bool:
        when = self.approved.get(stage)
        return when is not None and when < moment

    def status_by(self, moment: datetime) -> str | None:
        """The latest follow-up status recorded before `moment`."""
        latest = [status for at, status in self.updates if at < moment]
        return latest[-1] if latest else None


def carried_out(facts: Facts, period: Period) -> bool:
    """Carried out in the half-year: its conduct gate was approved within it (contributions collected, accepted)."""
    return facts.approved_within("conduct", period)


def citizen_decision(facts: Facts, period: Period) -> bool:
    """A decision based on citizens' opinions, of this half-year: analyse approved within it, based on them."""
    return facts.approved_within("analyse", period) and facts.based_on_contributions is True


def implemented(facts: Facts, period: Period) -> bool:
    """Its latest follow-up update by the end of the half-year says implemented."""
    return facts.status_by(period.ends) == "implemented"


def analysed(facts: Facts, period: Period) -> bool:
    """Analysis completed in the half-year: its analyse gate was approved within it."""
    return facts.approved_within("analyse", period)


def published(facts: Facts, period: Period) -> bool:
    """Its results were published: its announce gate was approved by the end of the half-year."""
    return facts.approved_by("announce", period.ends)


# The figures a programme's own indicator may name in its formula, each for the half-year measured.
FIGURES: dict[str, str] = {
    "campaigns_carried_out": "campaigns whose conduct gate was approved in the half-year",
    "contributions": "contributions accepted by those campaigns' conduct gates",
    "analysed": "campaigns whose analyse gate was approved in the half-year",
    "published": "of those, campaigns whose results were published by the half-year's end",
    "decisions_on_contributions": "decisions of the half-year based on citizens' opinions",
    "decisions_implemented": "of those, decisions implemented by the half-year's end",
}


def figures(facts: list[Facts], period: Period) -> dict[str, float]:
    """The half-year's figures (FIGURES), counted the way the built-in indicators count them."""
    done = [f for f in facts if carried_out(f, period)]
    decided = [f for f in facts if citizen_decision(f, period)]
    analysed_ = [f for f in facts if analysed(f, period)]
    return {
        "campaigns_carried_out": len(done),
        "contributions": sum(f.contributions for f in done),
        "analysed": len(analysed_),
        "published": sum(1 for f in analysed_ if published(f, period)),
        "decisions_on_contributions": len(decided),
        "decisions_implemented": sum(1 for f in decided if implemented(f, period)),
    }


NO_VALUE = N_("no value: %(divisor)s is zero in %(period)s")


class KpiRow(BaseModel):
    """One line of the ministry's table: target, actual and gap, as numbers and as the table shows them."""

    number: int
    id: str
    name: Bilingual
    unit: str
    target: float
    actual: float | None  # None: nothing to measure (no decision or analysis in the half-year)
    gap: float | None  # None when the actual exceeds the target (shown as —) or cannot be measured
    counted: int | None  # the numerator (or the count)
    out_of: int | None  # the denominator, for shares
    campaigns: list[str]  # the campaigns counted in the actual
    target_text: str
    actual_text: str
    gap_text: str
    formula: str | None = None  # a programme's own indicator: how its actual is computed
    reason: Bilingual | None = None  # why there is no actual, when a formula could not give one


def _text(value: float, unit: str) -> str:
    shown = f"{value:.0f}" if unit == "percent" or value == int(value) else f"{value:g}"
    return shown + ("%" if unit == "percent" else "")


def kpi_row(number: int, indicator: Indicator, facts: list[Facts], period: Period) -> KpiRow:
    """The ministry's line for one indicator; an indicator the engine does not measure has no actual."""
    counted: int | None = None
    out_of: int | None = None
    chosen: list[str] = []
    if indicator.id == CARRIED_OUT:
        chosen = [f.campaign_id for f in facts if carried_out(f, period)]
        counted = len(chosen)
        actual: float | None = float(counted)
    elif indicator.id in (IMPLEMENTED, PUBLISHED):
        if indicator.id == IMPLEMENTED:
            pool = [f for f in facts if citizen_decision(f, period)]
            chosen = [f.campaign_id for f in pool if implemented(f, period)]
        else:
            pool = [f for f in facts if analysed(f, period)]
            chosen = [f.campaign_id for f in pool if published(f, period)]
        counted, out_of = len(chosen), len(pool)
        actual = 100.0 * counted / out_of if out_of else None
    elif indicator.formula is not None:
        return _formula_row(number, indicator, facts, period)
    else:
        actual = None
    return _row(number, indicator, actual, counted=counted, out_of=out_of, campaigns=sorted(chosen))


def _formula_row(number: int, indicator: Indicator, facts: list[Facts], period: Period) -> KpiRow:
    """A programme's own indicator: its formula over the half-year's figures (checked when the programme loaded)."""
    assert indicator.formula is not None
    formula = parse(indicator.formula)
    reason: Bilingual | None = None
    try:
        actual: float | None = formula.value(figures(facts, period))
    except DivisionByZero as zero:
        actual = None
        values = {"divisor": zero.divisor, "period": period.name}
        reason = Bilingual(**{lang: words(lang).gettext(NO_VALUE) % values for lang in ("ar", "en")})
    return _row(number, indicator, actual, formula=formula.text, reason=reason)


def _row(
    number: int,
    indicator: Indicator,
    actual: float | None,
    *,
    counted: int | None = None,
    out_of: int | None = None,
    campaigns: list[str] | None = None,
    formula: str | None = None,
    reason: Bilingual | None = None,
) -> KpiRow:
    """The table's line for an indicator with its actual (None: not measured): the gap, and each figure as shown."""
    gap = None if actual is None or actual > indicator.target else indicator.target - actual
    return KpiRow(
        number=number,
        id=indicator.id,
        name=indicator.name,
        unit=indicator.unit,
        target=indicator.target,
        actual=actual,
        gap=gap,
        counted=counted,
        out_of=out_of,
        campaigns=campaigns or [],
        target_text=_text(indicator.target, indicator.unit),
        actual_text="—" if actual is None else _text(actual, indicator.unit),
        gap_text="—" if gap is None else _text(gap, indicator.unit),
        formula=formula,
        reason=reason,
    )


def kpi_table(programme: Programme, facts: list[Facts], period: Period) -> list[KpiRow]:
    """The measurement table for the half-year, in the programme file's order."""
    return [kpi_row(i, indicator, facts, period) for i, indicator in enumerate(programme.indicators, 1)]


class Window(BaseModel):
    opens: datetime  # UTC
    closes: datetime  # UTC, exclusive (midnight after the closing day, with any extension then in force)
    opening_day: date
    closing_day: date


STATUS_WORDS: dict[str, str] = {
    "planned": N_("planned"),
    "missed": N_("missed: the window closed and the campaign never started"),
    "preparing": N_("in preparation"),
    "upcoming": N_("planned, opens %(day)s"),
    "open": N_("open, link closes %(day)s"),
    "reviewing": N_("participation closed, contributions under review"),
    "analysing": N_("results under analysis"),
    "decided": N_("decision taken, announcement in preparation"),
    "published": N_("done, results published"),
}


def status_words(
    facts: Facts | None,
    started: datetime | None,
    window: Window,
    moment: datetime,
    day: Callable[[date, str], str] = lambda value, lang: value.isoformat(),
) -> Bilingual:
    """A campaign's status at `moment` in the words of the ministry's programme table."""
    if (facts is None or started is None or started >= moment) and moment >= window.closes:
        key = "missed"  # the window passed and the campaign never started
    elif facts is None or started is None or started >= moment:
        key = "planned"
    elif facts.approved_by("announce", moment):
        key = "published"
    elif facts.approved_by("analyse", moment):
        key = "decided"
    elif facts.approved_by("conduct", moment):
        key = "analysing"
    elif not facts.approved_by("plan", moment):
        key = "preparing"
    elif moment < window.opens:
        key = "upcoming"
    elif moment < window.closes:
        key = "open"
    else:
        key = "reviewing"
    when = window.opening_day if key == "upcoming" else window.closing_day
    return Bilingual(
        **{lang: words(lang).gettext(STATUS_WORDS[key]) % {"day": day(when, lang)} for lang in ("ar", "en")}
    )
