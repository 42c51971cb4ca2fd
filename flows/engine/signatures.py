"""Whether a signed decision holds: the approver's key or passkey in force at both times, over exactly
this message."""

from datetime import datetime

from musharaka.flows.engine.records import Refused
from musharaka.stages.approvers import ApproversRegistry
from musharaka.state.proof import PASSKEY_LIFE, SKEW, credential_name, signature_problem, signing_credential
from musharaka.state.signing import SignedDecision

__all__ = ["SKEW", "verify_signature"]


def verify_signature(signed: SignedDecision, registry: ApproversRegistry, now: datetime) -> None:
    """The signature is by a key or passkey of the named approver that is in force, over exactly this message."""
    approver = registry.get(signed.approver)
    if approver is None:
        raise Refused(f"{signed.approver!r} is not in the approvers registry", "unknown-approver")
    key = signing_credential(signed, registry)
    if key is None:
        raise Refused(
            f"the signing {credential_name(signed)} is not one of {signed.approver}'s keys in the approvers registry",
            "unknown-key",
        )
    for moment, what in ((signed.signed_at, "signing"), (now, "recording")):
        if not key.in_force(moment):
            raise Refused(
                f"{credential_name(signed)} ({key.id}) of {signed.approver} is not in force at the {what} time "
                f"{moment.isoformat()} (valid from {key.valid_from.isoformat()}"
                + (f", until {key.valid_until.isoformat()}" if key.valid_until else "")
                + (f", revoked at {key.revoked_at.isoformat()}" if key.revoked_at else "")
                + ")",
                "key-not-in-force",
            )
    if signed.signed_at > now + SKEW:
        raise Refused(f"the signature is dated in the future ({signed.signed_at.isoformat()})", "bad-time")
    if signed.assertion is not None and now - signed.signed_at > PASSKEY_LIFE:
        raise Refused(
            f"the passkey signed this at {signed.signed_at.isoformat()}, more than {PASSKEY_LIFE} ago "
            "(a replayed signature): decide again",
            "replayed",
        )
    problem = signature_problem(signed, key)
    if problem:
        raise Refused(
            f"the signature does not verify with {signed.approver}'s key {key.id}: {problem}", "bad-signature"
        )
