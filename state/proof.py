"""Which credential signed a decision, and whether its signature holds: an Ed25519 key file's, or a
passkey's WebAuthn assertion. The engine refuses and the auditor reports with the same answer."""

from datetime import datetime, timedelta

from musharaka.stages.approvers import WITHDRAWS, ApproversRegistry, Delegation, Passkey, PublicKey
from musharaka.state.events import canonical
from musharaka.state.passkeys import Assertion, PasskeyError, from_b64url, verify
from musharaka.state.signing import PASSKEY, SignedDecision, SignedWithdrawal, fingerprint

Credential = PublicKey | Passkey
# clocks of signing machines may run this far ahead of or behind the engine's: a signing time is believed
# from its gate's opening minus SKEW to its recording plus SKEW, never outside
SKEW = timedelta(minutes=5)
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


def time_problem(signed_at: datetime, *, opened: datetime, opening: str, recorded: datetime) -> str | None:
    """Why a signing time cannot be true: before what it decides was there to sign (`opening`, at `opened`) or
    after the engine recorded it, each beyond SKEW; None when it fits.

    Both bounds are the engine's own times (the log's), so no time a signer or a caller chose decides it."""
    if signed_at < opened - SKEW:
        return (
            f"it is dated {signed_at.isoformat()}, before {opening} at {opened.isoformat()} "
            f"(a signing time is believed from then, less {_minutes(SKEW)} of clock skew)"
        )
    if signed_at > recorded + SKEW:
        return (
            f"it is dated {signed_at.isoformat()}, after it was recorded at {recorded.isoformat()} "
            f"(a signing time is believed up to then, plus {_minutes(SKEW)} of clock skew)"
        )
    return None


def _minutes(span: timedelta) -> str:
    return f"{int(span.total_seconds() // 60)} minutes"


def withdrawal_problem(
    signed: SignedWithdrawal, registry: ApproversRegistry, at: datetime, ingested_at: datetime | None = None
) -> tuple[str, str] | None:
    """Why a signed withdrawal recorded at `at` does not hold, as (refusal code, what is wrong); None when it
    is signed by a key of the person in force then and between the batch's ingestion (`ingested_at`, when
    known) and `at`, and the person has the duty to withdraw."""
    person = registry.get(signed.person)
    if person is None:
        return "unknown-approver", f"{signed.person!r} is not in the people registry"
    key = next((k for k in person.keys if k.public == signed.public_key), None)
    if key is None:
        return "unknown-key", f"key {fingerprint(signed.public_key)} is not one of {signed.person}'s keys"
    for moment, what in ((signed.signed_at, "signing"), (at, "recording")):
        if not key.in_force(moment):
            return "key-not-in-force", f"key {key.id} of {signed.person} is not in force at the {what} time {moment}"
    opened = ingested_at if ingested_at is not None else signed.signed_at
    problem = time_problem(signed.signed_at, opened=opened, opening=f"batch {signed.batch} was ingested", recorded=at)
    if problem:
        return "bad-time", f"the withdrawal's signing time is impossible: {problem}"
    if not signed.verifies():
        return (
            "bad-signature",
            f"the signature of {signed.person} does not verify: the withdrawal was altered or signed with another key",
        )
    if WITHDRAWS not in person.duties:
        return (
            "not-a-planner",
            f"{signed.person} does not hold the {WITHDRAWS} duty in the registry, which withdrawing a batch takes "
            f"(their duties: {', '.join(person.duties)})",
        )
    return None
