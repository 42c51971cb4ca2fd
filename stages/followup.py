"""Following an approved decision through: which implementation updates make sense after which."""

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlparse

Status = Literal["planned", "in-progress", "implemented", "dropped"]
STATUSES: tuple[Status, ...] = ("planned", "in-progress", "implemented", "dropped")
FINAL: tuple[Status, ...] = ("implemented", "dropped")


@dataclass(frozen=True)
class Update:
    """One implementation update as the command receives it, before it is recorded."""

    status: Status
    percent: int | None
    note: str
    evidence: str | None


@dataclass(frozen=True)
class Previous:
    """The latest recorded update, if any."""

    status: str
    percent: int


def problems(update: Update, previous: Previous | None) -> list[str]:
    """Why the update cannot be recorded after `previous`; empty when it can."""
    found: list[str] = []
    if previous is not None and previous.status in FINAL:
        found.append(f"the decision is already {previous.status}: no update can follow")
    if update.percent is not None and not 0 <= update.percent <= 100:
        found.append(f"--percent: expected a whole number from 0 to 100, found {update.percent}")
    if update.status == "in-progress" and update.percent is None:
        found.append("--percent: expected how far the work is (0-100) for in-progress, found nothing")
    if update.status == "implemented" and update.percent not in (None, 100):
        found.append(f"--percent: an implemented decision is at 100, found {update.percent}")
    if update.status == "planned" and update.percent not in (None, 0):
        found.append(f"--percent: a planned decision is at 0, found {update.percent}")
    if update.status == "dropped" and not update.note.strip():
        found.append("--note: expected the reason the decision was dropped, found nothing")
    if (
        previous is not None
        and update.status == "in-progress"
        and update.percent is not None
        and previous.status == "in-progress"
        and update.percent < previous.percent
    ):
        found.append(f"--percent: expected at least the {previous.percent}% already reported, found {update.percent}")
    if update.evidence is not None:
        link = urlparse(update.evidence)
        if link.scheme not in ("http", "https") or not link.netloc:
            found.append(f"--evidence: expected an http(s) link, found {update.evidence!r}")
    return found


def percent_of(update: Update) -> int:
    """The percentage recorded: what was given, else what the status implies."""
    if update.percent is not None:
        return update.percent
    return 100 if update.status == "implemented" else 0
