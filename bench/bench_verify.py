"""`musharaka audit verify` against its cryptographic floor, on the same 100,000-event chain, in one run.

    .venv/bin/python bench/bench_verify.py [--events 100000] [--database sqlite:///var/bench-verify.db]

It writes the synthetic log of bench/bench_audit.py (campaigns of 26 events, every event signed by the engine's
key, an Ed25519-signed approval at each of the six gates) and times, on the events as stored:
  SHA-256     a bare loop of SHA-256 over exactly the bytes each event's hash covers;
  signatures  a bare loop verifying every signature in the log with PyNaCl (the library verify uses): each
              event's engine signature and each signed decision, keys, signatures and messages decoded first;
  floor       their sum: what no verification of every hash and signature can go below on one core;
then `musharaka audit verify` and `musharaka state rebuild` as a user runs them (a process each, start-up
included, peak memory by GNU time; on every core, as they run by default) and `audit verify --processes 1`,
in rounds: each round's ratios are to the floor measured in that round, the median is reported. Last, the
same signature loop with the `cryptography` package. The load
average is printed each round: the machine is shared.
"""

import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.signing import VerifyKey
from sqlalchemy import insert
from sqlmodel import Session

from bench.bench_audit import synthetic_log
from musharaka.state.db import get_engine, reset_tables
from musharaka.state.events import envelope, stream_events
from musharaka.state.seal import current_engine_key
from musharaka.state.settings import get_settings
from musharaka.state.signing import PREFIX, SignedDecision
from musharaka.state.tables import Event

Check = tuple[bytes, bytes, bytes]  # public key, signature, message: raw bytes


def raw_key(text: str) -> bytes:
    return base64.b64decode(text.removeprefix(PREFIX))


def checks_of(session: Session) -> tuple[list[bytes], list[Check]]:
    """Every event's covered bytes, and every signature the log holds, decoded."""
    covered: list[bytes] = []
    checks: list[Check] = []
    for e in stream_events(session):
        covered.append(envelope(e.campaign_id, e.seq, e.at, e.actor, e.type, e.payload, e.prev_hash))
        checks.append((raw_key(e.engine_key), base64.b64decode(e.engine_signature), bytes.fromhex(e.hash)))
        if e.person_signature:
            person = json.loads(e.person_signature)
            checks.append((raw_key(person["public_key"]), base64.b64decode(person["signature"]), bytes.fromhex(e.hash)))
        if e.type in {"gate.decided", "window.extended"}:
            signed = SignedDecision.model_validate(json.loads(e.payload)["signed"])
            checks.append((raw_key(signed.public_key), base64.b64decode(signed.signature), signed.message()))
    return covered, checks


def timed(work: Any) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def cpu_timed(work: Any) -> tuple[float, float]:
    """Wall time and CPU time (this process's): on a shared machine the CPU time moves less with the load."""
    start, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - start, time.process_time() - cpu


def nacl_loop(checks: list[Check]) -> None:
    keys = {key: VerifyKey(key) for key in {c[0] for c in checks}}
    for key, signature, message in checks:
        keys[key].verify(message, signature)


def cryptography_loop(checks: list[Check]) -> None:
    keys = {key: Ed25519PublicKey.from_public_bytes(key) for key in {c[0] for c in checks}}
    for key, signature, message in checks:
        keys[key].verify(signature, message)


def command(database: str, argv: list[str]) -> tuple[float, float, str, float]:
    """A CLI command in a process of its own: wall time, its own peak resident memory (MB), its output, and
    the CPU time (user and system) of it and the processes it forked."""
    environment = {**os.environ, "MUSHARAKA_DATABASE_URL": database}
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M %U %S", sys.executable, "-m", "musharaka.flows.cli", *argv],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"musharaka {' '.join(argv)} failed: {done.stderr}")
    peak, user, system = done.stderr.strip().splitlines()[-1].split()
    return elapsed, int(peak) / 1024, done.stdout.strip(), float(user) + float(system)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--database", default=f"sqlite:///{Path('var/bench-verify.db').resolve()}")
    parser.add_argument("--reuse", action="store_true", help="keep the log the last run wrote (same --events)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    engine = get_engine(args.database)
    if not args.reuse:
        reset_tables(engine)
        rows = synthetic_log(args.events, current_engine_key(get_settings().engine_key_file))
        with engine.begin() as connection:
            for start in range(0, len(rows), 10_000):
                connection.execute(insert(Event), rows[start : start + 10_000])
        del rows
    with Session(engine) as session:
        covered, checks = checks_of(session)
    engine.dispose()
    rounds = []
    for _ in range(args.rounds):  # the machine is shared: each round's ratios are to its own floor
        load = os.getloadavg()[0]
        sha, sha_cpu = cpu_timed(lambda: [hashlib.sha256(b).digest() for b in covered])
        signatures, signatures_cpu = cpu_timed(lambda: nacl_loop(checks))
        verify, verify_peak, said, verify_cpu = command(args.database, ["audit", "verify"])
        alone, alone_peak, _, alone_cpu = command(args.database, ["audit", "verify", "--processes", "1"])
        rebuild, rebuild_peak, _, rebuild_cpu = command(args.database, ["state", "rebuild"])
        floor, floor_cpu = sha + signatures, sha_cpu + signatures_cpu
        walls = (load, sha, signatures, floor, verify, alone, rebuild, verify_peak, alone_peak, rebuild_peak)
        rounds.append((*walls, floor_cpu, verify_cpu, alone_cpu, rebuild_cpu))
    slower = timed(lambda: cryptography_loop(checks))
    print(f"events {len(covered):,}, signatures {len(checks):,}, {os.cpu_count()} cores; {said}")
    print("wall time, seconds, and ratio to the round's floor")
    print("round  load   SHA-256  signatures    floor   verify          1 process       state rebuild")
    for number, r in enumerate(rounds, start=1):
        load, sha, signatures, floor, verify, alone, rebuild = r[:7]
        print(
            f"{number:>5} {load:>5.2f} {sha:>8.3f} {signatures:>10.3f} {floor:>8.3f} "
            f"{verify:>7.3f} {verify / floor:>5.2f}x {alone:>7.3f} {alone / floor:>5.2f}x "
            f"{rebuild:>7.3f} {rebuild / floor:>5.2f}x"
        )
    print("CPU time (every process of the command), seconds, and ratio to the floor's")
    for number, r in enumerate(rounds, start=1):
        floor_cpu, verify_cpu, alone_cpu, rebuild_cpu = r[10:]
        print(
            f"{number:>5} floor {floor_cpu:>7.3f}  verify {verify_cpu:>7.3f} {verify_cpu / floor_cpu:>5.2f}x  "
            f"1 process {alone_cpu:>7.3f} {alone_cpu / floor_cpu:>5.2f}x  "
            f"rebuild {rebuild_cpu:>7.3f} {rebuild_cpu / floor_cpu:>5.2f}x"
        )
    ratios = [sorted(r[col] / r[3] for r in rounds)[len(rounds) // 2] for col in (4, 5, 6)]
    print(
        f"median wall ratio to the floor: verify {ratios[0]:.2f}x, 1 process {ratios[1]:.2f}x, rebuild {ratios[2]:.2f}x"
    )
    peaks = [max(r[col] for r in rounds) for col in (7, 8, 9)]
    print(f"peak memory: verify {peaks[0]:.0f} MB, 1 process {peaks[1]:.0f} MB, rebuild {peaks[2]:.0f} MB")
    print(f"signatures with PyNaCl {rounds[-1][2] / len(checks) * 1e6:.0f} µs each (last round)")
    print(f"cryptography loop {slower:.3f} s, {slower / rounds[-1][2]:.2f}x PyNaCl's last round")


if __name__ == "__main__":
    main()
