"""A stage is the guide's activities: each called once, in order, through whatever performs them; what is
missing is gathered from all of them; and an activity left to a person shows as left, not done."""

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from musharaka.flows.engine.records import Refused
from musharaka.flows.retries import transient_error
from musharaka.stages import analyse, prepare
from musharaka.stages.activities import Activity, AwaitingPerson
from musharaka.stages.common import MissingInputs
from musharaka.stages.plans import STAGES
from musharaka.stages.registry import definition
from tests.stages.plans_fixture import SATISFACTION, changed

A = TypeVar("A")
B = TypeVar("B")
NOW = datetime(2025, 6, 15, tzinfo=UTC)


class Recorder:
    """Performs each activity as the stage asks, noting which and what came of it."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(self, activity: Activity[A, B], given: A, /) -> B:
        try:
            outputs = activity.function(given)
        except (MissingInputs, AwaitingPerson) as reason:
            self.seen.append((activity.key, type(reason).__name__))
            raise
        self.seen.append((activity.key, type(outputs).__name__))
        return outputs


def test_prepare_is_its_four_activities_and_its_outputs_are_theirs() -> None:
    recorder = Recorder()
    outputs = prepare.run(prepare.Inputs(), SATISFACTION, NOW, recorder)
    assert recorder.seen == [
        ("prepare.objective", "Objective"),
        ("prepare.management-support", "Answer"),
        ("prepare.institutional-readiness", "Answer"),
        ("prepare.audience-readiness", "AudienceReadiness"),
    ]
    # the green light is the management-support activity's answer, word for word from the plan
    assert outputs.green_light == SATISFACTION.prepare.readiness.management_support


def test_every_activity_runs_and_all_that_is_missing_is_said_at_once() -> None:
    section = SATISFACTION.prepare.model_dump()
    section["readiness"] = {"objective": "Consult", "management_support": "  "}
    recorder = Recorder()
    with pytest.raises(MissingInputs) as failure:
        prepare.run(prepare.Inputs(), changed(SATISFACTION, prepare=section), NOW, recorder)
    assert recorder.seen == [
        ("prepare.objective", "Objective"),
        ("prepare.management-support", "MissingInputs"),
        ("prepare.institutional-readiness", "MissingInputs"),
        ("prepare.audience-readiness", "MissingInputs"),
    ]
    assert len(failure.value.missing) == 3


def test_the_analyse_stage_waits_for_the_team_decision_before_computing_anything() -> None:
    recorder = Recorder()
    inputs: Any = analyse.Inputs.model_construct(decision=None)  # nothing else is read before the decision
    with pytest.raises(MissingInputs):
        analyse.run(inputs, SATISFACTION, NOW, recorder)
    assert recorder.seen == [("analyse.decision", "MissingInputs")]


def test_each_stage_names_the_guides_activities_once_each_with_a_person_where_one_is_needed() -> None:
    counts = {stage: len(definition(stage).activities) for stage in STAGES}
    # the guide, section 8.1: 4, 6, 6, 6, 4 and 5 activities
    assert counts == {"prepare": 4, "plan": 6, "conduct": 6, "analyse": 6, "announce": 4, "evaluate": 5}
    keys = [a.key for stage in STAGES for a in definition(stage).activities]
    assert len(keys) == len(set(keys)) == 31
    assert all(key.split(".")[0] in STAGES for key in keys)
    waiting = {a.key for a in definition("analyse").activities if a.waits_for}
    assert waiting == {"analyse.decision", "analyse.formal-approval"}


def test_a_locked_database_and_a_dropped_connection_are_worth_another_try(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("create table t (x int)")
    holder.execute("begin immediate")  # another process holds the write lock
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    with pytest.raises(OperationalError) as locked, engine.connect() as connection:
        connection.execute(text("insert into t values (1)"))
    assert "database is locked" in str(locked.value)
    assert transient_error(locked.value)
    holder.execute("rollback")
    with pytest.raises(OperationalError) as missing, engine.connect() as connection:
        connection.execute(text("insert into nowhere values (1)"))
    assert not transient_error(missing.value)  # no table: trying again changes nothing
    assert transient_error(httpx.ConnectError("connection refused"))
    assert not transient_error(Refused("campaign x is closed"))
