"""The six stages in order, each module with its Inputs, Outputs, ACTIVITIES and run()."""

import importlib
from collections.abc import Iterator, Mapping
from types import ModuleType

from musharaka.stages.plans import STAGES, Stage


class _Modules(Mapping[Stage, ModuleType]):
    """Each stage's module (`musharaka.stages.<stage>`), imported when first asked for: the stages that build
    frames load pandas, which a command that only lists, reads or signs has no use for."""

    def __getitem__(self, stage: Stage) -> ModuleType:
        if stage not in STAGES:
            raise KeyError(stage)
        return importlib.import_module(f"musharaka.stages.{stage}")

    def __iter__(self) -> Iterator[Stage]:
        return iter(STAGES)

    def __len__(self) -> int:
        return len(STAGES)


MODULES: Mapping[Stage, ModuleType] = _Modules()
