"""`DedupStep`: the shape shared by the dedup phases.

Each phase is one datatrove `PipelineStep` that receives no documents (`data=None`): it lists its units of
work at run time (staging files, band ranges, languages), takes every `world_size`-th unit starting at its
`rank`, and writes one output file per unit. Outputs are named after the unit, never after the rank, and a
unit's output depends only on its inputs, so 1 task and 40 tasks write identical files. Steps hold no
process-global state, so they pickle and run the same under the local executor and under Ray.
"""

from __future__ import annotations

from abc import abstractmethod

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep


class DedupStep(PipelineStep):
    type = "dedup"

    def __init__(self, output: str):
        super().__init__()
        self.output = output

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        units = self.units()
        for unit in units[rank::world_size]:
            with self.track_time():
                self.process_unit(unit)
            self.stat_update("units")

    @abstractmethod
    def units(self) -> list:
        """All units of work of the phase, in a fixed order."""

    @abstractmethod
    def process_unit(self, unit) -> None:
        """Read the unit's inputs, write its output file(s)."""
