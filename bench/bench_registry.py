"""Walking the registry chain from its pinned root: what each decision pays before the engine records it.

    .venv/bin/python bench/bench_registry.py

A synthetic `_registry` chain: VERSIONS versions of a registry of PEOPLE people with one key each, three
administrators, threshold 2, each version signed by two of them. It times `state.governance.walk` (best of
five) against a baseline of decoding the chain's payloads once (`json.loads`, what any reader of the chain pays).
"""

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from musharaka.stages.approvers import ApproversRegistry
from musharaka.state.events import EventRow, RegistryRecorded, canonical, digest
from musharaka.state.governance import RegistrySignature, file_digest, walk
from musharaka.state.signing import public_text, sign

ADMINISTRATORS = [Ed25519PrivateKey.generate() for _ in range(3)]
VALID_FROM = "2025-01-01T00:00:00+04:00"


def registry(people: int, version: int) -> ApproversRegistry:
    """A registry of `people` approvers, each with a key of this version, and the three administrators."""
    entries: list[dict[str, Any]] = [
        {
            "id": f"p{i}",
            "name": {"ar": "موظف", "en": f"Person {i}"},
            "roles": ["director"],
            "keys": [
                {
                    "id": f"p{i}-{version}",
                    "public": public_text(Ed25519PrivateKey.generate().public_key()),
                    "valid_from": VALID_FROM,
                }
            ],
        }
        for i in range(people)
    ]
    entries += [
        {
            "id": f"admin{j}",
            "name": {"ar": "مسؤول", "en": f"Administrator {j}"},
            "duties": ["administrator"],
            "keys": [{"id": f"admin{j}-1", "public": public_text(key.public_key()), "valid_from": VALID_FROM}],
        }
        for j, key in enumerate(ADMINISTRATORS)
    ]
    return ApproversRegistry.model_validate({"approvers": entries, "administrators": {"threshold": 2}})


def chain(versions: int, people: int) -> list[EventRow]:
    rows = []
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for v in range(versions):
        current = registry(people, v)
        body = current.model_dump(mode="json")
        signed = file_digest(current)
        signatures = [
            sign(RegistrySignature(registry_digest=signed, person=f"admin{j}", public_key=""), key).model_dump(
                mode="json"
            )
            for j, key in enumerate(ADMINISTRATORS[:2])
        ]
        payload = RegistryRecorded(registry=body, registry_digest=digest(body), signatures=signatures)
        text = canonical(payload.model_dump(mode="json"))
        rows.append(EventRow("_registry", v + 1, start + timedelta(days=v), "engine", payload.TYPE, text, "", ""))
    return rows


def best(run: Callable[[], object]) -> float:
    times = []
    for _ in range(5):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return min(times)


def timings(rows: list[EventRow]) -> tuple[float, float]:
    """The baseline, and the walk."""
    return best(lambda: [json.loads(r.payload) for r in rows]), best(lambda: walk(rows, None))


def main() -> None:
    print("| versions × people | baseline: decode the payloads (ms) | walk from the root (ms) | ratio |")
    print("|---|---:|---:|---:|")
    for versions, people in ((10, 60), (50, 60), (50, 300)):
        rows = chain(versions, people)
        _, broken = walk(rows, None)
        assert broken is None, broken
        baseline, walked = timings(rows)
        print(f"| {versions} × {people} | {baseline * 1000:.1f} | {walked * 1000:.0f} | {walked / baseline:.0f}x |")


if __name__ == "__main__":
    main()
