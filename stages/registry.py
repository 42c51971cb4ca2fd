"""The six stages in order, each as its StageDefinition (inputs, outputs, activities, run)."""

import importlib
from typing import Any

from musharaka.stages.activities import StageDefinition
from musharaka.stages.common import StageModel
from musharaka.stages.plans import STAGES, Stage

AnyStage = StageDefinition[Any, StageModel]
"""A stage whatever its inputs: the engine builds each stage's inputs itself (runs.py) and reads its outputs."""


def definition(stage: Stage) -> AnyStage:
    """The stage's definition (`musharaka.stages.<stage>.STAGE`), its module imported when first asked for:
    the stages that build frames load pandas, which a command that only lists, reads or signs has no use for."""
    if stage not in STAGES:
        raise KeyError(stage)
    found: AnyStage = importlib.import_module(f"musharaka.stages.{stage}").STAGE
    return found
