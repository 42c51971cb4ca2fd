"""The approvers registry as a typed model: people, their roles, signing keys and delegations."""

from datetime import datetime

from pydantic import AwareDatetime, Field

from musharaka.stages.checks import _duplicates
from musharaka.stages.plans import Bilingual, Id, Loc, Strict, Text

PUBLIC_KEY = r"^ed25519:[A-Za-z0-9+/]{43}=$"


class PublicKey(Strict):
    """One of an approver's signing keys, valid from a time until it expires or is revoked."""

    id: Id
    public: str = Field(pattern=PUBLIC_KEY, description="ed25519: and the raw key in base64")
    valid_from: AwareDatetime
    valid_until: AwareDatetime | None = None
    revoked_at: AwareDatetime | None = None

    def in_force(self, moment: datetime) -> bool:
        """Whether the key may sign at `moment`."""
        ends = [t for t in (self.valid_until, self.revoked_at) if t is not None]
        return self.valid_from <= moment and all(moment < t for t in ends)


class Approver(Strict):
    id: Id
    name: Bilingual
    roles: tuple[Id, ...] = Field(min_length=1)
    keys: tuple[PublicKey, ...] = ()


class Delegation(Strict):
    """An approver's authority lent to another for a time (leave, travel); recorded with the registry."""

    delegator: Id
    delegate: Id
    starts: AwareDatetime
    ends: AwareDatetime
    roles: tuple[Id, ...] = Field(default=(), description="which of the delegator's roles; all if empty")
    reason: Text

    def in_force(self, moment: datetime) -> bool:
        return self.starts <= moment < self.ends


class ApproversRegistry(Strict):
    approvers: tuple[Approver, ...] = Field(min_length=1)
    delegations: tuple[Delegation, ...] = ()

    def get(self, approver_id: str) -> Approver | None:
        return next((a for a in self.approvers if a.id == approver_id), None)


def registry_problems(registry: ApproversRegistry) -> list[tuple[Loc, str]]:
    """Unique approver and key ids; keys that end after they start; delegations between known people."""
    problems = _duplicates(registry.approvers, ("approvers",))
    seen_keys: set[str] = set()
    for i, approver in enumerate(registry.approvers):
        for k, key in enumerate(approver.keys):
            loc: Loc = ("approvers", i, "keys", k)
            if key.id in seen_keys:
                problems.append(((*loc, "id"), f"expected a unique key id, found {key.id!r} again"))
            seen_keys.add(key.id)
            for end in ("valid_until", "revoked_at"):
                moment = getattr(key, end)
                if moment is not None and moment <= key.valid_from:
                    problems.append(((*loc, end), f"expected a time after valid_from {key.valid_from}, found {moment}"))
    people = {a.id: a for a in registry.approvers}
    for i, delegation in enumerate(registry.delegations):
        loc = ("delegations", i)
        for party in ("delegator", "delegate"):
            if getattr(delegation, party) not in people:
                problems.append(((*loc, party), f"expected an approver id, found {getattr(delegation, party)!r}"))
        if delegation.delegator == delegation.delegate:
            problems.append(((*loc, "delegate"), "expected someone other than the delegator"))
        if delegation.ends <= delegation.starts:
            problems.append(
                ((*loc, "ends"), f"expected a time after starts {delegation.starts}, found {delegation.ends}")
            )
        delegator = people.get(delegation.delegator)
        lent = set(delegation.roles) - set(delegator.roles if delegator else ())
        if delegator and lent:
            problems.append(((*loc, "roles"), f"expected roles {delegation.delegator} holds, found {sorted(lent)}"))
    return problems
