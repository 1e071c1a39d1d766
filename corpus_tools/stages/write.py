"""`ShardWriter`: the last step of the per-document phase.

Kept documents go to `shards/language=<label>/redistribution_class=<class>/part-<rank>.parquet` (zstd,
explicit schema); excluded ones to `exclusions/phase=docs/part-<rank>.parquet` (provenance, stage, reason,
evidence, no text). `warc_date` is stored as a UTC timestamp. Files appear atomically when the task ends, so a killed task leaves nothing that looks finished.
Rows keep input order, so the same input gives byte-identical files.
"""

from __future__ import annotations

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from corpus_tools import __version__

from corpus_tools.core import storage
from corpus_tools.core.document import EXCLUSION_KEY
from corpus_tools.core.schema import (DOCUMENT_SCHEMA, EXCLUSION_SCHEMA, ledger_dir, partition_dirs, warc_timestamp,
                                      write_table)


def document_row(doc: Document, run_id: str) -> dict:
    row = {k: v for k, v in doc.metadata.items() if not k.startswith("_")}
    row.update(id=doc.id, text=doc.text, run_id=run_id, pipeline_version=__version__,
               warc_date=warc_timestamp(row.get("warc_date")))
    row.setdefault("redistribution", "unknown")
    return row


def exclusion_row(doc: Document, run_id: str) -> dict:
    row = {k: v for k, v in doc.metadata.items() if not k.startswith("_")}
    row.update(doc.metadata[EXCLUSION_KEY])
    row.update(id=doc.id, run_id=run_id, pipeline_version=__version__, warc_date=warc_timestamp(row.get("warc_date")))
    return row


class ShardWriter(PipelineStep):
    """output: the run's output directory or s3:// prefix; run_id: stored on every row;
    shards_dir / ledger_dir: sub-directories (defaults `shards`, `exclusions/phase=docs`)."""

    type = "writer"
    name = "ShardWriter"

    def __init__(self, output: str, run_id: str, shards_dir: str = "shards", ledger_dir: str = ledger_dir("docs")):
        super().__init__()
        self.output = output
        self.run_id = run_id
        self.shards_dir = shards_dir
        self.ledger_dir = ledger_dir

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        partitions: dict[tuple[str, str], list[dict]] = {}
        ledger: list[dict] = []
        for doc in data:
            if EXCLUSION_KEY in doc.metadata:
                ledger.append(exclusion_row(doc, self.run_id))
                self.stat_update("excluded")
            else:
                row = document_row(doc, self.run_id)
                partitions.setdefault((row.get("lang") or "other", row["redistribution"]), []).append(row)
                self.stat_update("kept")
            yield doc
        with self.track_time():
            for (lang, red), rows in sorted(partitions.items()):
                url = storage.join(self.output, self.shards_dir, *partition_dirs(lang, red), f"part-{rank:05d}.parquet")
                write_table(url, rows, DOCUMENT_SCHEMA)
            write_table(storage.join(self.output, self.ledger_dir, f"part-{rank:05d}.parquet"), ledger, EXCLUSION_SCHEMA)
