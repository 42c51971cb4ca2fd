"""The lessons register: lessons and improvement proposals of approved evaluations, citable by id."""

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session

from musharaka.flows.engine.records import approved_stage_outputs
from musharaka.stages.plans import Prose
from musharaka.state.events import (
    as_utc,
)


def lessons_by_id(*, session: Session) -> dict[str, Prose]:
    """The lessons register as id -> text: what plans may cite."""
    return {entry.id: entry.text for entry in lessons_register(session=session)}


class Lesson(BaseModel):
    """A lesson or improvement proposal from an approved evaluation, citable by its id in later plans."""

    id: str
    campaign: str
    kind: str  # lesson or improvement
    text: Prose  # evaluations recorded before prose was bilingual hold a string: one language
    approved_at: datetime


def lessons_register(*, session: Session) -> list[Lesson]:
    """The lessons and improvement proposals of every approved evaluation, oldest first."""
    entries = []
    for cid, (gate, outputs) in approved_stage_outputs(session, "evaluate").items():
        if isinstance(outputs.get("lessons"), dict):  # evaluations recorded before the answers were split out
            outputs = {**outputs, **outputs["lessons"]}
        for kind, key in (("lesson", "lessons"), ("improvement", "improvements")):
            for n, text in enumerate(outputs.get(key) or (), 1):
                entries.append(
                    Lesson(
                        id=f"{cid}.{kind}-{n}",
                        campaign=cid,
                        kind=kind,
                        text=text,
                        approved_at=as_utc(gate.decided_at or gate.opened_at),
                    )
                )
    return sorted(entries, key=lambda e: (e.approved_at, e.campaign, e.kind, e.id))
