"""What looking for people's data in a file's unused columns adds to an ingestion, per million rows.

    .venv/bin/python bench/bench_lookalikes.py [--rows 1000000] [--runs 3]

Ingestion reads every column mapped to nothing once more, to warn of cells that look like e-mails, phone
numbers or national ids (`flows.ingest.contributions._lookalikes`). Its cost grows with the distinct values
of a column, so the worst case is timed: a column whose every cell differs, in the chunks of 100,000 rows an
ingestion reads. Two such columns:
  times    Microsoft Forms' `Start time` (nothing in it looks like people's data: the common case);
  phones   a phone number in every cell, all different (every cell matches and is counted).
Best of `--runs`, in seconds for all the rows.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd

from musharaka.flows.ingest.columns import Layout
from musharaka.flows.ingest.contributions import _lookalikes
from musharaka.flows.ingest.sources import CHUNK_ROWS, TOOLS


def column(kind: str, start: int, n: int) -> list[str]:
    if kind == "times":
        return [
            f"{1 + i % 12}/{1 + i % 28}/2025 {i % 24}:{i % 60:02d}:{i // 60 % 60:02d}.{i}"
            for i in range(start, start + n)
        ]
    return [f"+968 9{i:07d}" for i in range(start, start + n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    found = Layout(TOOLS["ms-forms"], ["Start time"], (), None, None, None, {}, {}, [], [], [0])
    for kind in ("times", "phones"):
        chunks = [
            pd.DataFrame({0: column(kind, start, min(CHUNK_ROWS, options.rows - start))}, dtype=str)
            for start in range(0, options.rows, CHUNK_ROWS)
        ]
        best = float("inf")
        for _ in range(options.runs):
            began = time.perf_counter()
            counted = sum(sum(_lookalikes(chunk, found).values()) for chunk in chunks)
            best = min(best, time.perf_counter() - began)
        print(f"{kind:7} {options.rows:,} rows, all distinct: {best:.2f} s ({counted:,} cells look like people's data)")


if __name__ == "__main__":
    main()
