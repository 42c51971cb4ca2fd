"""What the tools ministries use export, read as they write it: the tool, its header, and its rows.

Each tool's quirks are data in `tools.TOOLS`; reading yields chunks of
cells as text, so a file of a million rows never sits in memory whole. Mapping the columns onto a
plan's questions is `flows.contributions`' work.
"""

import codecs
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pandas as pd

from musharaka.flows.ingest.tools import TOOLS as TOOLS
from musharaka.flows.ingest.tools import Tool as Tool
from musharaka.flows.ingest.tools import UnreadableFile as UnreadableFile

CHUNK_ROWS = 100_000


@dataclass
class Export:
    """A file as its tool wrote it: the header, sub-labels (SurveyMonkey), and its rows in chunks."""

    path: Path
    tool: Tool
    header: list[str]
    sublabels: list[str] = field(default_factory=list)  # SurveyMonkey's second header row
    first_row: int = 2  # the row number (as a spreadsheet shows it) of the first response
    size: int = 0  # bytes, for progress
    chunks: Iterator[pd.DataFrame] = field(default_factory=lambda: iter(()))  # str cells, columns 0..n-1


def open_export(path: Path, source: str | None = None) -> Export:
    """Read the file's header and tell which tool wrote it (or take `source`); rows come lazily."""
    if source is not None and source not in TOOLS:
        raise UnreadableFile([f"{path}: --source: expected one of {sorted(TOOLS)}, found {source!r}"])
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx(path, source)
    if suffix in (".jsonl", ".ndjson"):
        return _jsonl(path)
    if suffix == ".pb" or source == "pabulib":
        return _pabulib(path)
    return _csv(path, source)


def detect(header: list[str]) -> Tool | None:
    """The tool whose own columns the header has."""
    names = {h.strip() for h in header}
    lowered = {h.casefold() for h in names}
    if "_uuid" in names or "_submission_time" in names:
        return TOOLS["kobo"]
    if "SubmissionDate" in names and ("KEY" in names or "meta-instanceID" in names):
        return TOOLS["odk"]
    if "Respondent ID" in names and "Collector ID" in names:
        return TOOLS["surveymonkey"]
    if "ID" in names and ("Completion time" in names or "Start time" in names):
        return TOOLS["ms-forms"]
    if "timestamp" in lowered:
        return TOOLS["google-forms"]
    if "submitted_at" in names:
        return TOOLS["csv"]
    return None


def _unknown(path: Path, header: list[str]) -> UnreadableFile:
    shown = ", ".join(header[:6]) + (", …" if len(header) > 6 else "")
    return UnreadableFile(
        [
            f"{path}:1: header: expected the columns of a known tool (Google Forms `Timestamp`, Microsoft Forms "
            "`ID, Start time, Completion time`, KoboToolbox `_uuid`, ODK Central `SubmissionDate, KEY`, "
            f"SurveyMonkey `Respondent ID, Collector ID`, or `submitted_at`), found {shown}; "
            f"name the tool with --source ({', '.join(sorted(TOOLS))})"
        ]
    )


def _text(path: Path, head: bytes) -> str:
    """The sample at the head of a file as text: a character cut at its end is left for the full read."""
    body = head.removeprefix(codecs.BOM_UTF8)  # Google Sheets writes one; positions below are past it
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(body, final=False)
    except UnicodeDecodeError as error:
        raise UnreadableFile(
            [f"{path}: expected UTF-8 text (as the tools export it), found byte 0x{body[error.start]:02x}"]
        ) from None


def _csv(path: Path, source: str | None) -> Export:
    size = path.stat().st_size
    with path.open("rb") as handle:
        sample = _text(path, handle.read(256 * 1024))
    if not sample.strip():
        raise UnreadableFile([f"{path}: expected a header and rows, found an empty file"])
    separator = _separator(sample)
    rows = csv.reader(io.StringIO(sample, newline=""), delimiter=separator)
    header = [h.strip() for h in next(rows)]
    tool = TOOLS[source] if source else detect(header)
    if tool is None:
        raise _unknown(path, header)
    second = next(rows, [])
    skip, sublabels = 1, []
    if tool.name == "surveymonkey":
        skip, sublabels = 2, [s.strip() for s in second]
    elif second and all(cell.startswith("#") for cell in second if cell.strip()) and any(second):
        skip = 2  # KoboToolbox's optional row of HXL tags
    export = Export(path, tool, header, sublabels, first_row=skip + 1, size=size)
    export.chunks = _csv_chunks(path, separator, skip, len(header))
    return export


def _separator(sample: str) -> str:
    """`;` (KoboToolbox, European locales), tab or `,`: whichever splits the header into most columns."""
    first = sample.splitlines()[0] if sample else ""
    counts = {sep: len(next(csv.reader([first], delimiter=sep))) for sep in (",", ";", "\t")}
    return max(counts, key=lambda sep: counts[sep])


def _csv_chunks(path: Path, separator: str, skip: int, width: int) -> Iterator[pd.DataFrame]:
    try:
        reader = pd.read_csv(
            path,
            sep=separator,
            header=None,
            skiprows=skip,
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
            chunksize=CHUNK_ROWS,
            names=list(range(width)),
            index_col=False,
            skip_blank_lines=True,
        )
        yield from reader
    except UnicodeDecodeError as error:
        raise UnreadableFile([f"{path}: expected UTF-8 text, found byte 0x{error.object[error.start]:02x}"]) from None
    except (pd.errors.ParserError, ValueError) as error:
        raise UnreadableFile([f"{path}: expected {width} columns a row, as in the header: {error}"]) from None


def _cell(value: Any) -> str:
    """A spreadsheet cell as the text a person sees (dates in ISO 8601, whole numbers without `.0`)."""
    if value is None:
        return ""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx(path: Path, source: str | None) -> Export:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as error:
        raise UnreadableFile([f"{path}: expected an Excel workbook (.xlsx), found {error}"]) from None
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [_cell(h).strip() for h in next(rows, ())]
    while header and not header[-1]:
        header.pop()
    tool = TOOLS[source] if source else detect(header)
    if tool is None:
        raise _unknown(path, header)
    width = len(header)

    def chunks() -> Iterator[pd.DataFrame]:
        batch: list[list[str]] = []
        for row in rows:
            cells = [_cell(v) for v in row[:width]]
            batch.append(cells + [""] * (width - len(cells)))
            if len(batch) == CHUNK_ROWS:
                yield pd.DataFrame(batch, columns=range(width), dtype=object)
                batch = []
        if batch:
            yield pd.DataFrame(batch, columns=range(width), dtype=object)
        book.close()

    return Export(path, tool, header, size=path.stat().st_size, chunks=chunks())


def _jsonl(path: Path) -> Export:
    """One JSON object a line; a list value is a multiple choice. The header is every key, in order."""
    keys: dict[str, None] = {}
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            record = _record(path, number, line)
            keys.update(dict.fromkeys(record))
    header = list(keys)
    if "submitted_at" not in keys:
        raise UnreadableFile([f"{path}:1: submitted_at: expected every object to have it, found keys {header[:6]}"])

    def chunks() -> Iterator[pd.DataFrame]:
        batch: list[list[str]] = []
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                record = _record(path, number, line)
                batch.append([_json_cell(record.get(k)) for k in header])
                if len(batch) == CHUNK_ROWS:
                    yield pd.DataFrame(batch, columns=range(len(header)), dtype=object)
                    batch = []
        if batch:
            yield pd.DataFrame(batch, columns=range(len(header)), dtype=object)

    return Export(path, TOOLS["jsonl"], header, first_row=1, size=path.stat().st_size, chunks=chunks())


def _pabulib(path: Path) -> Export:
    """A participatory budget's votes: one row per voter, the ballot as `project` or `project:points` joined
    with `,`. The file records no time per vote: every vote is dated by META `date_end` (else `date_begin`),
    the close of voting, at midnight in the form's zone."""
    from musharaka.stages.pabulib import PbError, parse

    try:
        instance = parse(path.read_bytes().decode("utf-8-sig"), str(path))
    except UnicodeDecodeError as error:
        raise UnreadableFile([f"{path}: expected UTF-8 text, found byte 0x{error.object[error.start]:02x}"]) from None
    except PbError as error:
        raise UnreadableFile([str(error)]) from None
    when = _pb_date(instance.meta.get("date_end") or instance.meta.get("date_begin") or "")
    if when is None:
        raise UnreadableFile(
            [f"{path}: META date_end: expected the date voting closed (e.g. 2020-06-30 or 30.06.2020), found none"]
        )
    segments = sorted({key for vote in instance.votes for key in vote.segments})
    header = ["voter_id", "voted_at", "vote", *segments]
    rows = [
        [
            vote.voter_id,
            when,
            ",".join(f"{project}:{points:g}" for project, points in zip(vote.ballot, vote.points, strict=True))
            if vote.points
            else ",".join(vote.ballot),
            *(vote.segments.get(key, "") for key in segments),
        ]
        for vote in instance.votes
    ]
    chunks = (
        pd.DataFrame(rows[i : i + CHUNK_ROWS], columns=range(len(header)), dtype=object)
        for i in range(0, len(rows), CHUNK_ROWS)
    )
    return Export(path, TOOLS["pabulib"], header, first_row=1, size=path.stat().st_size, chunks=chunks)


def _pb_date(text: str) -> str | None:
    """A META date as ISO 8601 (`2020-06-30`, `30.06.2020` and `30/06/2020` are seen in real files; a year
    alone, `2022`, is taken as its last day)."""
    text = text.strip().split(" ")[0]
    if len(text) == 4 and text.isdigit():
        return f"{text}-12-31"
    for form in ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y.%m.%d"):
        try:
            return datetime.strptime(text, form).date().isoformat()
        except ValueError:
            continue
    return None


def _record(path: Path, number: int, line: bytes) -> dict[str, Any]:
    try:
        record = json.loads(line.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UnreadableFile([f"{path}:{number}: expected a JSON object, found {error}"]) from None
    if not isinstance(record, dict):
        raise UnreadableFile([f"{path}:{number}: expected a JSON object, found {type(record).__name__}"])
    return record


def _json_cell(value: Any) -> str:
    """A JSON value as a cell: a list is a multiple choice or a ballot, `{project: points}` a ballot with points."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    if isinstance(value, dict):
        return ",".join(f"{key}:{points}" for key, points in value.items())
    return str(value)
