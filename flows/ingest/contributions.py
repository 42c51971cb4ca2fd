"""Turning an exported file into contributions: columns mapped onto the plan, cells checked, people pseudonymised.

Work is column-wise, one chunk of rows at a time (pandas), so a national campaign's million rows are
read in bounded memory. A row that cannot be taken is quarantined with its row number and reasons;
nothing is dropped silently. Values that identify people never leave this module raw.
"""

import hashlib
import hmac
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from musharaka.flows.ingest.answers import DIGITS, resolver
from musharaka.flows.ingest.columns import PARTICIPANT_ORDER, Layout, QuestionColumns, norm
from musharaka.flows.ingest.sources import Export, Tool
from musharaka.stages.plans import BudgetRule, CampaignPlan, Window
from musharaka.state.events import content_text, text_digest


@dataclass(frozen=True)
class Context:
    """What checking a row needs beyond the row: the plan, the window on record, and defaults."""

    plan: CampaignPlan
    window: Window
    channel: str | None  # the channel of rows whose file names none
    secret: bytes


@dataclass
class Prepared:
    """One chunk's rows, ready to store, and the rows quarantined with their reasons."""

    rows: pd.DataFrame  # row, key, digest, submitted_at, channel, audience, participant, segments, answers
    quarantined: list[dict[str, Any]]  # row, key, reasons, cells
    # cells of unmapped columns that look like people's data: (column, what they look like) -> how many
    lookalikes: Counter[tuple[int, str]] = field(default_factory=Counter)


def prepare(chunk: pd.DataFrame, first_row: int, found: Layout, context: Context) -> Prepared:
    """Check and normalise one chunk of cells (all text) into rows to store and rows to quarantine.

    Each column is worked once per distinct value (pandas.factorize), so a million rows with a few
    hundred distinct answers cost a few hundred checks, and the stored JSON is assembled column-wise.
    """
    plan, tool = context.plan, found.tool
    n = len(chunk)
    problems: dict[str, np.ndarray] = {}  # field -> message per row (None where fine)

    submitted = _instants(_first_filled(chunk, found.times), tool, context.window, problems, tool.times[0])
    channel = _channel(chunk, found, context, problems)
    values: dict[str, np.ndarray] = {}
    fragments: dict[str, np.ndarray] = {}
    for mapped in found.questions:
        qid = mapped.question.id
        values[qid], fragments[qid], problems[qid] = _answers(chunk, mapped, tool, _ballot_of(plan, qid))
    audience = _audience(chunk, found, plan, values, problems)

    bad = np.zeros(n, dtype=bool)
    for messages in problems.values():
        bad |= messages != None  # noqa: E711  (elementwise over an object array)
    pseudonyms = {c: _pseudonyms(chunk[c], kind, context.secret) for c, kind in found.identity.items()}
    participant = _participant(found, pseudonyms, n)
    keys = _response_keys(chunk, found)
    rows = np.arange(first_row, first_row + n)
    quarantined = _quarantined(chunk, found, problems, pseudonyms, keys, rows, bad) if bad.any() else []

    good = ~bad
    picked = [column[good].tolist() for _, column in sorted(fragments.items())]
    answers = (
        ["{" + ",".join(parts) + "}" for parts in zip(*picked, strict=True)] if picked else ["{}"] * int(good.sum())
    )
    parts_of_segments = []
    for segment, column in sorted(found.segments.items()):
        codes, uniques = pd.factorize(chunk[column].astype(str).str.strip())
        texts = _object([f"{json.dumps(segment)}:{json.dumps(u or None, ensure_ascii=False)}" for u in uniques])
        parts_of_segments.append(texts[codes][good].tolist())
    segments = ["{" + ",".join(parts) + "}" for parts in zip(*parts_of_segments, strict=True)]
    if not parts_of_segments:
        segments = ["{}"] * len(answers)
    moments = submitted[good]
    micros = moments.astype("int64").tolist()
    channels, audiences, people = channel[good].tolist(), audience[good].tolist(), participant[good].tolist()
    digests = _object(
        [
            text_digest(content_text(m, c, a, p, g, t))
            for m, c, a, p, g, t in zip(micros, channels, audiences, people, segments, answers, strict=True)
        ]
    )
    stored: dict[str, Any] = {
        "row": rows[good],
        "submitted_at": moments,
        "channel": channels,
        "audience": audiences,
        "participant": people,
        "segments": segments,
        "answers": answers,
    }
    own = keys[good] if keys is not None else None
    stored["digest"] = digests
    stored["key"] = digests if own is None else np.where(own != "", own, digests)
    return Prepared(pd.DataFrame(stored), quarantined, _lookalikes(chunk, found))


def _object(items: list[Any] | np.ndarray) -> "np.ndarray[Any, np.dtype[np.object_]]":
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array


def _quarantined(
    chunk: pd.DataFrame,
    found: Layout,
    problems: dict[str, np.ndarray],
    pseudonyms: dict[int, np.ndarray],
    keys: np.ndarray | None,
    rows: np.ndarray,
    bad: np.ndarray,
) -> list[dict[str, Any]]:
    """The bad rows with their reasons, and the cells of their mapped columns as read (people's data
    pseudonymised as in stored rows); a column mapped to nothing is not kept, whatever it holds."""
    names = _cell_names(found.header)
    kept = found.kept()
    held = []
    for position in map(int, np.flatnonzero(bad)):
        reasons = [str(m[position]) for m in problems.values() if m[position] is not None]
        cells = {names[c]: (pseudonyms[c][position] if c in pseudonyms else str(chunk.iat[position, c])) for c in kept}
        cells_text = json.dumps(cells, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        key = keys[position] if keys is not None and keys[position] else text_digest(cells_text)
        held.append({"row": int(rows[position]), "key": key, "reasons": "\n".join(reasons), "cells": cells_text})
    return held


# What people's data looks like in a cell, its digits made ASCII first: an e-mail anywhere in the text; an
# Emirates ID; a number dialled internationally or written with a phone's separators; a bare run of 8 to 15
# digits, a phone number or a national id (a civil number has 8 or 9, a Saudi id 10, an Emirates ID 15).
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII)
NUMBERS = (  # whole cells, the first that matches says what the cell looks like
    ("national ids", r"784-?\d{4}-?\d{7}-?\d"),
    ("phone numbers", r"(?:\+|00)\d[\d ().-]{6,18}\d|\(?\d{2,4}\)?[ .-]\d{3,4}[ .-]?\d{3,4}|\d{3,4}[ .-]\d{4}"),
    ("phone numbers or national ids", r"\d{8,15}"),
)
# the same, over many cells at once, one a line: one scan of the text finds them all (the first alternative
# that matches a whole line names it)
_NUMBER_LINES = re.compile(
    "^[ \t]*(?:" + "|".join(f"({pattern})" for _, pattern in NUMBERS) + ")[ \t]*$", re.ASCII | re.MULTILINE
)


def looks_like(value: str) -> str | None:
    """What kind of people's data a cell looks like, if any."""
    cell = value.translate(DIGITS)
    return _kinds([cell]).get(cell)


def _kinds(cells: list[str]) -> dict[str, str]:
    """Of cells (digits made ASCII), those that look like people's data, and what they look like."""
    text = "\n".join(cells)  # a line of a cell written on several lines matches no whole cell: it counts nowhere
    kinds = {cell: "e-mail addresses" for cell in cells if "@" in cell and EMAIL.search(cell)} if "@" in text else {}
    for found in _NUMBER_LINES.finditer(text):  # none allows an @: an e-mail stays an e-mail
        kinds.setdefault(found[0], NUMBERS[found.lastindex - 1 if found.lastindex else 0][0])
    return kinds


def _lookalikes(chunk: pd.DataFrame, found: Layout) -> Counter[tuple[int, str]]:
    """How many cells of each unmapped column look like e-mails, phone numbers or national ids: read to
    warn whoever ingests the file, never kept. Each distinct value is looked at once, all in one scan."""
    counted: Counter[tuple[int, str]] = Counter()
    for column in found.unmapped:
        codes, uniques = pd.factorize(chunk[column].astype(str))
        cells = [str(value) for value in np.asarray(uniques, dtype=object).tolist()]
        if ARABIC_DIGIT.search("".join(cells)):
            cells = [cell.translate(DIGITS) for cell in cells]
        kinds = _kinds(cells)
        if not kinds:
            continue
        for cell, times in zip(cells, np.bincount(codes[codes >= 0], minlength=len(cells)).tolist(), strict=True):
            if cell in kinds:
                counted[column, kinds[cell]] += times
    return counted


def _cell_names(header: list[str]) -> list[str]:
    """Names for a quarantined row's cells: the header, made unique (blank and repeated headers happen)."""
    names: list[str] = []
    for i, name in enumerate(header):
        name = name or f"column {i + 1}"
        names.append(name if name not in names else f"{name} ({i + 1})")
    return names


def _first_filled(chunk: pd.DataFrame, columns: tuple[int, ...]) -> pd.Series:
    """Per row, the first of the columns that is not empty (KoboToolbox: `end`, else `_submission_time`)."""
    cells = chunk[columns[0]].astype(str).str.strip()
    for column in columns[1:]:
        cells = cells.where(cells != "", chunk[column].astype(str).str.strip())
    return cells


ZONED = re.compile(r"(?:[zZ]|[+-]\d{2}:?\d{2})$")


ZONED_LINE = re.compile(r"(?:[zZ]|[+-]\d{2}:?\d{2})$", re.MULTILINE)


ARABIC_DIGIT = re.compile("[٠-٩۰-۹]")


def _instants(cells: pd.Series, tool: Tool, window: Window, problems: dict[str, np.ndarray], name: str) -> np.ndarray:
    """Times as UTC instants (naive datetime64 in UTC): zone-less ones in the form's zone (UTC where the
    tool writes UTC); a time that cannot be read, or lies outside the window, is the row's problem."""
    raw = cells.astype(str).str.strip()
    whole = "\n".join(raw.tolist())  # one scan of the chunk finds out whether the per-row work is needed
    if ARABIC_DIGIT.search(whole):
        raw = raw.str.translate(DIGITS)
    zoned = raw.str.contains(ZONED) if ZONED_LINE.search(whole) else pd.Series(False, index=raw.index)
    result = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us, UTC]")
    if zoned.any():
        result = result.fillna(pd.to_datetime(raw.where(zoned), utc=True, errors="coerce", format="ISO8601"))
    pending = ~zoned & (raw != "")
    naive = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us]")
    for form in (*tool.formats, "ISO8601"):
        if not pending.any():
            break
        parsed = pd.to_datetime(raw.where(pending), errors="coerce", format=form)
        naive = naive.fillna(parsed)
        pending &= parsed.isna()
    zone = "UTC" if tool.naive == "utc" else window.timezone
    localised = naive.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    result = result.fillna(localised).dt.as_unit("us")
    messages = np.full(len(raw), None, dtype=object)
    unreadable = result.isna().to_numpy()
    if unreadable.any():
        example = (tool.formats[0] if tool.formats else "%Y-%m-%dT%H:%M:%S%z").replace("%", "")
        messages[unreadable] = [
            f"{name}: expected a date and time ({example}), found {value!r}" for value in cells[unreadable]
        ]
    opens, closes = pd.Timestamp(window.opens_at()), pd.Timestamp(window.closes_at())
    outside = ~unreadable & ((result < opens) | (result >= closes)).to_numpy()
    if outside.any():
        messages[outside] = [
            f"{name}: expected a time inside the participation window {window.opens} to {window.closes} "
            f"({window.timezone}), found {value!r}"
            for value in cells[outside]
        ]
    problems[name] = messages
    instants: np.ndarray = result.dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    return instants


def _by_value(cells: pd.Series, resolve: Any) -> tuple[np.ndarray, list[Any]]:
    """`resolve` applied once per distinct cell: the codes of each row, and the results per distinct value."""
    codes, uniques = pd.factorize(cells)
    return codes, [resolve(value) for value in uniques]


def _channel(chunk: pd.DataFrame, found: Layout, context: Context, problems: dict[str, np.ndarray]) -> np.ndarray:
    n = len(chunk)
    problems["channel"] = np.full(n, None, dtype=object)
    if found.channel is None:
        return np.full(n, context.channel, dtype=object)
    channels = list(context.plan.channels)

    def check(value: str) -> tuple[str, str | None]:
        channel = value.strip() or context.channel or ""
        return channel, None if channel in channels else f"channel: expected one of {channels}, found {value!r}"

    codes, results = _by_value(chunk[found.channel].astype(str), check)
    problems["channel"] = _object([r[1] for r in results])[codes]
    picked: np.ndarray = _object([r[0] for r in results])[codes]
    return picked


def _audience(
    chunk: pd.DataFrame,
    found: Layout,
    plan: CampaignPlan,
    values: dict[str, np.ndarray],
    problems: dict[str, np.ndarray],
) -> np.ndarray:
    n = len(chunk)
    ids = sorted(a.id for a in plan.audiences)
    problems["audience"] = np.full(n, None, dtype=object)
    if found.audience is not None:
        names = {norm(a.id): a.id for a in plan.audiences}
        names.update({norm(a.name.en): a.id for a in plan.audiences})
        names.update({norm(a.name.ar): a.id for a in plan.audiences})
        codes, results = _by_value(chunk[found.audience].astype(str), lambda v: (names.get(norm(v)), v))
        audience, cells, where = (
            _object([r[0] for r in results])[codes],
            _object([r[1] for r in results])[codes],
            "audience",
        )
    elif plan.ingest.audience_question is not None:
        where = plan.ingest.audience_question
        audience = values.get(where, np.full(n, None, dtype=object))
        cells = np.where(audience == None, "", audience)  # noqa: E711
    else:
        return np.full(n, plan.ingest.audience or ids[0], dtype=object)
    wrong = audience == None  # noqa: E711
    if wrong.any():
        problems["audience"][wrong] = [
            f"{where}: expected one of the audiences {ids}, found {v!r}" for v in cells[wrong]
        ]
    return np.where(wrong, "", audience)


def _ballot_of(plan: CampaignPlan, question_id: str) -> BudgetRule | None:
    """The plan's participatory budget when `question_id` is its ballot: the limits a ballot is read against."""
    budget = plan.analysis.budget
    return budget if budget is not None and budget.question == question_id else None


def _answers(
    chunk: pd.DataFrame, mapped: QuestionColumns, tool: Tool, budget: BudgetRule | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One question's answers: the typed values, their JSON text as stored, and each row's problem (or None)."""
    question = mapped.question
    if len(mapped.columns) > 1 or (mapped.sublabels and question.type == "multiple"):
        cells = _joined(chunk, mapped)
        separator = "\x1f"
    else:
        cells = chunk[mapped.columns[0]].astype(str)
        separator = tool.separator
    codes, results = _by_value(cells, resolver(question, separator, budget))
    typed = _object([r[0] for r in results])
    key = json.dumps(question.id, ensure_ascii=False)
    texts = _object([f"{key}:{json.dumps(r[0], ensure_ascii=False)}" for r in results])
    messages = _object([r[1] for r in results])
    return typed[codes], texts[codes], messages[codes]


def _joined(chunk: pd.DataFrame, mapped: QuestionColumns) -> pd.Series:
    """SurveyMonkey's columns of one question as one cell: the options chosen, joined by \\x1f."""
    parts = []
    for column, label in zip(mapped.columns, mapped.sublabels, strict=True):
        cells = chunk[column].astype(str).str.strip()
        chosen = label if label and norm(label) not in ("response", "open-ended response") else None
        parts.append(cells.where(cells == "", chosen if chosen else cells))
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + "\x1f" + part
    return joined.str.strip("\x1f").str.replace(r"\x1f+", "\x1f", regex=True)


def _pseudonyms(cells: pd.Series, kind: str, secret: bytes) -> np.ndarray:
    """HMAC-SHA256 of each normalised value under the secret: the same person, the same pseudonym."""

    keyed = hmac.new(secret, digestmod=hashlib.sha256)

    def one(value: str) -> str:
        text = value.strip()
        if not text or text.casefold() == "anonymous":  # Microsoft Forms' word for "not collected"
            return ""
        if kind == "email":
            text = text.casefold()
        elif kind == "phone":
            text = re.sub(r"\D", "", text.translate(DIGITS), flags=re.ASCII)
        elif kind == "national-id":
            text = text.translate(DIGITS).replace(" ", "").upper()
        mac = keyed.copy()
        mac.update(f"{kind}:{text}".encode())
        return mac.hexdigest()

    codes, results = _by_value(cells.astype(str), one)
    picked: np.ndarray = _object(results)[codes]
    return picked


def _participant(found: Layout, pseudonyms: dict[int, np.ndarray], n: int) -> np.ndarray:
    """The person's pseudonym, from the most reliable identity the row has; "" when it has none."""
    participant = np.full(n, "", dtype=object)
    for kind in reversed(PARTICIPANT_ORDER):
        for column, column_kind in found.identity.items():
            if column_kind == kind:
                values = pseudonyms[column]
                participant = np.where(values != "", values, participant)
    return participant


def _response_keys(chunk: pd.DataFrame, found: Layout) -> np.ndarray | None:
    """The tool's own response ids as row keys (`tool:id`, hashed when longer than a key may be)."""
    if found.response_id is None:
        return None
    prefix = found.tool.name + ":"

    def key(value: str) -> str:
        text = value.strip()
        return "" if not text else (prefix + text if len(prefix + text) <= 64 else text_digest(prefix + text))

    codes, results = _by_value(chunk[found.response_id].astype(str), key)
    keys: np.ndarray = _object(results)[codes]
    return keys


def chunks_of(export: Export) -> Iterator[tuple[int, pd.DataFrame]]:
    """Each chunk with the row number of its first row."""
    row = export.first_row
    for chunk in export.chunks:
        yield row, chunk
        row += len(chunk)
