"""Synthetic event logs for the benchmarks: rows of the event table, hashed and linked as `append` would."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from musharaka.state.events import GENESIS, canonical, event_hash

Item = tuple[str, str, dict[str, Any]]  # actor, event type, payload


def add_chain(rows: list[dict[str, Any]], campaign: str, items: list[Item], at: Callable[[int], datetime]) -> None:
    """Append one campaign's chain to `rows`; `at(n)` dates the event written as row number n."""
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
            }
        )
        prev = own
