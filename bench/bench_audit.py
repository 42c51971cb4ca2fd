"""Verifying and replaying 100,000 events, against a bare SHA-256 loop over the same bytes, in one run.

    .venv/bin/python bench/bench_audit.py [--events 100000] [--database sqlite:///var/bench.db]

It writes a synthetic log (campaigns of 26 events each: the six stages, their gates and signed
approvals, an ingestion) with real hashes and Ed25519 signatures, every event signed by the engine's key
(var/engine-key.pem of the folder it runs in), then times:
  baseline   SHA-256 over exactly the bytes each event hash covers, in a bare loop;
  hashes and links   the chain alone: every event hash recomputed and every link checked;
  sign       what signing adds to writing: the engine's Ed25519 signature over every event's hash;
  JCS        what the canonical form adds to writing: every payload written in JCS (rfc8785), against
             Python's json.dumps of the same payloads (the form before);
  verify unsigned   the same log in the legacy form (unsigned, vouched for by a re-anchoring per chain):
             `verify` as it was before every event was signed;
  verify     `state.audit.verify` on the events, in memory (hashes, links, every signature);
  verify-db  `musharaka audit verify`'s work end to end: read the log from the database and verify;
  replay     `state.projection.rebuild`: drop the projections and replay the log into them.
Peak memory is the process's maximum resident set size.
"""

import argparse
import gc
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# bench/ and tests/ are not installed: their helpers come from the checkout this script runs in
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert
from sqlmodel import Session, select

from bench.chains import Item, add_chain, approved, campaign_started, stage_run
from musharaka.stages.plans import STAGES
from musharaka.state.audit import verify, verify_database
from musharaka.state.db import get_engine, reset_tables
from musharaka.state.events import (
    REGISTRY_CHAIN,
    LogReanchored,
    canonical,
    chain_problems,
    digest,
    envelope,
    event_hash,
    legacy_canonical,
    legacy_event_hash,
)
from musharaka.state.projection import rebuild
from musharaka.state.seal import current_engine_key, engine_fingerprint, hash_signed, sign_hash
from musharaka.state.settings import get_settings
from musharaka.state.signing import SignedDecision, new_key_pair, public_text, sign
from musharaka.state.tables import Event
from tests.stages.plans_fixture import SATISFACTION

T0 = datetime(2025, 1, 1, 8, tzinfo=UTC)


def synthetic_log(total: int, engine: Ed25519PrivateKey) -> list[dict[str, Any]]:
    """Rows for the event table, signed by `engine`: one registry version, then campaigns until `total` events."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    pem, public = new_key_pair(None)
    key = load_pem_private_key(pem, password=None)
    registry = {
        "approvers": [
            {
                "id": "dg.planning",
                "name": {"ar": "م", "en": "DG"},
                "roles": ["dg-planning"],
                "keys": [
                    {
                        "id": "k1",
                        "public": public,
                        "valid_from": "2024-01-01T00:00:00Z",
                        "valid_until": None,
                        "revoked_at": None,
                    }
                ],
            },
            {"id": "planning.team", "name": {"ar": "ف", "en": "Team"}, "roles": ["campaign-team"], "keys": []},
        ],
        "delegations": [],
    }
    registry_digest = digest(registry)
    rows: list[dict[str, Any]] = []

    def chain(campaign: str, items: list[Item]) -> None:
        add_chain(rows, campaign, items, lambda n: T0 + timedelta(minutes=n), engine)

    chain(REGISTRY_CHAIN, [("engine", "registry.recorded", {"registry": registry, "registry_digest": registry_digest})])
    plan = SATISFACTION.model_dump(mode="json")
    policy = SATISFACTION.gates.default.model_dump(mode="json")
    outputs = {"note": "x" * 600, "counts": {str(i): i for i in range(40)}}
    number = 0
    while len(rows) < total:
        number += 1
        campaign = f"bench-{number:06d}"
        items = [campaign_started(campaign, plan)]
        for stage in STAGES:
            signed = sign(
                SignedDecision(
                    campaign=campaign,
                    stage=stage,
                    attempt=1,
                    decision="approve",
                    text="ok",
                    outputs_digest=digest(outputs),
                    signed_at=T0,  # set below, once the event's time is known
                    approver="dg.planning",
                    public_key="",
                ),
                key,  # type: ignore[arg-type]
            )
            items += [
                *stage_run(stage, outputs, policy, "2025-02-01T00:00:00Z"),
                approved(stage, signed.model_dump(mode="json"), registry_digest),
            ]
        items.insert(
            10,
            (
                "planning.team",
                "contributions.ingested",
                {
                    "file_name": "c.csv",
                    "rows_read": 0,
                    "rows_stored": 0,
                    "duplicates": 0,
                    "digest": "d" * 64,
                    "rows_digest": hashlib.sha256(b"").hexdigest(),
                    "source": "csv",
                    "rows_quarantined": 0,
                    "quarantine_digest": hashlib.sha256(b"").hexdigest(),
                    "columns_ignored": [],
                },
            ),
        )
        # each decision signed when it is recorded (row n is dated T0 + n minutes): after its gate opened
        for index, (_, kind, body) in enumerate(items):
            if kind == "gate.decided":
                unsigned = SignedDecision.model_validate({**body["signed"], "signature": ""})
                at = T0 + timedelta(minutes=len(rows) + index)
                body["signed"] = sign(unsigned.model_copy(update={"signed_at": at}), key).model_dump(mode="json")  # type: ignore[arg-type]
        chain(campaign, items)
    return rows[:total] if len(rows) == total else rows


def covered_bytes(event: Event) -> bytes:
    """Exactly what an event's hash covers (see state.events.event_hash)."""
    return envelope(event.campaign_id, event.seq, event.at, event.actor, event.type, event.payload, event.prev_hash)


def legacy_form(events: list[Event], engine: Ed25519PrivateKey) -> list[Event]:
    """The same log as the engine wrote it before signing: legacy hashes, no signatures, and each chain closed by
    the signed `log.reanchored` that vouches for it (what a log upgraded from then holds)."""
    public = public_text(engine.public_key())
    legacy: list[Event] = []
    chains: dict[str, list[Event]] = {}
    for event in events:
        chains.setdefault(event.campaign_id, []).append(event)
    for campaign, chain in chains.items():
        prev = "0" * 64
        for e in chain:
            own = legacy_event_hash(campaign, e.seq, e.at, e.actor, e.type, e.payload, prev)
            legacy.append(
                Event(**{**e.model_dump(), "prev_hash": prev, "hash": own, "engine_key": "", "engine_signature": ""})
            )
            prev = own
        last = chain[-1]
        body = canonical(LogReanchored(legacy_events=last.seq, legacy_head=prev).model_dump(mode="json"))
        own = event_hash(campaign, last.seq + 1, last.at, "engine", LogReanchored.TYPE, body, prev)
        legacy.append(
            Event(
                campaign_id=campaign,
                seq=last.seq + 1,
                at=last.at,
                actor="engine",
                type=LogReanchored.TYPE,
                payload=body,
                prev_hash=prev,
                hash=own,
                engine_key=public,
                engine_signature=sign_hash(engine, own),
            )
        )
    return legacy


def timed(work: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--database", default=f"sqlite:///{Path('var/bench-audit.db').resolve()}")
    # the same log in the legacy form, unsigned, for `musharaka audit verify` as it was before signing
    parser.add_argument("--legacy-database", default=f"sqlite:///{Path('var/bench-audit-legacy.db').resolve()}")
    args = parser.parse_args()
    engine = get_engine(args.database)
    reset_tables(engine)
    key = current_engine_key(get_settings().engine_key_file)  # the key `musharaka audit verify` trusts
    trusted = engine_fingerprint(public_text(key.public_key()))
    build_time, rows = timed(lambda: synthetic_log(args.events, key))
    with engine.begin() as connection:
        for start in range(0, len(rows), 10_000):
            connection.execute(insert(Event), rows[start : start + 10_000])
    with Session(engine) as session:
        events = list(session.exec(select(Event)))
    payload = [covered_bytes(e) for e in events]
    baseline, _ = timed(lambda: [hashlib.sha256(b).hexdigest() for b in payload])
    legacy = legacy_form(events, key)
    legacy_engine = get_engine(args.legacy_database)
    reset_tables(legacy_engine)
    with legacy_engine.begin() as connection:
        for start in range(0, len(legacy), 10_000):
            chunk = legacy[start : start + 10_000]
            connection.execute(insert(Event), [e.model_dump(exclude={"id"}) for e in chunk])
    gc.collect()
    gc.freeze()  # the logs held for the in-memory timings are long-lived: the collector need not walk them
    unsigned_time, findings = timed(lambda: verify(legacy, engine=trusted))
    assert findings == [], findings[:3]
    verify_time, findings = timed(lambda: verify(events, engine=trusted))
    assert findings == [], findings[:3]
    sign_time, signatures = timed(lambda: [sign_hash(key, e.hash) for e in events])
    check_time, held = timed(lambda: [hash_signed(e.engine_key, e.hash, e.engine_signature) for e in events])
    assert all(held)
    objects = [json.loads(e.payload) for e in events]
    jcs_time, _ = timed(lambda: [canonical(o) for o in objects])
    json_time, _ = timed(lambda: [legacy_canonical(o) for o in objects])
    chains: dict[str, list[Event]] = {}
    for event in events:
        chains.setdefault(event.campaign_id, []).append(event)
    chain_time, broken = timed(lambda: [p for c in chains.values() for p in chain_problems(c)])
    assert broken == []
    signed = [
        SignedDecision.model_validate(json.loads(e.payload)["signed"]) for e in events if e.type == "gate.decided"
    ]
    signature_time, valid = timed(lambda: [d.verifies() for d in signed])
    assert all(valid)

    def from_database() -> list[Any]:
        with Session(engine) as session:
            return verify_database(session, engine=trusted)[0]

    verify_db, _ = timed(from_database)

    def replay() -> int:
        with Session(engine) as session:
            count = rebuild(session=session)
            session.commit()
            return count

    replay_time, replayed = timed(replay)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    commands = [command(args.database, name) for name in (["audit", "verify"], ["state", "rebuild"])]
    legacy_command = command(args.legacy_database, ["audit", "verify"])
    print(f"events            {len(events):>10,}   (generated in {build_time:.1f} s)")
    print(f"baseline SHA-256  {baseline:>10.3f} s   1.00x")
    measured = (
        ("hashes and links", chain_time),
        ("verify", verify_time),
        ("verify from db", verify_db),
        ("replay", replay_time),
    )
    for name, seconds in measured:
        print(f"{name:<17} {seconds:>10.3f} s  {seconds / baseline:>5.2f}x")
    print(f"verify unsigned   {unsigned_time:>10.3f} s  {unsigned_time / baseline:>5.2f}x   (legacy form)")
    print(f"signed/unsigned   {verify_time / unsigned_time:>10.2f}x  verify of every event signed, against unsigned")
    print(f"sign every event  {sign_time:>10.3f} s  {sign_time / baseline:>5.2f}x   ({len(signatures):,} signatures)")
    print(f"check every seal  {check_time:>10.3f} s  {check_time / baseline:>5.2f}x")
    print(
        f"payloads in JCS   {jcs_time:>10.3f} s  {jcs_time / json_time:>5.2f}x Python's json.dumps ({json_time:.3f} s)"
    )
    print(
        f"signatures        {len(signed):>10,}   {signature_time:.3f} s, {len(signed) / signature_time:,.0f} a second"
    )
    print(f"replayed events   {replayed:>10,}")
    print(f"peak memory       {peak:>10.0f} MB   (this whole process: generated rows and all)")
    for name, seconds, megabytes in commands:
        print(f"musharaka {name:<15} {seconds:>6.3f} s  {seconds / baseline:>6.2f}x   peak {megabytes:>5.0f} MB")
    _, seconds, megabytes = legacy_command
    print(f"musharaka audit verify, unsigned (legacy form) {seconds:>6.3f} s   peak {megabytes:>5.0f} MB")
    print(f"musharaka audit verify, signed/unsigned {commands[0][1] / seconds:>6.2f}x")


def command(database: str, argv: list[str]) -> tuple[str, float, float]:
    """Run a CLI command in its own process: its wall time and its own peak resident memory.

    GNU time forks the command from a small process, so the peak is the command's alone (a child
    forked from this large process would report this process's memory as its own).
    """
    environment = {**os.environ, "MUSHARAKA_DATABASE_URL": database}
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", sys.executable, "-m", "musharaka.flows.cli", *argv],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"musharaka {' '.join(argv)} failed: {done.stderr}")
    return " ".join(argv), elapsed, int(done.stderr.strip().splitlines()[-1]) / 1024


if __name__ == "__main__":
    main()
