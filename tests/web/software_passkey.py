"""A passkey held in software, answering WebAuthn requests as a device would (ES256), for tests and
benchmarks that talk to the service over HTTP without a browser.

It is enrolled through the engine's invitation and enrolment (what the browser's enrolment ends in),
and signs the service's challenges: authenticatorData (the site's hash, user present and verified, a
counter) and the browser's clientDataJSON, signed together, as WebAuthn specifies.
"""

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from musharaka.flows.engine import people, records
from musharaka.stages.approvers import Passkey
from musharaka.state.db import transaction
from musharaka.state.passkeys import b64url


@dataclass
class SoftwarePasskey:
    person: str
    rp_id: str
    origin: str
    credential_id: str = field(
        default_factory=lambda: b64url(hashlib.sha256(datetime.now().isoformat().encode()).digest())
    )
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    count: int = 0

    def cose(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return bytes(
            cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})
        )

    def enrol(self, now: datetime) -> None:
        """Invited by an administrator and enrolled, as the browser's enrolment records it."""
        plans = records.load_plan_set()
        assert plans.registry is not None
        registry = plans.registry
        secret = transaction(lambda s: people.invite(registry, self.person, actor="administrator", now=now, session=s))
        passkey = Passkey(
            id="placeholder",  # the engine gives the registry's next id
            credential_id=self.credential_id,
            public_key=b64url(self.cose()),
            algorithm="ES256",
            rp_id=self.rp_id,
            origin=self.origin,
            valid_from=now.replace(microsecond=0),
        )
        transaction(lambda s: people.enrol(secret, registry, passkey, now=now, session=s))

    def get(self, options: dict[str, Any]) -> dict[str, Any]:
        """The credential's answer to `navigator.credentials.get` with these request options, as JSON."""
        request = options["get"]
        allowed = [c["id"] for c in request.get("allowCredentials", [])]
        assert not allowed or self.credential_id in allowed, "the service did not ask for this passkey"
        self.count += 1
        data = hashlib.sha256(self.rp_id.encode()).digest() + bytes([0x05]) + self.count.to_bytes(4, "big")
        client = json.dumps(
            {"type": "webauthn.get", "challenge": request["challenge"], "origin": self.origin, "crossOrigin": False}
        ).encode()
        signature = self.key.sign(data + hashlib.sha256(client).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": self.credential_id,
            "rawId": self.credential_id,
            "type": "public-key",
            "response": {
                "authenticatorData": b64url(data),
                "clientDataJSON": b64url(client),
                "signature": b64url(signature),
            },
            "clientExtensionResults": {},
        }


def unpadded(standard: str) -> str:
    return b64url(base64.b64decode(standard))
