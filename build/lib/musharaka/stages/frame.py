"""Contributions as one pandas DataFrame: the shape the conduct and analyse stages compute on.

Columns (one row per stored contribution, in submission order):

- `submitted_at`: datetime64 in UTC;
- `channel`, `audience`, `participant`, `source`: str (as stored; `participant` is a pseudonym or "");
- `q:<question id>`: the answer to that question (float64 when every answer is a number, else
  objects): an option id (single), a list of option
  ids (multiple), a float (likert, number), a str (text), a list of project ids or a {project: points}
  dict (ballot); None/NaN when unanswered;
- `s:<segment field>`: the segment value the plan names (governorate, age band, ...), str or None.

Building it expands every JSON document in one call (a JSON array of the rows), never row by row.
"""

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

ANSWER = "q:"
SEGMENT = "s:"
BASE = ("submitted_at", "channel", "audience", "participant", "source")


def from_json(
    submitted_at: Sequence[Any],
    channel: Sequence[str],
    audience: Sequence[str],
    answers: Sequence[str],
    participant: Sequence[str] | None = None,
    source: Sequence[str] | None = None,
    segments: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The frame of stored rows whose `answers` and `segments` are canonical JSON objects."""
    n = len(answers)
    base = pd.DataFrame(
        {
            "submitted_at": _instants(submitted_at) if n else pd.Series([], dtype="datetime64[ns, UTC]"),
            "channel": pd.Series(channel, dtype=object),
            "audience": pd.Series(audience, dtype=object),
            "participant": pd.Series(participant if participant is not None else [""] * n, dtype=object),
            "source": pd.Series(source if source is not None else ["csv"] * n, dtype=object),
        }
    )
    parts = [base, _expand(answers, ANSWER)]
    if segments is not None:
        parts.append(_expand(segments, SEGMENT))
    return pd.concat(parts, axis=1)


def from_records(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """The frame of plain records ({submitted_at, channel, audience, answers, [segments, ...]}): for tests and demos."""
    rows = list(records)
    return from_json(
        [r["submitted_at"] for r in rows],
        [r["channel"] for r in rows],
        [r["audience"] for r in rows],
        [json.dumps(r.get("answers", {}), ensure_ascii=False) for r in rows],
        [r.get("participant", "") for r in rows],
        [r.get("source", "csv") for r in rows],
        [json.dumps(r.get("segments", {}), ensure_ascii=False) for r in rows],
    )


def _instants(values: Sequence[Any]) -> pd.Series:
    """UTC instants from datetimes or ISO texts (a zone-less text is UTC, as the table stores it)."""
    series = pd.Series(values, dtype=object)
    try:
        return pd.to_datetime(series, utc=True, format="ISO8601")
    except ValueError:  # a mix of datetimes and texts
        return pd.to_datetime(series, utc=True, format="mixed")


def _expand(documents: Sequence[str], prefix: str) -> pd.DataFrame:
    parsed: list[dict[str, Any]] = json.loads("[" + ",".join(documents) + "]") if len(documents) else []
    frame = pd.DataFrame.from_records(parsed, columns=None) if parsed else pd.DataFrame(index=range(len(documents)))
    frame.columns = [prefix + str(c) for c in frame.columns]
    return frame  # numbers become float64 columns; anything else stays as parsed


def answers(frame: pd.DataFrame, question: str) -> pd.Series:
    """The answers to one question (all None when nobody answered it)."""
    column = ANSWER + question
    if column in frame.columns:
        return frame[column]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def segment_fields(frame: pd.DataFrame) -> list[str]:
    return sorted(c[len(SEGMENT) :] for c in frame.columns if c.startswith(SEGMENT))


def given(series: pd.Series) -> pd.Series:
    """True where an answer was given (not None/NaN, not "", not an empty list)."""
    present = series.notna()
    try:
        lengths = series.str.len()  # vectorised over str and list values; NaN for numbers
    except AttributeError:  # no str or list value at all
        return present
    return present & ~(lengths == 0)


def utc(moment: datetime) -> pd.Timestamp:
    return pd.Timestamp(moment).tz_convert("UTC")
