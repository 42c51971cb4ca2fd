"""A stage as the guide describes it: activities, each a pure function from typed inputs to typed outputs.

A stage's `run` calls its activities through a `Perform`: called `directly` in tests and analyses, or as
a Prefect task each (flows/lifecycle.py), so that an operator sees a stage's run as its activities. The
stage assembles its outputs from what its activities returned.
"""

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from musharaka.stages.common import MissingInputs, StageModel
from musharaka.stages.plans import Bilingual, CampaignPlan, Loc, Stage, Strict

A = TypeVar("A")
B = TypeVar("B")
I = TypeVar("I", bound=StageModel)  # noqa: E741 - the stage's inputs, as in Inputs
O = TypeVar("O", bound=StageModel, covariant=True)  # noqa: E741 - its outputs


@dataclass(frozen=True)
class Activity(Generic[A, B]):
    """One of the guide's activities for a stage. `key` names its task run (stage.activity); a person's
    part, when it has one, is what `waits_for` names: the activity cannot finish without it."""

    key: str
    title: Bilingual
    function: Callable[[A], B]
    waits_for: Bilingual | None = None


class Perform(Protocol):
    """How a stage calls one activity; it returns the activity's outputs or raises what the activity raised."""

    def __call__(self, activity: "Activity[A, B]", given: A, /) -> B: ...


def directly(activity: Activity[A, B], given: A) -> B:
    """The activity's function, called here: the stage as a plain function."""
    return activity.function(given)


class Missing:
    """What the activities of one stage run still lack, gathered so that a person hears it all at once."""

    def __init__(self, perform: Perform) -> None:
        self.perform = perform
        self.items: list[str] = []

    def attempt(self, activity: Activity[A, B], given: A) -> B | None:
        """The activity's outputs, or None with what it lacks noted."""
        try:
            return self.perform(activity, given)
        except MissingInputs as lacking:
            self.items.extend(lacking.missing)
            return None

    def raise_if_any(self) -> None:
        if self.items:
            raise MissingInputs(self.items)


class Run(StageModel):
    """What every activity of a stage run may read: the stage's inputs, the campaign's plan, the time."""

    plan: CampaignPlan
    now: datetime


class AwaitingPerson(Exception):
    """Raised by an activity only a person can finish after the stage run ends, such as a gate's approval:
    it shows as waiting, and the stage goes on without its outputs."""


def leave_waiting(perform: Perform, activity: Activity[A, None], given: A) -> None:
    """Perform an activity that a person finishes after this run (AwaitingPerson): it shows as waiting."""
    with suppress(AwaitingPerson):
        perform(activity, given)


def gate_approval(given: Run, stage: Stage) -> None:
    """The activity that is a stage's gate: signed off by its approvers once the stage has run."""
    roles = ", ".join(given.plan.gates.for_stage(stage).named_roles())
    raise AwaitingPerson(f"the {stage} gate opens when this run ends; it waits for approval by: {roles}")


@dataclass(frozen=True)
class StageDefinition(Generic[I, O]):
    """A stage: its inputs and outputs, the person's submission it accepts, its activities in the guide's
    order, and `run`, which calls them through a Perform and assembles the outputs."""

    name: Stage
    inputs: type[I]
    outputs: type[O]
    submitted: type[Strict] | None
    activities: tuple[Activity[Any, Any], ...]
    run: Callable[[I, CampaignPlan, datetime, Perform], O]
    documents: tuple[str, ...] = ()  # documents rendered besides the stage's own (templates/<stage>-<name>)
    # what is wrong with a submission beyond its schema, each with where in the file (conduct, analyse)
    submission_problems: Callable[[Any, CampaignPlan], list[tuple[Loc, str]]] | None = None

    @property
    def titles(self) -> tuple[Bilingual, ...]:
        """The activities as the guide words them: the stage's checklist in its documents."""
        return tuple(activity.title for activity in self.activities)
