"""Gate due dates: calendar days, or the working days of the campaign's calendar, across Eid al-Adha 2025.

The `holidays` package gives Eid al-Adha 2025 as Thursday 5 to Sunday 8 June in Oman, and as the Day of
Arafah on Thursday 5 June then Eid from Friday 6 to Sunday 8 June in the UAE. Oman's week-end is Friday
and Saturday, the UAE's Saturday and Sunday. Each gate below opens on Wednesday 4 June, 09:00 local time.
"""

from datetime import UTC, date, datetime

import pytest

from musharaka.stages.gates import due_at
from musharaka.stages.plans import Bilingual, Calendar, DayOff, GatePolicy

OPENED = datetime(2025, 6, 4, 5, tzinfo=UTC)  # 09:00 in Muscat and in Dubai
OMAN = Calendar(country="OM")
UAE = Calendar(country="AE")
DECREED = DayOff(on=date(2025, 6, 9), name=Bilingual(ar="إجازة عيد الأضحى الإضافية", en="Extra Eid al-Adha day"))


def working(days: int) -> GatePolicy:
    return GatePolicy(roles=("dg-planning",), due_days=days, days="working")


@pytest.mark.parametrize(
    ("calendar", "zone", "days", "due"),
    [
        # Thu 5 to Sun 8 Eid (Fri 6, Sat 7 the week-end too); Mon 9 is 1, Tue 10 is 2: due at the end of Tue 10
        (OMAN, "Asia/Muscat", 2, datetime(2025, 6, 10, 20, tzinfo=UTC)),
        # as above, then Wed 11 is 3, Thu 12 is 4, Fri 13 and Sat 14 the week-end, Sun 15 is 5
        (OMAN, "Asia/Muscat", 5, datetime(2025, 6, 15, 20, tzinfo=UTC)),
        # Thu 5 Arafah, Fri 6 to Sun 8 Eid (Sat 7, Sun 8 the week-end too); Mon 9 is 1 ... Fri 13 is 5
        (UAE, "Asia/Dubai", 5, datetime(2025, 6, 13, 20, tzinfo=UTC)),
    ],
    ids=["oman-2-days", "oman-5-days", "uae-5-days"],
)
def test_working_days_skip_eid_and_the_countrys_week_end(
    calendar: Calendar, zone: str, days: int, due: datetime
) -> None:
    assert due_at(OPENED, working(days), zone, calendar) == due


@pytest.mark.parametrize(
    ("calendar", "days", "due"),
    [
        # Mon 9 a day off the planner added; Tue 10 is 1, Wed 11 is 2
        (Calendar(holidays=(DECREED,)), 2, datetime(2025, 6, 11, 20, tzinfo=UTC)),
        # Sat 7 worked although Eid and the week-end: it is 1; Sun 8 Eid; Mon 9 is 2
        (Calendar(working=(date(2025, 6, 7),)), 2, datetime(2025, 6, 9, 20, tzinfo=UTC)),
        # Oman's own week-end before May 2013, Thursday and Friday: Mon 9 is 1 ... Wed 11 is 3, Sat 14 is 4
        # (with Friday and Saturday it would be Thu 12)
        (Calendar(weekend=("thursday", "friday")), 4, datetime(2025, 6, 14, 20, tzinfo=UTC)),
    ],
    ids=["planner-holiday", "working-exception", "own-week-end"],
)
def test_a_planners_days_off_days_worked_and_week_end_count_too(calendar: Calendar, days: int, due: datetime) -> None:
    assert due_at(OPENED, working(days), "Asia/Muscat", calendar) == due


def test_calendar_days_count_every_day_holidays_included() -> None:
    policy = GatePolicy(roles=("dg-planning",), due_days=2, days="calendar")
    # Thu 5 is 1, Fri 6 is 2: due at the end of Friday 6 June, Eid or not
    assert due_at(OPENED, policy, "Asia/Muscat", OMAN) == datetime(2025, 6, 6, 20, tzinfo=UTC)
