"""Calendars: a country's week-end and public holidays from the `holidays` package, a planner's exceptions,
and the problems a calendar in a plan file can have."""

from datetime import date

import pytest
from pydantic import ValidationError

from musharaka.stages.calendars import calendar_of, is_working_day
from musharaka.stages.checks import campaign_problems, programme_problems
from musharaka.stages.plans import Calendar
from musharaka.stages.programme import Programme
from tests.stages.plans_fixture import SATISFACTION, changed


@pytest.mark.parametrize(
    ("country", "day", "worked"),
    [
        ("OM", date(2025, 6, 4), True),  # a Wednesday before Eid al-Adha
        ("OM", date(2025, 6, 5), False),  # Eid al-Adha, a Thursday
        ("OM", date(2025, 6, 13), False),  # a Friday
        ("OM", date(2025, 6, 15), True),  # a Sunday
        ("OM", date(2025, 11, 26), False),  # National Day
        ("AE", date(2025, 6, 5), False),  # the Day of Arafah
        ("AE", date(2025, 6, 13), True),  # a Friday
        ("AE", date(2025, 6, 15), False),  # a Sunday
        ("AE", date(2021, 6, 11), False),  # a Friday, the UAE's week-end until 2022
        ("AE", date(2021, 6, 13), True),  # a Sunday, then a working day
    ],
)
def test_the_countrys_week_end_and_public_holidays_are_not_worked(country: str, day: date, worked: bool) -> None:
    assert is_working_day(day, Calendar(country=country)) is worked


def test_a_working_exception_outweighs_the_week_end_and_a_public_holiday() -> None:
    calendar = Calendar(working=(date(2025, 6, 6), date(2025, 6, 13)))  # Eid on a Friday, then a plain Friday
    assert is_working_day(date(2025, 6, 6), calendar) and is_working_day(date(2025, 6, 13), calendar)


def test_a_week_end_of_the_planners_replaces_the_countrys() -> None:
    calendar = Calendar(weekend=("friday",))
    assert is_working_day(date(2025, 6, 14), calendar)  # a Saturday
    assert not is_working_day(date(2025, 6, 13), calendar)


def test_a_campaign_without_a_calendar_counts_omans_days() -> None:
    assert calendar_of(SATISFACTION.model_copy(update={"calendar": None})) == Calendar(country="OM")


@pytest.mark.parametrize(
    ("weekend", "message"),
    [
        (["friday", "friday"], "expected each week-end day once"),
        (["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"], "at least one working day"),
        (["fri"], "Input should be 'monday'"),
    ],
)
def test_a_week_end_names_days_once_and_leaves_some_to_work(weekend: list[str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Calendar.model_validate({"weekend": weekend})


def test_an_unknown_country_is_a_problem_located_in_the_calendar() -> None:
    [(loc, message)] = campaign_problems(changed(SATISFACTION, calendar={"country": "XX"}))
    assert loc == ("calendar", "country")
    assert message == (
        "expected the two-letter code of a country whose holidays are known, such as OM, AE or SA, found 'XX'"
    )


def test_a_day_both_off_and_worked_is_a_problem() -> None:
    calendar = {
        "holidays": [{"on": "2025-12-31", "name": {"ar": "إجازة الوزارة", "en": "Ministry closure"}}],
        "working": ["2025-12-30", "2025-12-31"],
    }
    programme = Programme.model_validate(
        {
            "id": "p",
            "year": 2025,
            "ministry": {"ar": "وزارة", "en": "Ministry"},
            "title": {"ar": "خطة", "en": "Plan"},
            "campaigns": [{"campaign": SATISFACTION.id, "quarter": SATISFACTION.quarter}],
            "calendar": calendar,
        }
    )
    assert programme_problems(programme) == [
        (
            ("calendar", "working", 1),
            "expected a day not also in `holidays`, found 2025-12-31 there as 'Ministry closure'",
        )
    ]
