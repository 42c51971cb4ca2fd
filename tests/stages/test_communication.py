"""The communication plan (guide 8.1.7): due days from lifecycle moments, statuses, promises kept or broken.

The chatbot vote's window opens on Sunday 2 February 2025 and closes on Thursday 20 February, Asia/Muscat
(UTC+4, no daylight saving): local midnight is 20:00 UTC the day before. Oman's week-end is Friday and
Saturday; February 2025 has no public holiday in Oman.
"""

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from musharaka.stages.checks import campaign_problems, vocabulary_problems
from musharaka.stages.communication import Record, Sent, entry, promises_at, schedule
from musharaka.stages.plans import CampaignPlan, Message
from tests.stages.plans_fixture import VOTE, changed


def message(**fields: Any) -> Message:
    base: dict[str, Any] = {
        "id": "m",
        "stage": "conduct",
        "to": ["participants"],
        "what": {"ar": "رسالة", "en": "A message"},
        "channels": ["website"],
        "when": {"at": "window-opens"},
    }
    return Message.model_validate({**base, **fields})


def with_messages(*messages: Message) -> CampaignPlan:
    return changed(VOTE, communication=[m.model_dump() for m in messages])


def due(plan: CampaignPlan, record: Record, message_id: str, now: datetime) -> tuple[date | None, datetime | None]:
    found = next(e for e in schedule(plan, record, now) if e.message.id == message_id)
    return found.due_on, found.deadline


NOW = datetime(2025, 3, 1, tzinfo=UTC)

# The moments of the demo's chatbot run: analyse started 02:00 on Friday 21 February in Muscat (22:00 UTC the
# day before), the decision approved at 09:00 on Sunday 23 February (05:00 UTC).
MOMENTS = Record(
    started={"analyse": datetime(2025, 2, 20, 22, tzinfo=UTC)},
    approved={"analyse": datetime(2025, 2, 23, 5, tzinfo=UTC)},
)


@pytest.mark.parametrize(
    ("message_id", "due_on", "deadline"),
    [
        # window-opens, -3 calendar days: Sun 2 Feb - 3 = Thu 30 Jan; it ends at 20:00 UTC on the 30th
        ("vote-coming", date(2025, 1, 30), datetime(2025, 1, 30, 20, tzinfo=UTC)),
        # window-opens, 0 days: Sun 2 Feb
        ("vote-opens", date(2025, 2, 2), datetime(2025, 2, 2, 20, tzinfo=UTC)),
        # a fixed day: 12 Feb
        ("reminder", date(2025, 2, 12), datetime(2025, 2, 12, 20, tzinfo=UTC)),
        # window-closes (its last day, Thu 20 Feb) + 1 calendar day: Fri 21 Feb, a week-end day all the same
        ("vote-closed", date(2025, 2, 21), datetime(2025, 2, 21, 20, tzinfo=UTC)),
        # analyse started at 22:00 UTC on the 20th = 02:00 on Fri 21 in Muscat; + 1 working day: Sat 22 is the
        # week-end, so Sun 23 Feb
        ("management-briefing", date(2025, 2, 23), datetime(2025, 2, 23, 20, tzinfo=UTC)),
        # decision Sun 23 Feb; + 3 working days: Mon 24 (1), Tue 25 (2), Wed 26 (3)
        ("winning-name", date(2025, 2, 26), datetime(2025, 2, 26, 20, tzinfo=UTC)),
    ],
)
def test_each_message_is_due_on_its_moments_day_moved_by_its_days(
    message_id: str, due_on: date, deadline: datetime
) -> None:
    assert due(VOTE, MOMENTS, message_id, NOW) == (due_on, deadline)


def test_working_days_before_a_moment_skip_the_week_end_and_holidays() -> None:
    # window opens Sun 2 Feb; back 2 working days: Sat 1 and Fri 31 Jan are the week-end, Thu 30 Jan is Isra'
    # and Mi'raj (a public holiday in Oman in 2025), Wed 29 is 1, Tue 28 is 2
    plan = with_messages(message(id="early", when={"at": "window-opens", "days": -2, "counted": "working"}))
    assert due(plan, Record(), "early", NOW) == (date(2025, 1, 28), datetime(2025, 1, 28, 20, tzinfo=UTC))


def test_an_extended_window_moves_messages_after_its_close() -> None:
    # extended to Thu 27 Feb: + 1 day is Fri 28 Feb (the plan's own close would give Fri 21)
    extended = Record(closes=date(2025, 2, 27))
    assert due(VOTE, extended, "vote-closed", NOW) == (date(2025, 2, 28), datetime(2025, 2, 28, 20, tzinfo=UTC))


def test_a_message_before_the_window_opens_is_due_on_its_day_and_overdue_the_next() -> None:
    # vote-coming: 3 days before the window opens on Sun 2 Feb, Thu 30 Jan, from 00:00 Muscat (20:00 UTC on
    # the 29th) to 24:00 (20:00 UTC on the 30th)
    def status(at: datetime) -> str:
        return next(e.status for e in schedule(VOTE, Record(), at) if e.message.id == "vote-coming")

    assert status(datetime(2025, 1, 29, 19, 59, tzinfo=UTC)) == "scheduled"
    assert status(datetime(2025, 1, 29, 20, tzinfo=UTC)) == "due"
    assert status(datetime(2025, 1, 30, 20, tzinfo=UTC)) == "overdue"


def test_a_message_has_no_due_day_until_its_moment_is_recorded() -> None:
    # no analyse stage started, no decision: the briefing and the result wait for them, whatever the date
    statuses = {e.message.id: (e.due_on, e.status) for e in schedule(VOTE, Record(), NOW)}
    assert statuses["management-briefing"] == (None, "scheduled")
    assert statuses["winning-name"] == (None, "scheduled")


def test_statuses_at_seven_in_the_morning_on_the_day_the_window_opens() -> None:
    now = datetime(2025, 2, 2, 3, tzinfo=UTC)  # 07:00 on Sun 2 Feb in Muscat
    statuses = {e.message.id: e.status for e in schedule(VOTE, Record(), now)}
    assert statuses == {
        "vote-coming": "overdue",  # due Thu 30 Jan, not sent
        "vote-opens": "due",  # due today: from 20:00 UTC on the 1st to 20:00 UTC on the 2nd
        "reminder": "scheduled",  # 12 Feb
        "vote-closed": "scheduled",  # 21 Feb
        "management-briefing": "scheduled",
        "winning-name": "scheduled",
    }


@pytest.mark.parametrize(
    ("sent_at", "status"),
    [
        (datetime(2025, 1, 30, 19, 59, tzinfo=UTC), "sent-on-time"),  # 23:59 on Thu 30 Jan in Muscat
        (datetime(2025, 1, 30, 20, 0, tzinfo=UTC), "sent-late"),  # 00:00 on Fri 31 Jan in Muscat
        (datetime(2025, 1, 20, 9, tzinfo=UTC), "sent-on-time"),  # ten days early is in time
    ],
)
def test_a_message_sent_by_the_end_of_its_day_in_the_campaigns_zone_is_on_time(sent_at: datetime, status: str) -> None:
    record = Record(sent=(Sent(message="vote-coming", at=sent_at, by="planning.team"),))
    vote_coming = next(m for m in VOTE.communication if m.id == "vote-coming")
    assert entry(vote_coming, VOTE, record, NOW).status == status


def test_a_message_after_a_gate_approval_is_not_due_before_the_approval_itself() -> None:
    # the plan gate approved at 23:30 in Muscat on Wed 15 Jan (19:30 UTC): the message is due from then, not
    # from midnight, and must go out by midnight (20:00 UTC)
    plan = with_messages(message(id="go", stage="plan", to=["management"], when={"at": "gate-approved"}))
    approved = Record(approved={"plan": datetime(2025, 1, 15, 19, 30, tzinfo=UTC)})
    go = plan.communication[0]
    found = entry(go, plan, approved, datetime(2025, 1, 15, 19, 45, tzinfo=UTC))  # 23:45 in Muscat
    assert (found.due_from, found.status) == (datetime(2025, 1, 15, 19, 30, tzinfo=UTC), "due")
    assert entry(go, plan, approved, datetime(2025, 1, 15, 20, 0, tzinfo=UTC)).status == "overdue"  # midnight


def test_the_announcement_reports_promises_kept_broken_and_pending() -> None:
    record = MOMENTS.model_copy(
        update={
            "sent": (
                Sent(message="vote-opens", at=datetime(2025, 2, 2, 4, tzinfo=UTC), by="planning.team"),
                # 08:00 on Sun 23 Feb in Muscat; due Fri 21: two days late
                Sent(message="vote-closed", at=datetime(2025, 2, 23, 4, tzinfo=UTC), by="planning.team"),
            )
        }
    )
    found = {p.id: (p.outcome, p.sent_on, p.days_late) for p in promises_at(VOTE, record, MOMENTS.approved["analyse"])}
    assert found == {
        "vote-opens": ("kept", date(2025, 2, 2), 0),
        "vote-closed": ("broken", date(2025, 2, 23), 2),
        "winning-name": ("pending", None, 0),  # due Wed 26 Feb: the decision is only now approved
    }


def test_a_promise_not_sent_by_its_day_is_broken() -> None:
    # at 00:00 on Thu 27 Feb in Muscat the winning name (due Wed 26) has not gone out
    late = promises_at(VOTE, MOMENTS, datetime(2025, 2, 26, 20, tzinfo=UTC))
    assert [(p.id, p.outcome, p.sent_on) for p in late if p.id == "winning-name"] == [("winning-name", "broken", None)]


def test_a_plan_names_known_recipients_and_announces_where_contributions_came_from() -> None:
    plan = with_messages(
        message(id="a", to=["participants", "parents"]),
        message(id="b", stage="analyse", when={"at": "decision", "days": -1}),
        message(id="c", stage="announce", to=["public"], channels=["sms"]),
        message(id="c", stage="announce", to=["management"], channels=["email"]),
    )
    problems = dict(campaign_problems(plan))
    assert "'parents'" in problems[("communication", 0, "to", 1)]
    assert "found -1" in problems[("communication", 1, "when", "days")]
    assert "guide 8.1.5" in problems[("communication", 2, "channels")]  # the vote collected on the website only
    assert ("communication", 3, "channels") not in problems  # management is told by e-mail: not the rule's concern
    assert any(loc[0] == "communication" and "id" in loc for loc in problems)  # `c` twice


def test_a_message_channel_must_be_a_known_channel() -> None:
    plan = with_messages(message(channels=["webiste"]))
    assert "did you mean 'website'" in dict(vocabulary_problems(plan))[("communication", 0, "channels", 0)]


@pytest.mark.parametrize(
    ("when", "found"),
    [({"at": "window-opens", "on": "2025-02-01"}, "both"), ({"days": 2}, "neither")],
)
def test_a_message_is_due_at_a_moment_or_on_a_day_not_both(when: dict[str, Any], found: str) -> None:
    with pytest.raises(ValidationError, match=f"found {found}"):
        message(when=when)
