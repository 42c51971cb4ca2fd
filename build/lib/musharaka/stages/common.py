"""What every stage shares: how it says an input is missing or that it must wait."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from musharaka.stages.plans import Bilingual


class StageModel(BaseModel):
    """Base of stage inputs and outputs: typed, strict about unknown keys, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class MissingInputs(Exception):
    """A person must supply something before the stage can run; `missing` says exactly what."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__("; ".join(missing))
        self.missing = missing


class NotYet(Exception):
    """The stage cannot finish before `until` (e.g. the participation window is still open)."""

    def __init__(self, reason: str, until: datetime) -> None:
        super().__init__(f"{reason} until {until.isoformat()}")
        self.reason = reason
        self.until = until


def activity(en: str, ar: str) -> Bilingual:
    """One item of a stage's checklist, as the guide words it."""
    return Bilingual(en=en, ar=ar)


def blank(value: str | None) -> bool:
    return value is None or not value.strip()
