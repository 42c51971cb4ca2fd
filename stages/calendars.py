"""Working days, pure: a calendar's week-end and public holidays, and the planner's dated exceptions.

The country's public holidays and week-end come from the `holidays` package. Its Hijri-calendar holidays
(the two Eids, the Islamic New Year, the Prophet's Birthday, Isra' and Mi'raj) follow the moon sighting
each year; for years the package has no announced dates it gives estimates, which may be a day out.
"""

from datetime import date, timedelta
from functools import cache
from typing import TYPE_CHECKING

from musharaka.stages.plans import WEEKDAYS, Calendar, CampaignPlan, Loc

if TYPE_CHECKING:
    from holidays import HolidayBase

DEFAULT = Calendar()
"""The calendar of a campaign whose plan and programme name none: Oman's."""


def calendar_of(plan: CampaignPlan) -> Calendar:
    """The calendar a campaign's working days are counted by: its plan's (which the loader fills in from the
    programme listing the campaign, when the plan names none), else Oman's."""
    return plan.calendar or DEFAULT


def is_working_day(day: date, calendar: Calendar) -> bool:
    """Whether `day` is worked: a `working` exception always is; a day off, public holiday or week-end day is not."""
    if day in calendar.working:
        return True
    if any(off.on == day for off in calendar.holidays):
        return False
    public = _public_holidays(calendar.country, day.year)
    # the country's week-end is the one of that year: the UAE's moved to Saturday and Sunday in 2022
    weekend = public.is_weekend(day) if calendar.weekend is None else WEEKDAYS[day.weekday()] in calendar.weekend
    return not weekend and day not in public


def working_day_after(day: date, count: int, calendar: Calendar) -> date:
    """The `count`th working day after `day` (`day` itself not counted)."""
    counted = 0
    while counted < count:
        day += timedelta(days=1)
        if is_working_day(day, calendar):
            counted += 1
    return day


@cache
def _public_holidays(country: str, year: int) -> "HolidayBase":
    """One country's public holidays of one year, computed once: asked again for every day counted."""
    import holidays  # here: its import is a cost only counting working days needs

    # expand=False: asking about a day of another year must not add that year to a shared, cached object
    return holidays.country_holidays(country, years=year, expand=False)


def calendar_problems(calendar: Calendar) -> list[tuple[Loc, str]]:
    """A calendar's own rules beyond its schema, each as (location within the calendar, expected and found)."""
    problems: list[tuple[Loc, str]] = []
    if calendar.country not in _known_countries():
        problems.append(
            (
                ("country",),
                "expected the two-letter code of a country whose holidays are known, such as OM, AE or SA, "
                f"found {calendar.country!r}",
            )
        )
    days_off = {off.on: off.name.en for off in calendar.holidays}
    for i, day in enumerate(calendar.working):
        if day in days_off:
            problems.append(
                (("working", i), f"expected a day not also in `holidays`, found {day} there as {days_off[day]!r}")
            )
    return problems


@cache
def _known_countries() -> frozenset[str]:
    """The two-letter codes of the countries the `holidays` package has holidays for."""
    import holidays

    return frozenset(code for code in holidays.list_supported_countries() if len(code) == 2)
