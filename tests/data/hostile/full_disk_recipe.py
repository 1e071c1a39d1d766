"""Test recipe: the WARC reader, then a step that writes every record to /dev/full, which the kernel answers
with ENOSPC (a real "no space left on device", no mock): `corpus run` must stop with one line naming the
path and the fix, exit 2, not retry three times and print tracebacks."""

from datatrove.pipeline.base import PipelineStep

from corpus_tools.readers.warc import WarcRecordReader
from corpus_tools.core.recipe import Phase, RunOptions


class WriteToFullDisk(PipelineStep):
    name = "WriteToFullDisk"
    type = "test"

    def run(self, data, rank: int = 0, world_size: int = 1):
        for doc in data:
            with open("/dev/full", "wb") as fh:
                fh.write(doc.text.encode() or b"x")
                fh.flush()
            yield doc


def build(opts: RunOptions) -> list[Phase]:
    return [Phase("docs", [WarcRecordReader(opts.files), WriteToFullDisk()], tasks=opts.tasks)]
