"""Which credential signed a decision, and whether its signature holds: an Ed25519 key file's, or a
passkey's WebAuthn assertion. The engine refuses and the auditor reports with the same answer."""

from datetime import timedelta

from musharaka.stages.approvers import ApproversRegistry, Delegation, Passkey, PublicKey
from musharaka.state.events import canonical
from musharaka.state.passkeys import Assertion, PasskeyError, from_b64url, verify
from musharaka.state.signing import PASSKEY, SignedDecision, fingerprint

Credential = PublicKey | Passkey
SKEW = timedelta(minutes=5)  # clocks of signing machines may run this far ahead of the engine's
PASSKEY_LIFE = timedelta(minutes=10)  # a passkey signs in the service, at once: an older one is a replay


def signing_credential(signed: SignedDecision, registry: ApproversRegistry) -> Credential | None:
    """The registry's credential of the named approver that the decision says signed it, if there is one."""
    approver = registry.get(signed.approver)
    if approver is None:
        return None
    if signed.assertion is not None:
        return approver.passkey(signed.assertion.credential_id) if signed.public_key == PASSKEY else None
    return next((k for k in approver.keys if k.public == signed.public_key), None)


def signature_problem(signed: SignedDecision, credential: Credential) -> str | None:
    """Why the signature is not `credential`'s over exactly this decision; None when it holds."""
    if isinstance(credential, PublicKey):
        return None if signed.verifies() else "the message was altered or signed with another key"
    if signed.assertion is None or signed.signature:
        return "a passkey decision carries its WebAuthn assertion and no other signature"
    return passkey_problem(credential, signed.message(), signed.assertion)


def passkey_problem(passkey: Passkey, message: bytes, assertion: Assertion) -> str | None:
    """Why the assertion is not `passkey`'s signature over `message`, made where it was enrolled; None when it is."""
    try:
        verify(
            from_b64url(passkey.public_key, "the passkey's public key"),
            message,
            assertion,
            rp_id=passkey.rp_id,
            origin=passkey.origin,
        )
    except PasskeyError as error:
        return str(error)
    return None


def delegation_message(delegation: Delegation) -> bytes:
    """What a delegator's passkey signs to lend their authority: the delegation, as canonical JSON."""
    return canonical({"delegation": delegation.model_dump(mode="json")}).encode()


def delegation_problem(delegation: Delegation, assertion: Assertion, passkey: Passkey | None) -> str | None:
    """Why the assertion is not the delegator's passkey signing exactly this delegation; None when it is."""
    if passkey is None:
        return f"it is not signed with a passkey of {delegation.delegator}"
    return passkey_problem(passkey, delegation_message(delegation), assertion)


def credential_name(signed: SignedDecision) -> str:
    """How a refusal or a report names the credential: a passkey by its id, a key by its fingerprint."""
    if signed.assertion is not None:
        return f"passkey {signed.assertion.credential_id[:16]}"
    return f"key {fingerprint(signed.public_key)}"
