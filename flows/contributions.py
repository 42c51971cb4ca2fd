"""Reading a simple contributions CSV: `submitted_at, channel, audience`, then one column per question id.

Multi-select answers list option ids separated by `|`. A timestamp without a zone is read in the
campaign's time zone. One bad row rejects the whole file, with every bad row named.
"""

import csv
import hashlib
import io
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from stages.conduct import Answer, Contribution
from stages.plans import CampaignPlan, Question, Window
from state.events import contribution_key

FIXED = ("submitted_at", "channel", "audience")


@dataclass(frozen=True)
class Batch:
    """A file's contributions, each with a stable key, and the digest of the whole file."""

    file_name: str
    digest: str
    rows: list[tuple[str, Contribution]]


class ContributionsError(Exception):
    """The file cannot be ingested; `problems` names every row and column at fault."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def read_batch(path: Path, plan: CampaignPlan, window: Window) -> Batch:
    """Parse and check every row against the plan's instrument, channels and audiences, and the window."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ContributionsError([f"{path}: expected UTF-8 CSV text, found byte 0x{data[error.start]:02x}"]) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    questions = {q.id: q for q in plan.instrument}
    missing = [c for c in FIXED if c not in header]
    unknown = [c for c in header if c not in FIXED and c not in questions]
    problems = []
    if missing:
        problems.append(f"{path}:1: header: expected columns {list(FIXED)}, missing {missing}")
    if unknown:
        problems.append(f"{path}:1: header: expected question ids {sorted(questions)}, found {unknown}")
    if problems:
        raise ContributionsError(problems)
    zone = ZoneInfo(window.timezone)
    opens, closes = window.opens_at(), window.closes_at()
    audiences = {a.id for a in plan.audiences}
    rows: list[tuple[str, Contribution]] = []
    for line, row in enumerate(reader, start=2):
        where = f"{path}:{line}"
        found: list[str] = []
        submitted_at = _instant(row.get("submitted_at") or "", zone, where, found)
        if submitted_at and not opens <= submitted_at < closes:
            found.append(
                f"{where}: submitted_at: expected an instant inside the window "
                f"[{opens.isoformat()}, {closes.isoformat()}), found {row['submitted_at']}"
            )
        channel, audience = (row.get("channel") or "").strip(), (row.get("audience") or "").strip()
        if channel not in plan.channels:
            found.append(f"{where}: channel: expected one of {list(plan.channels)}, found {channel!r}")
        if audience not in audiences:
            found.append(f"{where}: audience: expected one of {sorted(audiences)}, found {audience!r}")
        answers = {qid: _answer(questions[qid], (row.get(qid) or "").strip(), where, found) for qid in questions}
        problems += found
        if not found and submitted_at:
            contribution = Contribution(submitted_at=submitted_at, channel=channel, audience=audience, answers=answers)
            key = contribution_key(submitted_at, channel, audience, answers)
            rows.append((key, contribution))
    if problems:
        raise ContributionsError(problems)
    if not rows:
        raise ContributionsError([f"{path}: expected at least one contribution row, found none"])
    return Batch(path.name, hashlib.sha256(data).hexdigest(), rows)


def _instant(value: str, zone: ZoneInfo, where: str, found: list[str]) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        found.append(
            f"{where}: submitted_at: expected an ISO 8601 time such as 2025-07-06T09:30:00+04:00, found {value!r}"
        )
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)  # the form's own zone, from the plan
    return moment.astimezone(UTC)


def _answer(question: Question, value: str, where: str, found: list[str]) -> Answer:
    field = f"{where}: {question.id}"
    if not value:
        if question.required:
            found.append(f"{field}: expected an answer (the question is required), found none")
        return None
    options = [o.id for o in question.options]
    if question.type == "single":
        if value not in options:
            found.append(f"{field}: expected one of {options}, found {value!r}")
        return value
    if question.type == "multiple":
        chosen = [v.strip() for v in value.split("|") if v.strip()]
        wrong = [v for v in chosen if v not in options]
        if wrong:
            found.append(f"{field}: expected options among {options}, found {wrong}")
        return chosen
    if question.type in ("likert", "number"):
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            found.append(f"{field}: expected a number, found {value!r}")
            return None
        if question.type == "likert" and (number != int(number) or not 1 <= number <= question.scale):
            found.append(f"{field}: expected a whole number from 1 to {question.scale}, found {value!r}")
        return number
    return value
