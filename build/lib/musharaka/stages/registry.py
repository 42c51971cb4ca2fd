"""The six stages in order, each module with its Inputs, Outputs, ACTIVITIES and run()."""

from types import ModuleType

from musharaka.stages import analyse, announce, conduct, evaluate, plan, prepare
from musharaka.stages.plans import STAGES, Stage

MODULES: dict[Stage, ModuleType] = {
    "prepare": prepare,
    "plan": plan,
    "conduct": conduct,
    "analyse": analyse,
    "announce": announce,
    "evaluate": evaluate,
}
assert tuple(MODULES) == STAGES
