"""The people registry in force: the file, with the passkeys enrolled and the delegations signed in the
service since (events of the registry's chain). The file stays the authority: its own entry for a
passkey or a delegation (with `revoked_at`, or another end) wins over the event's."""

from sqlmodel import Session, col, select

from musharaka.stages.approvers import ApproversRegistry, Delegation, Passkey
from musharaka.state.events import REGISTRY_CHAIN, DelegationRecorded, PasskeyEnrolled, payload_of
from musharaka.state.tables import Event


def of_type(type_: str, *, session: Session) -> list[Event]:
    query = select(Event).where(Event.campaign_id == REGISTRY_CHAIN, Event.type == type_)
    return list(session.exec(query.order_by(col(Event.seq))))


def enrolled_passkeys(*, session: Session) -> list[tuple[str, Passkey]]:
    """Every passkey enrolled in the browser, with its person, oldest first."""
    found = []
    for event in of_type(PasskeyEnrolled.TYPE, session=session):
        payload = payload_of(event)
        if isinstance(payload, PasskeyEnrolled):
            found.append((payload.person, Passkey.model_validate(payload.passkey)))
    return found


def recorded_delegations(*, session: Session) -> list[Delegation]:
    """Every delegation an approver recorded in the service, oldest first."""
    found = []
    for event in of_type(DelegationRecorded.TYPE, session=session):
        payload = payload_of(event)
        if isinstance(payload, DelegationRecorded):
            found.append(Delegation.model_validate(payload.delegation))
    return found


def in_force(registry: ApproversRegistry, *, session: Session) -> ApproversRegistry:
    """The registry file with the passkeys enrolled and the delegations recorded in the service since;
    the file's own entry for a credential wins."""
    return merged(registry, enrolled_passkeys(session=session), recorded_delegations(session=session))


def merged(
    registry: ApproversRegistry, enrolled: list[tuple[str, Passkey]], delegations: list[Delegation]
) -> ApproversRegistry:
    """`in_force` from what the registry chain holds: an auditor recomputes a recorded version with it."""
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


def in_force_if_any(registry: ApproversRegistry | None, *, session: Session) -> ApproversRegistry | None:
    """`in_force`, for a plan set that may have no registry file."""
    return None if registry is None else in_force(registry, session=session)
