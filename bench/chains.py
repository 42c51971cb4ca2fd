"""Synthetic event logs for the benchmarks: rows of the event table, hashed, linked and signed as `append` would."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from musharaka.state.events import GENESIS, canonical, event_hash
from musharaka.state.seal import sign_hash
from musharaka.state.signing import public_text

Item = tuple[str, str, dict[str, Any]]  # actor, event type, payload


def add_chain(
    rows: list[dict[str, Any]],
    campaign: str,
    items: list[Item],
    at: Callable[[int], datetime],
    engine: Ed25519PrivateKey | None = None,
) -> None:
    """Append one campaign's chain to `rows`; `at(n)` dates the event written as row number n; each event is
    signed by `engine` (None: left unsigned, which `audit verify` names)."""
    public = public_text(engine.public_key()) if engine else ""
    prev = GENESIS
    for seq, (actor, kind, payload) in enumerate(items, start=1):
        moment = at(len(rows))
        body = canonical(payload)
        own = event_hash(campaign, seq, moment, actor, kind, body, prev)
        rows.append(
            {
                "campaign_id": campaign,
                "seq": seq,
                "at": moment,
                "actor": actor,
                "type": kind,
                "payload": body,
                "prev_hash": prev,
                "hash": own,
                "engine_key": public,
                "engine_signature": sign_hash(engine, own) if engine else "",
            }
        )
        prev = own
