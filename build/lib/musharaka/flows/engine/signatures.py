"""Whether a signed decision holds: the approver's key in force at both times, over exactly this message."""

from datetime import datetime, timedelta

from musharaka.flows.engine.records import Refused
from musharaka.stages.approvers import ApproversRegistry
from musharaka.state.signing import SignedDecision, fingerprint

SKEW = timedelta(minutes=5)  # clocks of signing machines may run this far ahead of the engine's


def verify_signature(signed: SignedDecision, registry: ApproversRegistry, now: datetime) -> None:
    """The signature is by a key of the named approver that is in force, over exactly this message."""
    approver = registry.get(signed.approver)
    if approver is None:
        raise Refused(f"{signed.approver!r} is not in the approvers registry", "unknown-approver")
    key = next((k for k in approver.keys if k.public == signed.public_key), None)
    if key is None:
        raise Refused(
            f"the signing key {fingerprint(signed.public_key)} is not one of {signed.approver}'s keys "
            "in the approvers registry",
            "unknown-key",
        )
    for moment, what in ((signed.signed_at, "signing"), (now, "recording")):
        if not key.in_force(moment):
            raise Refused(
                f"key {key.id} of {signed.approver} is not in force at the {what} time "
                f"{moment.isoformat()} (valid from {key.valid_from.isoformat()}"
                + (f", until {key.valid_until.isoformat()}" if key.valid_until else "")
                + (f", revoked at {key.revoked_at.isoformat()}" if key.revoked_at else "")
                + ")",
                "key-not-in-force",
            )
    if signed.signed_at > now + SKEW:
        raise Refused(f"the signature is dated in the future ({signed.signed_at.isoformat()})", "bad-time")
    if not signed.verifies():
        raise Refused(
            f"the signature does not verify with {signed.approver}'s key {key.id}: the message was altered "
            "or signed with another key",
            "bad-signature",
        )
