"""People and their passkeys: one-time invitations, enrolment, and the registry as it is in force.

The registry file names people and their duties; the passkeys they enrol in the browser are events of
the registry's chain, so a passkey is in force from the moment it was made, before anyone edits the
file. The file stays the authority: a passkey it lists (with `revoked_at`, say) overrides the event.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from musharaka.flows.engine.records import Refused
from musharaka.stages.approvers import Approver, ApproversRegistry, Delegation, Passkey, registry_problems
from musharaka.state.events import (
    REGISTRY_CHAIN,
    DelegationRecorded,
    PasskeyEnrolled,
    PersonInvited,
    as_utc,
    payload_of,
)
from musharaka.state.log import append
from musharaka.state.passkeys import Assertion
from musharaka.state.proof import delegation_problem
from musharaka.state.tables import Event

INVITATION_LIFE = timedelta(days=1)


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def person_of(registry: ApproversRegistry, person_id: str) -> Approver:
    person = registry.get(person_id)
    if person is None:
        known = ", ".join(a.id for a in registry.approvers)
        raise Refused(
            f"{person_id!r} is not in the people registry (approvers.yaml); it names {known}", "unknown-person"
        )
    return person


def invite(registry: ApproversRegistry, person_id: str, *, actor: str, now: datetime, session: Session) -> str:
    """A one-time secret for the person's enrolment link, valid for a day; only its digest is logged."""
    person_of(registry, person_id)
    secret = secrets.token_urlsafe(32)
    invited = PersonInvited(
        person=person_id, invitation=secret_digest(secret), expires_at=as_utc(now) + INVITATION_LIFE
    )
    append(REGISTRY_CHAIN, invited, actor=actor, at=now, session=session)
    return secret


def _of_type(type_: str, *, session: Session) -> list[Event]:
    query = select(Event).where(Event.campaign_id == REGISTRY_CHAIN, Event.type == type_)
    return list(session.exec(query.order_by(col(Event.seq))))


def invitation(secret: str, *, now: datetime, session: Session) -> PersonInvited:
    """The invitation a link's secret opens, or a refusal: unknown, used, or expired."""
    wanted = secret_digest(secret)
    found = None
    for event in _of_type(PersonInvited.TYPE, session=session):
        payload = payload_of(event)
        if isinstance(payload, PersonInvited) and secrets.compare_digest(payload.invitation, wanted):
            found = payload
    if found is None:
        raise Refused("this enrolment link is not one the administrator made", "unknown-invitation")
    for event in _of_type(PasskeyEnrolled.TYPE, session=session):
        payload = payload_of(event)
        if isinstance(payload, PasskeyEnrolled) and payload.invitation == found.invitation:
            raise Refused("this enrolment link was used already: ask for a new one", "invitation-used")
    if as_utc(now) >= as_utc(found.expires_at):
        raise Refused("this enrolment link has expired (links are valid for a day): ask for a new one", "expired")
    return found


def enrol(secret: str, registry: ApproversRegistry, made: Passkey, *, now: datetime, session: Session) -> Passkey:
    """Record the passkey made with an invitation's link, as the registry's next passkey of its person.

    The invitation is checked again here, in the writing transaction: of two enrolments with one link,
    the second to write finds it used (a concurrent append is retried, and then refused).
    """
    invited = invitation(secret, now=now, session=session)
    current = in_force(registry, session=session)
    if any(p.credential_id == made.credential_id for person in current.approvers for p in person.passkeys):
        raise Refused("this passkey is enrolled already", "credential-enrolled")
    passkey = made.model_copy(update={"id": next_passkey_id(person_of(current, invited.person))})
    enrolled = PasskeyEnrolled(
        person=invited.person, invitation=invited.invitation, passkey=passkey.model_dump(mode="json")
    )
    append(REGISTRY_CHAIN, enrolled, actor=invited.person, at=now, session=session)
    return passkey


def enrolled_passkeys(*, session: Session) -> list[tuple[str, Passkey]]:
    """Every passkey enrolled in the browser, with its person, oldest first."""
    found = []
    for event in _of_type(PasskeyEnrolled.TYPE, session=session):
        payload = payload_of(event)
        if isinstance(payload, PasskeyEnrolled):
            found.append((payload.person, Passkey.model_validate(payload.passkey)))
    return found


def recorded_delegations(*, session: Session) -> list[Delegation]:
    """Every delegation an approver recorded in the service, oldest first."""
    found = []
    for event in _of_type(DelegationRecorded.TYPE, session=session):
        payload = payload_of(event)
        if isinstance(payload, DelegationRecorded):
            found.append(Delegation.model_validate(payload.delegation))
    return found


def in_force(registry: ApproversRegistry, *, session: Session) -> ApproversRegistry:
    """The registry file with the passkeys enrolled and the delegations recorded in the service since;
    the file's own entry for a credential wins."""
    enrolled = enrolled_passkeys(session=session)
    delegations = recorded_delegations(session=session)
    if not enrolled and not delegations:
        return registry
    people = []
    for person in registry.approvers:
        listed = {p.credential_id for p in person.passkeys}
        added = tuple(p for who, p in enrolled if who == person.id and p.credential_id not in listed)
        people.append(person.model_copy(update={"passkeys": person.passkeys + added}) if added else person)
    known = {a.id for a in registry.approvers}
    in_file = {(d.delegator, d.delegate, d.starts) for d in registry.delegations}  # the file's entry wins
    lent = tuple(
        d
        for d in delegations
        if (d.delegator, d.delegate, d.starts) not in in_file and {d.delegator, d.delegate} <= known
    )
    return registry.model_copy(update={"approvers": tuple(people), "delegations": registry.delegations + lent})


MAX_DELEGATION = timedelta(days=90)


def delegate(
    registry: ApproversRegistry, delegation: Delegation, assertion: Assertion, *, now: datetime, session: Session
) -> None:
    """Record a delegation its delegator signed with their passkey, within the registry's rules (approvers
    both, another person, roles the delegator holds) and in time (from today, for at most 90 days).
    Refused with the first problem otherwise."""
    current = in_force(registry, session=session)
    trial = current.model_copy(update={"delegations": (delegation,)})
    problems = [message for loc, message in registry_problems(trial) if loc[0] == "delegations"]
    delegate_person = current.get(delegation.delegate)
    if delegate_person is None or "approver" not in delegate_person.duties:
        problems.append(f"expected an approver to delegate to, found {delegation.delegate!r}")
    if delegation.starts < as_utc(now) - timedelta(days=1) or delegation.ends <= as_utc(now):
        problems.append("expected a delegation from today on, not one in the past")
    if delegation.ends - delegation.starts > MAX_DELEGATION:
        problems.append(f"expected a delegation of at most {MAX_DELEGATION.days} days")
    if problems:
        raise Refused(f"delegation: {problems[0]}", "bad-delegation")
    delegator = person_of(current, delegation.delegator)
    passkey = delegator.passkey(assertion.credential_id)
    in_time = passkey if passkey is not None and passkey.in_force(now) else None
    problem = delegation_problem(delegation, assertion, in_time)
    if problem:
        raise Refused(f"the delegation's signature does not hold: {problem}", "bad-signature")
    recorded = DelegationRecorded(delegation=delegation.model_dump(mode="json"), assertion=assertion.model_dump())
    append(REGISTRY_CHAIN, recorded, actor=delegation.delegator, at=now, session=session)


def next_passkey_id(person: Approver) -> str:
    """`<person>-passkey-<n>`: the id the registry file gives the person's next passkey."""
    taken = {p.id for p in person.passkeys}
    n = len(person.passkeys) + 1
    while f"{person.id}-passkey-{n}" in taken:
        n += 1
    return f"{person.id}-passkey-{n}"
