"""Test recipe: eu_web's docs phase plus a step that raises on every record of one input file (a "bug" that
hits one task), to check that a failing task is retried, then recorded as failed, under Ray too.

The file is chosen with `--param fail_on=NAME` (a substring of the WARC path). The step is defined here, in the
recipe file, so it also checks that recipe-local steps reach Ray workers (pickled by value).
"""

from datatrove.pipeline.base import PipelineStep

from corpus_tools.core.recipe import Phase, RunOptions


class FailOn(PipelineStep):
    name = "FailOn"
    type = "test"

    def __init__(self, needle: str):
        super().__init__()
        self.needle = needle

    def run(self, data, rank: int = 0, world_size: int = 1):
        for doc in data:
            if self.needle and self.needle in str(doc.metadata.get("warc_path", "")):
                raise RuntimeError(f"injected failure in task {rank}")
            yield doc


def build(opts: RunOptions) -> list[Phase]:
    from corpus_tools.core.recipe import load_recipe

    fail_on = opts.params.pop("fail_on", "")  # this recipe's own param; eu_web refuses keys it does not know
    opts.params.setdefault("dedup", "false")
    phases = load_recipe("eu_web").build(opts)
    docs = phases[0]
    docs.pipeline.insert(1, FailOn(fail_on))
    return phases
