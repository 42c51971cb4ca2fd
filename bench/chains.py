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


# The events of a synthetic campaign, as the engine records them; the benchmarks assemble them into chains.


def campaign_started(campaign: str, plan: dict[str, Any]) -> Item:
    return ("planning.team", "campaign.started", {"plan": {**plan, "id": campaign}, "plan_digest": "p" * 64})


def stage_run(stage: str, outputs: dict[str, Any], policy: dict[str, Any], due_at: str) -> list[Item]:
    """A stage's first attempt, started and completed with `outputs`, and its gate opened under `policy`."""
    from musharaka.state.events import digest

    return [
        (
            "planning.team",
            "stage.started",
            {"stage": stage, "attempt": 1, "submitter": "planning.team", "plan_digest": "p" * 64},
        ),
        (
            "planning.team",
            "stage.completed",
            {"stage": stage, "attempt": 1, "outputs": outputs, "outputs_digest": digest(outputs), "documents": []},
        ),
        (
            "engine",
            "gate.opened",
            {
                "stage": stage,
                "attempt": 1,
                "policy": policy,
                "due_at": due_at,
                "submitter": "planning.team",
                "outputs_digest": digest(outputs),
            },
        ),
    ]


def approved(stage: str, signed: dict[str, Any], registry_digest: str) -> Item:
    """dg.planning's approval of the stage's gate, `signed` the signed decision's JSON."""
    return (
        "dg.planning",
        "gate.decided",
        {
            "stage": stage,
            "attempt": 1,
            "approver": "dg.planning",
            "decision": "approve",
            "text": "ok",
            "principal": "dg.planning",
            "capacity": "role",
            "roles": ["dg-planning"],
            "signed": signed,
            "registry_digest": registry_digest,
        },
    )


def decision(number: int) -> dict[str, Any]:
    """Campaign `number`'s decision: one in four not based on the contributions."""
    return {
        "summary": {"ar": "قرار", "en": "A decision"},
        "rationale": {"ar": "مبررات", "en": "Reasons"},
        "not_adopted": {"ar": "لا", "en": "Not all"},
        "based_on_contributions": number % 4 != 0,
        "impact": [],
        "expected_impact": None,
    }


def follow_ups(number: int) -> list[Item]:
    """The decision's follow-up updates: two in every campaign, and implemented in two of every three."""
    updates = [("planned", 0, "handed over"), ("in-progress", 50, "half done")]
    if number % 3:
        updates.append(("implemented", 100, "done"))
    return [
        ("planning.team", "decision.updated", {"status": status, "percent": percent, "note": note, "evidence": None})
        for status, percent, note in updates
    ]
