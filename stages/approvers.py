"""The people registry as a typed model: people, their duties and gate roles, signing keys, passkeys and
delegations. The file is still called approvers.yaml and lists everyone under `approvers:`."""

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field

from musharaka.stages.checks import _duplicates
from musharaka.stages.plans import Bilingual, Id, Loc, Strict, Text

PUBLIC_KEY = r"^ed25519:[A-Za-z0-9+/]{43}=$"


B64URL = r"^[A-Za-z0-9_-]+$"
Duty = Literal["planner", "approver", "auditor", "administrator"]
DUTIES: tuple[Duty, ...] = ("planner", "approver", "auditor", "administrator")
# who may withdraw an ingested batch: the planning department's team, who collect and ingest the contributions
# (the approvers then review the corrected count at the conduct gate)
WITHDRAWS: Duty = "planner"


class Validity(Strict):
    """A credential is valid from a time until it expires or is revoked."""

    id: Id
    valid_from: AwareDatetime
    valid_until: AwareDatetime | None = None
    revoked_at: AwareDatetime | None = None

    def in_force(self, moment: datetime) -> bool:
        """Whether the credential may sign at `moment`."""
        ends = [t for t in (self.valid_until, self.revoked_at) if t is not None]
        return self.valid_from <= moment and all(moment < t for t in ends)


class PublicKey(Validity):
    """One of an approver's Ed25519 signing keys (a key file, for signing on the command line)."""

    public: str = Field(pattern=PUBLIC_KEY, description="ed25519: and the raw key in base64")


class Passkey(Validity):
    """A passkey (WebAuthn credential) a person enrolled in the browser; it signs in and signs decisions.

    `rp_id` and `origin` are the site it was made for: its signatures are checked against them offline.
    """

    credential_id: str = Field(pattern=B64URL, description="the credential id, unpadded base64url")
    public_key: str = Field(pattern=B64URL, description="the COSE public key, unpadded base64url")
    algorithm: Literal["ES256", "RS256", "EdDSA"]
    rp_id: str
    origin: str


class Approver(Strict):
    """A person: what they do (duties), the gate roles they hold as an approver, and how they sign."""

    id: Id
    name: Bilingual
    duties: tuple[Duty, ...] = ("approver",)
    roles: tuple[Id, ...] = ()
    keys: tuple[PublicKey, ...] = ()
    passkeys: tuple[Passkey, ...] = ()

    def passkey(self, credential_id: str) -> Passkey | None:
        return next((p for p in self.passkeys if p.credential_id == credential_id), None)


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


class Administration(Strict):
    """Who governs the registry itself: the people with the administrator duty, `threshold` of whom must sign
    a new version of the file before it takes effect (the way TUF rotates its root metadata)."""

    threshold: int = Field(default=1, ge=1, description="how many administrators must sign a new version")


class ApproversRegistry(Strict):
    approvers: tuple[Approver, ...] = Field(min_length=1)
    delegations: tuple[Delegation, ...] = ()
    administrators: Administration = Administration()

    def get(self, approver_id: str) -> Approver | None:
        return next((a for a in self.approvers if a.id == approver_id), None)

    def administrator_ids(self) -> list[str]:
        """The people who may sign the registry's next version."""
        return [a.id for a in self.approvers if "administrator" in a.duties]


def registry_problems(registry: ApproversRegistry) -> list[tuple[Loc, str]]:
    """Unique approver and key ids; keys that end after they start; delegations between known people."""
    problems = _duplicates(registry.approvers, ("approvers",))
    seen_keys: set[str] = set()
    seen_credentials: set[str] = set()
    for i, approver in enumerate(registry.approvers):
        if "approver" in approver.duties and not approver.roles:
            problems.append((("approvers", i, "roles"), "expected at least one gate role for an approver"))
        for k, passkey in enumerate(approver.passkeys):
            if passkey.credential_id in seen_credentials:
                problems.append(
                    (("approvers", i, "passkeys", k, "credential_id"), "expected a credential enrolled once")
                )
            seen_credentials.add(passkey.credential_id)
        credentials: list[tuple[str, Validity]] = [("keys", key) for key in approver.keys]
        credentials += [("passkeys", passkey) for passkey in approver.passkeys]
        for k, (kind, key) in enumerate(credentials):
            loc: Loc = ("approvers", i, kind, k if kind == "keys" else k - len(approver.keys))
            if key.id in seen_keys:
                problems.append(((*loc, "id"), f"expected a unique key id, found {key.id!r} again"))
            seen_keys.add(key.id)
            for end in ("valid_until", "revoked_at"):
                moment = getattr(key, end)
                if moment is not None and moment <= key.valid_from:
                    problems.append(((*loc, end), f"expected a time after valid_from {key.valid_from}, found {moment}"))
    administrators = registry.administrator_ids()
    if registry.administrators.threshold > len(administrators):
        problems.append(
            (
                ("administrators", "threshold"),
                f"expected at most the {len(administrators)} people with the administrator duty, "
                f"found {registry.administrators.threshold}",
            )
        )
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
