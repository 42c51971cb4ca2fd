"""Analysing 1,000,000 survey contributions, against a hand-written pandas baseline, in one run.

    .venv/bin/python bench/bench_analyse.py [--rows 1000000] [--database sqlite:///var/bench-analyse.db]

It bulk-inserts a Google-Forms-style survey (ten questions: three likert, two single-choice, two
multi-select, a number, an Arabic and an English comment; three audiences, two channels, 30 days,
a governorate segment) into the contribution table, then times, each in a fresh process of its own:
  baseline   a hand-written pandas script: `pandas.read_sql` of the campaign's rows, answers parsed
             with `json.loads` per row into a DataFrame (each distinct comment normalised once, as
             the engine does), then the same figures: counts by channel,
             audience and day, per-question counts, likert means with t-intervals, top-2-box with
             Wilson intervals, the satisfaction index, multi-select tallies, cross-tabs by audience
             and governorate, and for each comment column the normalised texts, exact repeats, theme
             counts, frequent terms and near repeats (the near repeats by calling the same
             `stages.text.near_duplicates` the engine uses: pandas has nothing of its own for it);
  musharaka  `state.frames.contributions_frame` (the engine's reader), then `stages.conduct.run` and
             `stages.analyse.analysis`, which compute the same figures into typed outputs.
Both start from the same database file and end with every figure computed; imports and the plan are
ready before each clock starts. Peak memory is each
process's maximum resident set size.
"""

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

# bench/ and tests/ are not installed: their helpers come from the checkout this script runs in
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

CAMPAIGN = "moheri-2025-q3-satisfaction"
T0 = datetime(2025, 7, 6, 4, tzinfo=UTC)
AR = ["الخدمة", "بطيئة", "رفع", "المستندات", "صعب", "ممتازة", "الموقع", "يحتاج", "تحسين", "سريعة", "الدعم", "جيد"]
EN = ["service", "slow", "upload", "documents", "hard", "excellent", "website", "needs", "better", "fast", "support"]


def plan_dict() -> dict:
    from tests.stages.plans_fixture import SATISFACTION

    def option(i: str) -> dict:
        return {"id": i, "label": {"ar": i, "en": i}}

    def q(qid: str, qtype: str, options: tuple[str, ...] = (), **extra: object) -> dict:
        return {
            "id": qid,
            "type": qtype,
            "title": {"ar": qid, "en": qid},
            "options": [option(o) for o in options],
            **extra,
        }

    base = SATISFACTION.model_dump()
    base["instrument"] = [
        q("overall", "likert"),
        q("ease", "likert"),
        q("speed", "likert", scale=7),
        q("heard", "single", ("website", "friend", "social", "school")),
        q("device", "single", ("phone", "computer", "tablet")),
        q("services", "multiple", ("admission", "equivalency", "scholarships", "research")),
        q("wants", "multiple", ("chat", "tracking", "arabic", "english", "faster")),
        q("age", "number"),
        q("comment-ar", "text"),
        q("comment-en", "text"),
    ]
    base["ingest"] = {"segments": [{"id": "governorate", "columns": ["Governorate"]}]}
    base["analysis"] = {
        "satisfaction": ["overall", "ease", "speed"],
        "segments": ["governorate"],
        "themes": [
            {"id": "uploads", "name": {"ar": "الرفع", "en": "Uploads"}, "keywords": ["upload", "رفع"]},
            {"id": "speed", "name": {"ar": "السرعة", "en": "Speed"}, "keywords": ["slow", "بطيئة"]},
        ],
    }
    return base


def comments(rng: np.random.Generator, words: list[str], n: int, pool: int = 3000) -> np.ndarray:
    """`pool` distinct comments of 4-9 words (some differing by one word), drawn n times."""
    texts = [" ".join(rng.choice(words, size=rng.integers(4, 10))) for _ in range(pool)]
    return np.array(texts, dtype=object)[rng.integers(0, pool, size=n)]


def generate(url: str, rows: int) -> None:
    from sqlalchemy import insert

    from musharaka.state.db import get_engine, reset_tables
    from musharaka.state.tables import Contribution

    reset_tables()
    rng = np.random.default_rng(7)
    ar, en = comments(rng, AR, rows), comments(rng, EN, rows)
    audiences = np.array(["students", "researchers", "innovators"])[rng.integers(0, 3, rows)]
    channels = np.array(["website", "e-survey"])[rng.integers(0, 2, rows)]
    governorates = np.array(["muscat", "dhofar", "batinah", "dakhiliyah"])[rng.integers(0, 4, rows)]
    seconds = np.sort(rng.integers(0, 30 * 86400, rows))
    likert = rng.integers(1, 6, size=(rows, 2))
    speed = rng.integers(1, 8, rows)
    heard = np.array(["website", "friend", "social", "school"])[rng.integers(0, 4, rows)]
    device = np.array(["phone", "computer", "tablet"])[rng.integers(0, 3, rows)]
    services = rng.random((rows, 4)) < 0.4
    wants = rng.random((rows, 5)) < 0.3
    ages = rng.integers(16, 70, rows)
    s_names = ["admission", "equivalency", "scholarships", "research"]
    w_names = ["chat", "tracking", "arabic", "english", "faster"]
    engine = get_engine()
    chunk = 50_000
    with engine.begin() as connection:
        for start in range(0, rows, chunk):
            batch = []
            for i in range(start, min(rows, start + chunk)):
                answers = {
                    "overall": float(likert[i, 0]),
                    "ease": float(likert[i, 1]),
                    "speed": float(speed[i]),
                    "heard": heard[i],
                    "device": device[i],
                    "services": [s for s, on in zip(s_names, services[i], strict=True) if on],
                    "wants": [w for w, on in zip(w_names, wants[i], strict=True) if on],
                    "age": float(ages[i]),
                    "comment-ar": ar[i],
                    "comment-en": en[i],
                }
                batch.append(
                    {
                        "campaign_id": CAMPAIGN,
                        "batch": "1",
                        "row_key": f"r{i}",
                        "submitted_at": T0 + timedelta(seconds=int(seconds[i])),
                        "channel": channels[i],
                        "audience": audiences[i],
                        "answers": json.dumps(answers, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
                        "participant": "",
                        "segments": json.dumps({"governorate": governorates[i]}),
                        "source": "google-forms",
                    }
                )
            connection.execute(insert(Contribution), batch)


def run_musharaka() -> Iterator[None]:
    from sqlmodel import Session

    from musharaka.stages import analyse, conduct
    from musharaka.stages.plans import CampaignPlan
    from musharaka.state.db import get_engine
    from musharaka.state.frames import contributions_frame
    from tests.stages.test_conduct import PLANNED

    plan = CampaignPlan.model_validate(plan_dict())
    now = datetime(2025, 9, 1, tzinfo=UTC)
    yield  # the clock starts here: imports and the plan are ready
    with Session(get_engine()) as session:
        contributions = contributions_frame(CAMPAIGN, session=session)
    conducted = conduct.run(conduct.Inputs(plan=PLANNED, contributions=contributions), plan, now)
    result = analyse.analysis(contributions, plan, conducted)
    assert conducted.total == len(contributions) and result.satisfaction is not None


def run_baseline() -> Iterator[None]:
    import pandas as pd
    from sqlalchemy import text as sql

    from musharaka.stages import stats, text
    from musharaka.state.db import get_engine

    get_engine()
    text.stop_words()
    yield  # the clock starts here
    with get_engine().connect() as connection:
        df = pd.read_sql(
            sql(
                "select submitted_at, channel, audience, answers, segments from contribution "
                "where campaign_id = :c order by submitted_at, id"
            ),
            connection,
            params={"c": CAMPAIGN},
        )
    answers = pd.DataFrame(df["answers"].map(json.loads).tolist())
    governorate = pd.DataFrame(df["segments"].map(json.loads).tolist())["governorate"]
    df["submitted_at"] = pd.to_datetime(df["submitted_at"], utc=True, format="mixed")
    figures: dict = {
        "channel": df["channel"].value_counts(),
        "audience": df["audience"].value_counts(),
        "day": df["submitted_at"].dt.tz_convert("Asia/Muscat").dt.tz_localize(None).dt.normalize().value_counts(),
    }
    for q, scale in (("overall", 5), ("ease", 5), ("speed", 7)):
        x = answers[q].astype(float)
        n, mean, sd = int(x.count()), x.mean(), x.std()
        half = stats.t95(n - 1) * sd / math.sqrt(n)
        top = int((x >= scale - 1).sum())
        figures[q] = (x.round().value_counts(), mean - half, mean + half, stats.wilson(top, n))
        figures[q + "-by"] = [pd.crosstab(df["audience"], x), pd.crosstab(governorate, x)]
        figures[q + "-means"] = [x.groupby(df["audience"]).mean(), x.groupby(governorate).mean()]
    index = pd.concat(
        [(answers[q].astype(float) - 1) / (s - 1) * 100 for q, s in (("overall", 5), ("ease", 5), ("speed", 7))],
        axis=1,
    ).mean(axis=1)
    figures["satisfaction"] = (index.mean(), index.std())
    for q in ("heard", "device"):
        figures[q] = (
            answers[q].value_counts(),
            pd.crosstab(df["audience"], answers[q]),
            pd.crosstab(governorate, answers[q]),
        )
    for q in ("services", "wants"):
        chosen = answers[q][answers[q].str.len() > 0].explode()
        group = df["audience"].loc[chosen.index]
        figures[q] = (chosen.value_counts(), pd.crosstab(group.to_numpy(), chosen.to_numpy()))
        figures[q + "-gov"] = pd.crosstab(governorate.loc[chosen.index].to_numpy(), chosen.to_numpy())
    age = answers["age"].astype(float)
    figures["age"] = (age.mean(), age.std())
    for q in ("comment-ar", "comment-en"):
        given = answers[q].value_counts()  # each distinct comment normalised once, as the engine does
        s = pd.Series(given.index, dtype=object).str.translate(text._DIGITS)
        s = s.str.replace(text._TASHKEEL, "", regex=True)
        s = s.str.translate(text._LETTERS).str.lower().str.replace(text._TATWEEL, "", regex=True)
        s = s.str.replace(text._NOT_WORD, " ", regex=True).str.split().str.join(" ")
        s = answers[q].map(dict(zip(given.index, s, strict=True)))
        counts = s.value_counts()
        figures[q + "-repeats"] = int((counts[counts > 1] - 1).sum())
        padded = " " + s + " "
        figures[q + "-themes"] = [
            int((padded.str.contains(" upload ", regex=False) | padded.str.contains(" رفع ", regex=False)).sum()),
            int((padded.str.contains(" slow ", regex=False) | padded.str.contains(" بطيئه ", regex=False)).sum()),
        ]
        terms = s.str.split().map(set).explode().value_counts()
        figures[q + "-terms"] = terms[~terms.index.isin(text.stop_words())].head(15)
        figures[q + "-near"] = text.near_duplicates(s, 0.8)


def child(side: str) -> None:
    steps = (run_musharaka if side == "musharaka" else run_baseline)()
    next(steps)
    start = time.perf_counter()
    next(steps, None)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"side": side, "seconds": seconds, "peak_mb": peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", default="sqlite:///var/bench-analyse.db")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each side, interleaved; the best counts")
    parser.add_argument("--child", choices=["musharaka", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--skip-generate", action="store_true", help="reuse the database of a previous run")
    args = parser.parse_args()
    os.environ["MUSHARAKA_DATABASE_URL"] = args.database
    if args.child:
        child(args.child)
        return
    if not args.skip_generate:
        Path("var").mkdir(exist_ok=True)
        start = time.perf_counter()
        generate(args.database, args.rows)
        print(f"generated and bulk-inserted {args.rows:,} rows in {time.perf_counter() - start:.1f} s")
    best: dict[str, dict] = {}
    for _ in range(args.repeat):
        for side in ("baseline", "musharaka"):
            out = subprocess.run(
                [sys.executable, __file__, "--database", args.database, "--child", side],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            result = json.loads(out.strip().splitlines()[-1])
            print(f"{side:10} {result['seconds']:8.2f} s  peak {result['peak_mb']:7.0f} MB")
            if side not in best or result["seconds"] < best[side]["seconds"]:
                best[side] = result
    ratio = best["musharaka"]["seconds"] / best["baseline"]["seconds"]
    print(
        f"best of {args.repeat}: musharaka {best['musharaka']['seconds']:.2f} s, baseline "
        f"{best['baseline']['seconds']:.2f} s, ratio {ratio:.2f}x"
    )


if __name__ == "__main__":
    main()
