"""Gate rules, pure: who may decide a gate and in what capacity, when it passes, when it falls due."""

from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from musharaka.stages.approvers import ApproversRegistry
from musharaka.stages.calendars import working_day_after
from musharaka.stages.common import StageModel
from musharaka.stages.plans import Calendar, GatePolicy, local_midnight

Capacity = Literal["role", "delegate", "escalation"]


class Authority(StageModel):
    """On whose authority and with which of the policy's roles an approver decides."""

    approver: str
    principal: str  # the approver, or the delegator whose authority they hold
    capacity: Capacity
    roles: tuple[str, ...]


class Approval(StageModel):
    principal: str
    roles: tuple[str, ...]
    capacity: Capacity


class NoAuthority(Exception):
    """The approver may not decide this gate (now); the message says why."""


def due_at(opened: datetime, policy: GatePolicy, zone: str, calendar: Calendar) -> datetime:
    """The end of the Nth calendar or working day after the gate opened, in the campaign's zone.

    Working days are those of `calendar`: its week-end, public holidays and days off are skipped.
    """
    day: date = opened.astimezone(ZoneInfo(zone)).date()
    if policy.days == "working":
        last = working_day_after(day, policy.due_days, calendar)
    else:
        last = day + timedelta(days=policy.due_days)
    return local_midnight(last + timedelta(days=1), zone)


def authority(
    registry: ApproversRegistry, approver_id: str, policy: GatePolicy, *, now: datetime, due: datetime
) -> Authority:
    """How `approver_id` may decide a gate under `policy` at `now`, or NoAuthority with the reason."""
    approver = registry.get(approver_id)
    if approver is None:
        raise NoAuthority(f"{approver_id!r} is not in the approvers registry")
    if "approver" not in approver.duties:
        raise NoAuthority(f"{approver_id} is not an approver (duties: {', '.join(approver.duties)})")
    deciding = set(policy.roles) | set(policy.all_of)
    own = tuple(r for r in approver.roles if r in deciding)
    if own:
        return Authority(approver=approver_id, principal=approver_id, capacity="role", roles=own)
    for delegation in registry.delegations:
        if delegation.delegate != approver_id or not delegation.in_force(now):
            continue
        delegator = registry.get(delegation.delegator)
        lent = delegation.roles or (delegator.roles if delegator else ())
        roles = tuple(r for r in lent if r in deciding)
        if roles:
            return Authority(approver=approver_id, principal=delegation.delegator, capacity="delegate", roles=roles)
    escalating = tuple(r for r in approver.roles if r in policy.escalation)
    if escalating and now >= due:
        return Authority(approver=approver_id, principal=approver_id, capacity="escalation", roles=escalating)
    if escalating:
        raise NoAuthority(
            f"{approver_id} may decide this gate by escalation only once it is overdue, after {due.isoformat()}"
        )
    needed = sorted(deciding | set(policy.escalation))
    raise NoAuthority(f"{approver_id} holds roles {list(approver.roles)}; this gate needs one of {needed}")


def passes(policy: GatePolicy, approvals: list[Approval]) -> bool:
    """Whether the approvals meet the policy: an escalation decides alone; otherwise every seat is filled.

    The seats are `quorum` seats for any of `roles` and one per `all_of` role; one person fills one seat.
    """
    if any(a.capacity == "escalation" for a in approvals):
        return True
    people: dict[str, set[str]] = {}
    for approval in approvals:
        people.setdefault(approval.principal, set()).update(approval.roles)
    seats = [set(policy.roles)] * (policy.quorum if policy.roles else 0)
    seats += [{role} for role in policy.all_of]
    return _fill(seats, people)


def unmet(policy: GatePolicy, holders: dict[str, tuple[str, ...]]) -> str:
    """Why no set of distinct people among `holders` (person: roles) can ever pass the policy ("" if some can):
    the policy's seats against the people who could fill them, one seat each."""
    everyone = [Approval(principal=person, roles=roles, capacity="role") for person, roles in holders.items()]
    if passes(policy, everyone):
        return ""
    if policy.roles:
        able = sorted(p for p, roles in holders.items() if set(roles) & set(policy.roles))
        if len(able) < policy.quorum:
            return (
                f"a quorum of {policy.quorum} of {'|'.join(policy.roles)} needs {policy.quorum} different people, "
                f"found {len(able)} who hold those roles ({', '.join(able) or 'nobody'})"
            )
    for role in dict.fromkeys(policy.all_of):
        needed = policy.all_of.count(role)
        able = sorted(p for p, roles in holders.items() if role in roles)
        if len(able) < needed:
            return f"all_of names {role} {needed} times, found {len(able)} people who hold it ({', '.join(able)})"
    seats = (policy.quorum if policy.roles else 0) + len(policy.all_of)
    return f"its {seats} seats need {seats} different people, each holding a seat's role; the registry has too few"


def _fill(seats: list[set[str]], people: dict[str, set[str]]) -> bool:
    """Bipartite matching of seats to distinct people (augmenting paths; both sides are small)."""
    holder: dict[str, int] = {}

    def place(seat: int, tried: set[str]) -> bool:
        for person, roles in people.items():
            if person in tried or not roles & seats[seat]:
                continue
            tried.add(person)
            if person not in holder or place(holder[person], tried):
                holder[person] = seat
                return True
        return False

    return all(place(seat, set()) for seat in range(len(seats)))
