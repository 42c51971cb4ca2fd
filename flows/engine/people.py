"""People and their passkeys: one-time invitations, enrolment, and delegations signed in the service.

The registry file names people and their duties; the passkeys they enrol in the browser and the
delegations they sign are events of the registry's chain, in force from the moment they are made,
before anyone edits the file (`state.registry.in_force`).
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session

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
from musharaka.state.registry import in_force, of_type

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


def invitation(secret: str, *, now: datetime, session: Session) -> PersonInvited:
    """The invitation a link's secret opens, or a refusal: unknown, used, or expired."""
    wanted = secret_digest(secret)
    found = None
    for event in of_type(PersonInvited.TYPE, session=session):
        payload = payload_of(event)
        if isinstance(payload, PersonInvited) and secrets.compare_digest(payload.invitation, wanted):
            found = payload
    if found is None:
        raise Refused("this enrolment link is not one the administrator made", "unknown-invitation")
    for event in of_type(PasskeyEnrolled.TYPE, session=session):
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
