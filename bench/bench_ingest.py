"""Ingesting a Google-Forms-style export against a bare pandas.read_csv plus a bulk insert of the same rows.

    .venv/bin/python bench/bench_ingest.py [--rows 100000 2000000] [--database sqlite:///var/bench-ingest.db]

The file has a timestamp, an e-mail address, ten questions (Likert, single and multiple choice with
Arabic and English labels, a number, free text in Arabic and English) and a governorate, as Google
Sheets writes it. Both sides run in this process, on the same database, in the same run:
  baseline   pandas.read_csv of the file (all text) + one Core bulk insert of its rows as they are;
  ingest     `flows/ingest/ingestion.py`'s `ingest`: detect, map, check, pseudonymise, key, digest, quarantine, insert.
Peak memory is that of `musharaka ingest` run as a process of its own on a fresh database, at each size:
it should not grow with the file (the batch is sealed from sorted runs on disk, duplicates found by the
database's index), so the sizes are measured in one run, with the machine's load.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

# bench/ and tests/ are not installed: their helpers come from the checkout this script runs in
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import pandas as pd
from ruamel.yaml import YAML
from sqlalchemy import Column, MetaData, Table, Text, insert

from musharaka.flows.engine import campaigns, governance
from musharaka.flows.ingest.ingestion import ingest
from musharaka.flows.planfiles.loading import load_plans
from musharaka.state.db import get_engine, reset_tables, session_scope

ROOT = Path(__file__).resolve().parent.parent
CAMPAIGN = "bench-2025-q3-survey"

LIKERT = {"ar": "ما مدى رضاك عن {}؟", "en": "How satisfied are you with {}?"}
PLAN = {
    "id": CAMPAIGN,
    "title": {"ar": "استبيان للقياس", "en": "A survey to measure"},
    "level": "consultation",
    "kind": "survey",
    "owner": "planning.team",
    "quarter": "2025-Q3",
    "sector": "education",
    "window": {"opens": "2025-07-01", "closes": "2025-09-30", "timezone": "Asia/Muscat"},
    "audiences": [
        {"id": "students", "name": {"ar": "الطلبة", "en": "Students"}},
        {"id": "parents", "name": {"ar": "أولياء الأمور", "en": "Parents"}},
        {"id": "researchers", "name": {"ar": "الباحثون", "en": "Researchers"}},
    ],
    "channels": ["e-survey", "website"],
    "objective": {"ar": "قياس", "en": "Measure"},
    "decision_method": "agency-decides",
    "instrument": [
        *(
            {
                "id": f"satisfaction-{topic}",
                "type": "likert",
                "title": {"ar": LIKERT["ar"].format(ar), "en": LIKERT["en"].format(topic)},
            }
            for topic, ar in (("admission", "القبول"), ("website", "الموقع"), ("support", "الدعم"))
        ),
        {
            "id": "role",
            "type": "single",
            "title": {"ar": "أي مما يلي يصفك؟", "en": "Which best describes you?"},
            "options": [
                {"id": "students", "label": {"ar": "طالب", "en": "Student"}},
                {"id": "parents", "label": {"ar": "ولي أمر", "en": "Parent"}},
                {"id": "researchers", "label": {"ar": "باحث", "en": "Researcher"}},
            ],
        },
        {
            "id": "ease",
            "type": "single",
            "title": {"ar": "كيف تقيّم سهولة الخدمة؟", "en": "How easy was the service?"},
            "options": [
                {"id": "easy", "label": {"ar": "سهلة", "en": "Easy"}},
                {"id": "acceptable", "label": {"ar": "مقبولة", "en": "Acceptable"}},
                {"id": "hard", "label": {"ar": "صعبة", "en": "Hard"}},
            ],
        },
        {
            "id": "services",
            "type": "multiple",
            "title": {"ar": "ما الخدمات التي استخدمتها؟", "en": "Which services have you used?"},
            "options": [
                {"id": "admission", "label": {"ar": "القبول الموحد", "en": "Unified admission"}},
                {"id": "scholarships", "label": {"ar": "البعثات", "en": "Scholarships, grants and loans"}},
                {"id": "equivalency", "label": {"ar": "معادلة المؤهلات", "en": "Qualification equivalency"}},
                {"id": "research", "label": {"ar": "تمويل البحوث", "en": "Research funding"}},
            ],
        },
        {
            "id": "channels-heard",
            "type": "multiple",
            "title": {"ar": "من أين عرفت عن الاستبيان؟", "en": "Where did you hear about the survey?"},
            "options": [
                {"id": "x", "label": {"ar": "منصة إكس", "en": "X"}},
                {"id": "instagram", "label": {"ar": "إنستغرام", "en": "Instagram"}},
                {"id": "school", "label": {"ar": "المدرسة", "en": "School"}},
            ],
        },
        {
            "id": "gpa",
            "type": "number",
            "minimum": 0,
            "maximum": 100,
            "title": {"ar": "ما المعدل المناسب؟", "en": "Which average is fair?"},
        },
        {
            "id": "comment-ar",
            "type": "text",
            "required": False,
            "title": {"ar": "ملاحظاتك", "en": "Your comments"},
        },
        {
            "id": "comment-en",
            "type": "text",
            "required": False,
            "title": {"ar": "ملاحظات أخرى", "en": "Anything else?"},
        },
    ],
    "prepare": {"subject": {"ar": "قياس", "en": "Measure"}},
    "gates": {"default": {"roles": ["dg-planning"]}},
    "ingest": {
        "channel": "e-survey",
        "audience_question": "role",
        "segments": [{"id": "governorate", "columns": ["Governorate"]}],
    },
}


def write_export(path: Path, rows: int, seed: int = 7) -> None:
    """A Google Sheets CSV download of `rows` responses (quoted where needed, CRLF, BOM)."""
    rng = np.random.default_rng(seed)
    start = datetime(2025, 7, 1, 8, tzinfo=UTC).timestamp()
    seconds = np.sort(rng.integers(0, 85 * 86400, rows)) + start
    stamps = pd.to_datetime(seconds, unit="s").strftime("%-m/%-d/%Y %H:%M:%S")
    services = np.array(["Unified admission", "Scholarships, grants and loans", "القبول الموحد, معادلة المؤهلات",
                         "Unified admission, Research funding", "Qualification equivalency"])  # fmt: skip
    heard = np.array(["X", "Instagram, School", "المدرسة", "X, Instagram, School"])
    comments_ar = np.array(["", "", "أتمنى تبسيط رفع المستندات", "الخدمة ممتازة وسريعة", "نرجو تمديد المهلة"])
    comments_en = np.array(["", "", "", "The upload step times out", "Please add chat support"])
    titles = [q["title"]["en"] for q in PLAN["instrument"]]  # type: ignore[index]
    frame = pd.DataFrame(
        {
            "Timestamp": stamps,
            "Email Address": [f"person{i}@example.om" for i in rng.integers(0, rows // 2 + 1, rows)],
            titles[0]: rng.integers(1, 6, rows).astype(str),
            titles[1]: rng.integers(1, 6, rows).astype(str),
            titles[2]: rng.integers(1, 6, rows).astype(str),
            titles[3]: rng.choice(np.array(["Student", "Parent", "باحث"]), rows),
            titles[4]: rng.choice(np.array(["Easy", "Acceptable", "Hard", "صعبة"]), rows),
            titles[5]: rng.choice(services, rows),
            titles[6]: rng.choice(heard, rows),
            titles[7]: rng.integers(50, 100, rows).astype(str),
            titles[8]: rng.choice(comments_ar, rows),
            titles[9]: rng.choice(comments_en, rows),
            "Governorate": rng.choice(np.array(["Muscat", "Dhofar", "Al Batinah North", "الداخلية"]), rows),
        }
    )
    frame.to_csv(path, index=False, lineterminator="\r\n", encoding="utf-8-sig")


def workspace(folder: Path) -> Path:
    """A plans folder holding the benchmark's campaign and the sample approvers."""
    plans = folder / "plans"
    (plans / "campaigns").mkdir(parents=True, exist_ok=True)
    (plans / "approvers.yaml").write_text((ROOT / "plans" / "approvers.yaml").read_text(encoding="utf-8"))
    with (plans / "campaigns" / f"{CAMPAIGN}.yaml").open("w", encoding="utf-8") as handle:
        YAML().dump(PLAN, handle)
    registry, problems = load_plans([plans / "approvers.yaml"])  # pinned, as `musharaka people pin-registry` does
    assert registry.registry is not None, problems
    governance.write_root(registry.registry, plans)
    return plans


def baseline(path: Path, url: str) -> float:
    """pandas.read_csv of the file as text, then one Core bulk insert of the same rows."""
    table = Table("baseline_rows", MetaData(), *(Column(f"c{i}", Text) for i in range(13)))
    database = get_engine(url)
    table.drop(database, checkfirst=True)
    table.create(database)
    began = time.perf_counter()
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame.columns = [f"c{i}" for i in range(13)]
    with database.begin() as connection:
        connection.execute(insert(table), frame.to_dict("records"))
    elapsed = time.perf_counter() - began
    table.drop(database)
    return elapsed


def ingest_once(path: Path, plans_dir: Path, url: str) -> float:
    plans, problems = load_plans([plans_dir])
    assert not problems, problems
    start = datetime(2025, 6, 20, 8, tzinfo=UTC)
    with session_scope(get_engine(url)) as session:
        campaigns.start(plans.campaigns[CAMPAIGN], actor="planning.team", now=start, session=session)
    began = time.perf_counter()
    with session_scope(get_engine(url)) as session:
        done = ingest(CAMPAIGN, path, plans=plans, actor="planning.team", now=datetime.now(UTC), session=session)
    elapsed = time.perf_counter() - began
    print(f"  {done}")
    return elapsed


def command_peak(path: Path, plans_dir: Path, folder: Path) -> float:
    """`musharaka start` then `musharaka ingest` on a fresh database: the ingest command's own peak RSS in MB.

    GNU time forks the command from a small process, so the peak is the command's alone (a child forked
    straight from this process would count this process's pages too)."""
    env = {
        **os.environ,
        "MUSHARAKA_DATABASE_URL": f"sqlite:///{folder / 'peak.db'}",
        "MUSHARAKA_PLANS_DIR": str(plans_dir),
        "MUSHARAKA_OUTPUT_DIR": str(folder / "out"),
        "MUSHARAKA_PSEUDONYM_KEY_FILE": str(folder / "pseudonym.key"),
        "MUSHARAKA_ALLOW_NOW": "1",  # a throwaway database on the 2025 calendar
    }
    cli = [sys.executable, "-m", "musharaka.flows.cli"]
    subprocess.run(
        [*cli, "--now", "2025-06-20T12:00+04:00", "start", CAMPAIGN, "--no-advance"],
        env=env,
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    timed = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *cli, "--now", "2025-10-01T12:00+04:00", "ingest", CAMPAIGN, str(path)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    print(f"  {timed.stdout.strip()}")
    return int(timed.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 2_000_000])
    parser.add_argument("--database", default=f"sqlite:///{ROOT / 'var' / 'bench-ingest.db'}")
    parser.add_argument("--no-peak", action="store_true", help="skip the separate-process memory measurement")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    figures = []
    for rows in args.rows:
        with tempfile.TemporaryDirectory(prefix="musharaka-bench-") as temp:
            folder = Path(temp)
            os.environ["MUSHARAKA_PSEUDONYM_KEY_FILE"] = str(folder / "pseudonym.key")
            path = folder / "responses.csv"
            write_export(path, rows)
            plans_dir = workspace(folder)
            print(f"{rows:,} rows, {path.stat().st_size / 1e6:.0f} MB, database {args.database}")
            reset_tables(get_engine(args.database))
            base = baseline(path, args.database)
            print(f"baseline  read_csv + bulk insert  {base:8.2f} s   1.00x")
            ours = ingest_once(path, plans_dir, args.database)
            print(f"ingest    musharaka ingestion     {ours:8.2f} s   {ours / base:.2f}x")
            peak = float("nan") if args.no_peak else command_peak(path, plans_dir, folder)
            print(f"peak memory of `musharaka ingest`: {peak:.0f} MB")
            figures.append((rows, base, ours, peak))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| rows | baseline s | ingest s | ratio | peak MB |\n|---:|---:|---:|---:|---:|")
    for rows, base, ours, peak in figures:
        print(f"| {rows:,} | {base:.1f} | {ours:.1f} | {ours / base:.2f}x | {peak:.0f} |")


if __name__ == "__main__":
    main()
