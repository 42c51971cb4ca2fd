"""Hostile or broken plan files are refused fast and located: alias bombs, deep nesting, huge files, dates
that are not in the calendar, an unclosed quote; each within a second of CPU and 100 MB, and a refused
command leaves the plan cache as it was."""

import json
import subprocess
import sys

import pytest

from tests.conftest import Workspace
from tests.flows.test_validate import SATISFACTION, edit, line_of, problems

# A plan read in a process of its own: CPU seconds and the growth of its peak memory while reading.
MEASURE = """
import json, resource, sys, time
from pathlib import Path
from musharaka.flows.planfiles.reading import read_yaml
from musharaka.stages.plans import CampaignPlan
read_yaml(Path(sys.argv[2]), CampaignPlan)  # warm: the YAML library and the models are loaded
before, cpu = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.process_time()
tree, found = read_yaml(Path(sys.argv[1]), CampaignPlan)
cpu = time.process_time() - cpu
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"cpu": cpu, "kb": grown, "problems": [str(p) for p in found]}))
"""


def laughs(levels: int = 9) -> str:
    """Ten lines that stand for ten to the ninth values."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


HOSTILE = {
    "alias bomb": (laughs(), (2, 10), "expected at most 100,000 values once aliases are expanded"),
    "alias chain": (
        "a0: &a0 [1]\n" + "\n".join(f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, 200)) + "\n",
        (2, 10),
        "expected at most 40 levels of nesting once aliases are expanded",
    ),
    "flow nesting": ("id: x\nnested: " + "[" * 100_000 + "]" * 100_000 + "\n", (2, 48), "expected at most 40 levels"),
    "block nesting": (
        "id: x\n" + "".join(" " * i + f"k{i}:\n" for i in range(60)) + " " * 60 + "v: 1\n",
        (42, 41),  # the 41st mapping opens at k40: line 42, after 40 spaces
        "expected at most 40 levels",
    ),
    "huge file": ("id: x\nnotes: '" + "x" * 3_000_000 + "'\n", (1, 1), "of at most 1.0 MB, found 3.0 MB"),
    "unclosed quote": (
        'id: "x\ntitle:\n  ar: y\n  en: z\n' + "other: 1\n" * 20,
        (1, 5),
        "a quoted scalar that starts here and is never closed",
    ),
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_a_hostile_file_is_refused_located_in_bounded_time_and_memory(kind: str, ws: Workspace) -> None:
    text, (line, column), message = HOSTILE[kind]
    path = ws.root / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    measured = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), str(ws.plans / SATISFACTION)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found = json.loads(measured.stdout)
    assert found["cpu"] < 1.0, found
    assert found["kb"] < 100_000, found
    [problem] = found["problems"]
    assert problem.startswith(f"{path}:{line}:{column}: ") and message in problem, problem


def test_a_date_or_time_not_in_the_calendar_is_located_by_its_field(ws: Workspace) -> None:
    edit(ws, SATISFACTION, "opens: 2025-07-06", "opens: 2025-02-30")
    [opens] = [p for p in problems(ws) if p["field"] == "window.opens"]
    assert int(opens["line"]) == line_of(ws, SATISFACTION, "opens: 2025-02-30")
    assert "day value is outside expected range, found '2025-02-30'" in opens["message"]


def test_a_malformed_public_key_is_told_what_a_key_looks_like(ws: Workspace) -> None:
    registry = ws.plans / "approvers.yaml"
    text = registry.read_text(encoding="utf-8")
    start = text.index("public: ed25519:") + len("public: ")
    registry.write_text(text[:start] + "ed25519:not-a-key" + text[text.index("\n", start) :], encoding="utf-8")
    [key] = [p for p in problems(ws) if p["field"].endswith(".public")]
    assert key["message"] == (
        "expected an Ed25519 public key: 'ed25519:' then the raw key in base64 (44 characters, ending in '='), "
        "found 'ed25519:not-a-key'"
    )


def test_a_refused_command_leaves_the_plan_cache_as_it_was(ws: Workspace) -> None:
    assert ws.run("status").exit_code == 0  # the plans are read and the result kept
    cache = ws.root / "var" / "cache" / "plans.json"
    kept = cache.read_bytes()
    edit(ws, SATISFACTION, "opens: 2025-07-06", "opens: 2025-02-30")
    assert ws.run("validate", str(ws.plans)).exit_code == 2
    assert ws.run("start", "moheri-2025-q3-satisfaction").exit_code == 2
    assert cache.read_bytes() == kept
