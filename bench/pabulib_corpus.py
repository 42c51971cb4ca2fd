"""The budget rules against the public Pabulib corpus: do the computed winners equal each file's `selected` column?

Runs every `.pb` file whose META `rule` we support, under that rule, ties broken by the file's order (as
Pabulib's own files list their projects) and the file's `min_project_score_threshold` kept, and prints per rule
and ballot type the files equal / run; for each mismatch, the projects differing and a diagnosis worked out from
the file (an official outcome over the budget, a withdrawn project's cost marker, reserve funds, a tie...).

The corpus is a folder of `.pb` files or a git directory of the pabulib/pabulib_files repository (read with
`git ls-tree` and `git cat-file`, so a bare mirror needs no checkout):

    .venv/bin/python bench/pabulib_corpus.py /work/.mirror/pabulib+pabulib_files/repo \\
        --commit 88cfaba3e7692a90f3311cbcf8f08aa63fc3fbff --json var/pabulib-corpus.json
"""

import argparse
import json
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from musharaka.stages import budget, pabulib

# the corpus's rule names -> ours, and whether the comparison step follows; `unknown` has no rule to compare with
SUPPORTED: dict[str, tuple[budget.Rule, bool]] = {
    "greedy": ("greedy", False),
    "greedy-threshold": ("greedy-threshold", False),
    "greedy-no-skip": ("greedy-no-skip", False),
    "greedy-exclusive": ("greedy-exclusive", False),
    "greedy-custom": ("greedy-custom", False),
    "equalshares/add1": ("equal-shares", False),
    "equalshares/add1-comparison": ("equal-shares", True),
}
# greedy-exclusive's groups, as each file's META comment states them (no file has a column for them)
EXCLUSIVE: dict[str, tuple[frozenset[str], ...]] = {
    # "projects 459, 1687, and 2150 overlapped at the Kabaty area and could not all be implemented simultaneously"
    "Poland_Warszawa_2021_Ursynow.pb": (frozenset({"459", "1687", "2150"}),),
    # "projects 773 and 153 both targeted the area near ul. Konarskiego"
    "Poland_Warszawa_2022_Bemowo.pb": (frozenset({"773", "153"}),),
    # "projects 201 and 1932 both targeted the Serek Bielański area near metro Słodowiec"
    "Poland_Warszawa_2022_Bielany.pb": (frozenset({"201", "1932"}),),
}
SLOW = 60.0  # seconds: a file taking longer is reported as too slow


@dataclass
class Result:
    file: str
    rule: str
    vote_type: str
    size: int
    seconds: float
    equal: bool
    only_official: list[str] = field(default_factory=list)  # selected by the city, not by the rule
    only_computed: list[str] = field(default_factory=list)  # funded by the rule, not selected by the city
    outside: list[str] = field(default_factory=list)  # marked funded outside the rule (selected 2 or 3)
    withdrawn: list[str] = field(default_factory=list)  # voted for, then withdrawn (Pabulib's cost marker)
    diagnosis: list[str] = field(default_factory=list)


def corpus(path: Path, commit: str) -> Iterator[tuple[str, int, str | None]]:
    """(file name, size, text or None when absent) for every `.pb` file of a folder or a git directory."""
    if not (path / "HEAD").exists() and not (path / ".git").exists():
        for file in sorted(path.glob("**/*.pb")):
            yield file.name, file.stat().st_size, file.read_text(encoding="utf-8")
        return
    git = ["git", f"--git-dir={path / '.git' if (path / '.git').exists() else path}"]
    listing = subprocess.run([*git, "ls-tree", "-r", "-l", commit], check=True, capture_output=True, text=True)
    entries: list[tuple[str, str, int]] = []
    for line in listing.stdout.splitlines():
        meta, name = line.split("\t", 1)
        _, kind, blob, stated = meta.split()
        if kind == "blob" and name.endswith(".pb"):
            entries.append((name, blob, int(stated) if stated.isdigit() else 0))  # git says BAD for an absent blob
    # one `git cat-file --batch` for every blob: a process per file would cost more than reading it
    with subprocess.Popen([*git, "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE) as batch:
        assert batch.stdin is not None and batch.stdout is not None
        for name, blob, size in sorted(entries):
            batch.stdin.write(f"{blob}\n".encode())
            batch.stdin.flush()
            header = batch.stdout.readline().decode().split()
            if header[-1] == "missing":
                yield Path(name).name, size, None
                continue
            data = batch.stdout.read(int(header[2]) + 1)[:-1]  # the object, then a newline
            yield Path(name).name, size, data.decode("utf-8")
        batch.stdin.close()


def outcome(
    instance: pabulib.PbInstance, rule: budget.Rule, comparison: bool, leave_out: frozenset[str] = frozenset()
) -> list[str]:
    """The instance's winners under `rule`, ties to the file's order and the file's threshold kept."""
    projects = [p for p in instance.candidates() if p.id not in leave_out]
    ballots = [instance.points_of(v) for v in instance.votes]
    cost_utilities = instance.vote_type in ("approval", "choose-1")
    if rule == "equal-shares":
        return budget.equal_shares(
            projects, ballots, instance.budget, comparison=comparison, cost_utilities=cost_utilities, ties="plan-order"
        )
    threshold = float(instance.meta.get("min_project_score_threshold") or 0)
    options = budget.Options(ties="plan-order", threshold=threshold, exclusive=EXCLUSIVE.get(instance.source, ()))
    return budget.greedy(projects, ballots, instance.budget, rule, options)


def diagnose(
    instance: pabulib.PbInstance, computed: list[str], rerun: Callable[[frozenset[str]], list[str]]
) -> list[str]:
    """Why the file's `selected` column differs from the rule's outcome, as far as the file shows it."""
    _, points = budget.support(instance.candidates(), [instance.points_of(v) for v in instance.votes])
    by_id = {p.id: p for p in instance.projects}
    official = instance.funded_by_rule()
    threshold = float(instance.meta.get("min_project_score_threshold") or 0)
    left = instance.budget - sum(by_id[p].cost for p in computed)
    funded = set(computed)

    def next_in_line(project: str) -> bool:
        """Whether no unfunded project eligible under the rule has more support than `project`."""
        return not any(
            q not in funded and q != project and points[q] > points[project] and points[q] >= threshold for q in points
        )

    found: list[str] = []
    spent = sum(p.cost for p in instance.projects if p.selected)
    if spent > instance.budget:
        found.append(f"official outcome exceeds the budget ({spent:.0f} of {instance.budget:.0f})")
    for p in instance.projects:
        if not p.selected or p.id in official:
            continue
        why = "reserve funds" if p.selected_as == "3" else "funded outside the rule"
        score = points.get(p.id, 0.0)
        if score < threshold:
            why += f", funded below the file's threshold ({score:g} < {threshold:g})"
        tied = [q for q in computed if q != p.id and points.get(q) == score]
        if tied:
            why += f", tie at the last place with {', '.join(tied)} ({score:g}): the city funded both"
        elif score >= threshold and p.cost > left and next_in_line(p.id):
            why += f", the next in line, {p.cost - left:.0f} short of what the rule left"
        found.append(f"project {p.id}: selected={p.selected_as} ({why})")
    withdrawn = [p.id for p in instance.projects if p.cost == pabulib.WITHDRAWN_COST and p.votes]
    if withdrawn:
        found.append(f"a project with the withdrawn-cost marker {pabulib.WITHDRAWN_COST}: {', '.join(withdrawn)}")
    for q in sorted(official - set(computed), key=lambda q: -points.get(q, 0.0)):
        found.append(f"project {q} ({points.get(q, 0.0):g} points, cost {by_id[q].cost:.0f}) selected, not by the rule")
    for q in sorted(set(computed) - official, key=lambda q: -points[q]):
        found.append(
            f"project {q} ({points[q]:g} points, cost {by_id[q].cost:.0f}) funded by the rule, not selected "
            f"(the rule leaves {left:.0f})"
        )
    # a project the city passed over without the file saying why: is the rule's outcome without it the city's?
    for q in sorted(set(computed) - official):
        if set(rerun(frozenset({q}))) == official:
            found.append(f"the rule without project {q} (as if withdrawn) gives the official outcome")
    # a tie the city broke otherwise than the file's order
    lost = {q for q in set(computed) - official if any(points[q] == points.get(r) for r in official - set(computed))}
    for q in sorted(lost):
        won = sorted(r for r in official - set(computed) if points.get(r) == points[q])
        found.append(
            f"tie at {points[q]:g} between {q} (first in the file) and {', '.join(won)}: the city funded the latter"
        )
    # greedy-exclusive: did the city keep another project of a group than the one with the most support?
    for group in EXCLUSIVE.get(instance.source, ()):
        for kept in sorted(group & official):
            if set(rerun(group - {kept} | lost)) == official:
                found.append(
                    f"the city kept {kept} of the exclusive group {', '.join(sorted(group))}, not the most voted"
                    + (", and it won the tie" if lost else "")
                )
    comment = instance.meta.get("comment", "")
    if comment:  # the file's own words, where Pabulib's editors explain a city's exception
        found.append(f"the file's comment: {comment[:500]}")
    return found


def check(name: str, size: int, text: str) -> Result | str:
    """One file's result, or why it was not run."""
    try:
        instance = pabulib.parse(text, name)
    except pabulib.PbError as error:
        return f"unreadable: {error}"
    if instance.rule not in SUPPORTED:
        return f"rule {instance.rule!r} not supported"
    rule, comparison = SUPPORTED[instance.rule]
    if not any(p.selected is not None for p in instance.projects):
        return "no selected column"
    start = time.perf_counter()
    computed = outcome(instance, rule, comparison)
    seconds = time.perf_counter() - start
    official = instance.funded_by_rule()
    result = Result(name, instance.rule, instance.vote_type, size, round(seconds, 3), set(computed) == official)
    result.outside = sorted(p.id for p in instance.projects if p.selected and p.id not in official)
    result.withdrawn = sorted(p.id for p in instance.projects if p.cost == pabulib.WITHDRAWN_COST)
    result.only_official = sorted(official - set(computed))
    result.only_computed = sorted(set(computed) - official)
    if not result.equal or result.outside:
        result.diagnosis = diagnose(instance, computed, lambda out: outcome(instance, rule, comparison, out))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path, help="a folder of .pb files or a git directory of pabulib_files")
    parser.add_argument("--commit", default="HEAD", help="the commit to read in a git directory (default HEAD)")
    parser.add_argument("--max-kb", type=float, default=None, help="leave out files larger than this")
    parser.add_argument("--only", default=None, help="run only files whose name contains this")
    parser.add_argument("--json", type=Path, default=None, help="write every file's result here")
    args = parser.parse_args(argv)
    results: list[Result] = []
    skipped: Counter[str] = Counter()
    started = time.perf_counter()
    for name, size, text in corpus(args.corpus, args.commit):
        if args.only and args.only not in name:
            continue
        if text is None or text.startswith("version https://git-lfs"):
            skipped["content absent from the mirror"] += 1
            continue
        if args.max_kb is not None and size > args.max_kb * 1000:
            skipped[f"over {args.max_kb:g} kB"] += 1
            continue
        found = check(name, size, text)
        if isinstance(found, str):
            skipped[found.split(":")[0]] += 1
            continue
        results.append(found)
    report(results, skipped, time.perf_counter() - started)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


def report(results: list[Result], skipped: Counter[str], seconds: float) -> None:
    table: dict[tuple[str, str], list[Result]] = defaultdict(list)
    for result in results:
        table[(result.rule, result.vote_type)].append(result)
    print("| rule | ballots | files equal / run |\n|---|---|---|")
    for (rule, vote_type), group in sorted(table.items()):
        print(f"| {rule} | {vote_type} | {sum(r.equal for r in group)} / {len(group)} |")
    equal = sum(r.equal for r in results)
    print(f"\n{equal} of {len(results)} files equal, in {seconds:.0f} s; not run: {dict(skipped) or 'none'}")
    slow = [r for r in results if r.seconds > SLOW]
    slowest = max(results, key=lambda r: r.seconds, default=None)
    if slowest:
        took = f"{slowest.size / 1000:.0f} kB, {slowest.seconds:.1f} s"
        print(f"slowest: {slowest.file} ({took}); over {SLOW:g} s: {len(slow)}")
    print("\nmismatches:")
    for r in sorted((r for r in results if not r.equal), key=lambda r: (r.rule, r.file)):
        print(f"- {r.file} [{r.rule}, {r.vote_type}]: only official {r.only_official}, only computed {r.only_computed}")
        for line in r.diagnosis:
            print(f"    {line}")
    withdrawn = sorted((r for r in results if r.withdrawn), key=lambda r: (r.rule, r.file))
    print(f"\nwith a project withdrawn after the vote, left out ({len(withdrawn)} files):")
    for r in withdrawn:
        print(f"- {r.file} [{r.rule}, {r.vote_type}]: {r.withdrawn}")
    outside = sorted((r for r in results if r.equal and r.outside), key=lambda r: (r.rule, r.file))
    print(f"\nequal, with projects funded outside the rule ({len(outside)} files):")
    for r in outside:
        print(f"- {r.file} [{r.rule}, {r.vote_type}]: {r.outside}")
        for line in r.diagnosis:
            print(f"    {line}")


if __name__ == "__main__":
    sys.exit(main())
