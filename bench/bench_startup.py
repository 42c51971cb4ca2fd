"""How long a person waits for `--help` and the read commands, against a bare Python that imports the models.

    .venv/bin/python bench/bench_startup.py [--runs 7]

A workspace is laid out as a ministry would (`musharaka init`, the registry pinned, one campaign started),
then each command runs as a process of its own, `--runs` times; the best wall time and the best CPU time
(user + system, which another process's load disturbs less) are kept. The floor is a bare Python process
importing the project's models (`musharaka.state.tables`): what every command must load in any case.
Goal: every command within 0.15 s of it.
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CAMPAIGN = "moheri-2025-q3-satisfaction"
CLI = [sys.executable, "-m", "musharaka.flows.cli"]
COMMANDS: list[tuple[str, list[str]]] = [
    ("musharaka --help", [*CLI, "--help"]),
    ("musharaka status", [*CLI, "status"]),
    ("musharaka status --json", [*CLI, "status", "--json"]),
    ("musharaka gates", [*CLI, "gates"]),
    ("musharaka history", [*CLI, "history", CAMPAIGN]),
    ("musharaka decisions", [*CLI, "decisions"]),
    ("musharaka contributions", [*CLI, "contributions", CAMPAIGN]),
    ("musharaka review (a refusal)", [*CLI, "review", CAMPAIGN, "plan"]),
]
FLOOR = [sys.executable, "-c", "import musharaka.state.tables"]


def timed(argv: list[str], env: dict[str, str], folder: Path, runs: int) -> tuple[float, float]:
    """The best wall time and the best CPU time (user + system) of `runs` runs, in seconds."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        subprocess.run(argv, env=env, cwd=folder, capture_output=True, check=False)
        walls.append(time.perf_counter() - began)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(walls), min(cpus)


def workspace(folder: Path) -> dict[str, str]:
    """`musharaka init`, the registry pinned, one campaign started (no flow run: `--no-advance`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSHARAKA_")}
    env["MUSHARAKA_ALLOW_NOW"] = "1"  # a throwaway workspace on the 2025 calendar
    for argv in (
        ["init"],
        ["people", "pin-registry"],
        ["--now", "2025-06-15T09:00+04:00", "start", CAMPAIGN, "--no-advance"],
    ):
        subprocess.run([*CLI, *argv], env=env, cwd=folder, check=True, capture_output=True)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="musharaka-bench-") as temp:
        folder = Path(temp)
        env = workspace(folder)
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
        floor_wall, floor_cpu = timed(FLOOR, env, folder, args.runs)
        print(f"best of {args.runs} runs; floor: a Python process importing the models\n")
        print("| command | wall s | over the floor | CPU s | over the floor |")
        print("|---|---:|---:|---:|---:|")
        print(f"| floor: `python -c 'import musharaka.state.tables'` | {floor_wall:.3f} | | {floor_cpu:.3f} | |")
        for name, argv in COMMANDS:
            wall, cpu = timed(argv, env, folder, args.runs)
            print(f"| `{name}` | {wall:.3f} | {wall - floor_wall:+.3f} | {cpu:.3f} | {cpu - floor_cpu:+.3f} |")
        print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
