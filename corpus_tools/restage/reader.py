"""Read a parent release back into datatrove Documents, carry its ledger over, re-hydrate dropped records.

    from corpus_tools.restage.reader import ParentRelease, ReleaseShardReader
    parent = ParentRelease.open("out/sample")
    reader = ReleaseShardReader(parent, output="out/strict", tasks=parent.tasks, candidates={"quality": pick})

One task = one part number N: it reads every `shards/lang=*/redistribution=*/part-N.parquet` of the parent (in
path order, rows in file order, so the writer reproduces the parent's files byte for byte) and the parent's
ledger files whose part number is N modulo the task count. A ledger row of a re-run stage that `candidates`
picks becomes an excluded Document that `ReviveCandidates` re-hydrates; every other row is carried over
unchanged (same file name, or under `exclusions/phase=carried-<parent release id>-<phase>/` when this run writes that file
itself). Every row counts as one `records_read`, so conservation holds in the new release.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from corpus_tools.core import storage
from corpus_tools.core.schema import LEDGER_KEY, ledger_dir, path_key, warc_date_text
from corpus_tools.core.document import EXCLUSION_KEY
from corpus_tools.core.errors import InputError

PARENT_ROW = "_parent_row"      # the parent ledger row a revived candidate came from
PARENT_FILE = "_parent_ledger_file"
LEDGER_KEYS = ("stage", "reason", "rule", "evidence", "kept_id")
_PART = re.compile(r"part-(\d+)\.parquet$")


def is_dedup_ledger(rel: str) -> bool:
    """A ledger file the dedup phases wrote (`phase=dedup`, `phase=restage-<id>-dedup`, carried ones; and
    `stage=dedup` of releases made before the `phase=` layout)."""
    phase = path_key(rel, LEDGER_KEY)
    return phase == "dedup" or (phase or "").endswith("-dedup") or "stage=dedup" in rel


def part_of(rel: str) -> int:
    m = _PART.search(rel)
    if not m:
        raise InputError(f"{rel} is not a part-NNNNN.parquet file: give the output directory of `corpus run`")
    return int(m.group(1))


@dataclass
class ParentRelease:
    """The parent: its files (release-relative), release.json (if built) and run.json (if present)."""

    url: str
    shards: list[str]
    ledgers: list[str]
    release: dict | None = None
    run: dict = field(default_factory=dict)

    @classmethod
    def open(cls, url: str) -> "ParentRelease":
        url = str(url).rstrip("/")
        if not storage.is_s3(url):
            import os

            url = os.path.abspath(url)  # the lineage must still find it from another working directory
        if url.endswith("/shards") and not storage.exists(storage.join(url, "release.json")):
            url = url[: -len("/shards")]  # `--input OUT/shards` means the run it belongs to
        if not storage.is_s3(url) and not storage.exists(url):
            raise InputError(f"parent release {url} not found: give the --output of a `corpus run` or `corpus stage`")
        release = json.loads(storage.read_bytes(storage.join(url, "release.json"))) \
            if storage.exists(storage.join(url, "release.json")) else None
        run = json.loads(storage.read_bytes(storage.join(url, "run.json"))) \
            if storage.exists(storage.join(url, "run.json")) else {}
        if release is not None:
            shards = [s["path"] for s in release["shards"]]
            ledgers = [e["path"] for e in release["exclusions"]]
        else:
            prefix = url + "/"
            shards = [u[len(prefix):] for u in storage.list_files(storage.join(url, "shards"), ".parquet")]
            ledgers = [u[len(prefix):] for u in storage.list_files(storage.join(url, "exclusions"), ".parquet")]
        if not shards and not ledgers:
            raise InputError(f"{url} has no shards/ or exclusions/: give the output directory of `corpus run`")
        return cls(url=url, shards=sorted(shards), ledgers=sorted(ledgers), release=release, run=run)

    @property
    def tasks(self) -> int:
        """One task per shard part number (the parent's per-document task), so part-N stays part-N."""
        parts = [part_of(p) for p in self.shards] + [part_of(p) for p in self.ledgers if not is_dedup_ledger(p)]
        return max(parts) + 1 if parts else 1

    @property
    def deduplicated(self) -> bool:
        return any(is_dedup_ledger(p) for p in self.ledgers) or storage.exists(storage.join(self.url, "dedup", "index", "params.json"))

    @property
    def index(self) -> str | None:
        """The parent's dedup index (`dedup/index`), which the next release can dedup against; None if absent."""
        url = storage.join(self.url, "dedup", "index")
        return url if storage.exists(storage.join(url, "params.json")) else None

    def path(self, rel: str) -> str:
        return storage.join(self.url, *rel.split("/"))


def read_rows(url: str) -> list[dict]:
    import pyarrow.parquet as pq

    source = io.BytesIO(storage.read_bytes(url)) if storage.is_s3(url) else url
    return pq.read_table(source).to_pylist()


def row_document(row: dict) -> Document:
    """A shard row -> the Document the writer made it from (text in `text`, every other column in metadata)."""
    meta = dict(row)
    meta["warc_date"] = warc_date_text(meta.get("warc_date"))  # the header's text, as the reader gave it
    doc_id = meta.pop("id")
    text = meta.pop("text", None) or ""
    meta.pop("run_id", None)
    meta.pop("pipeline_version", None)
    return Document(text=text, id=doc_id, metadata=meta)


def ledger_document(row: dict, ledger_file: str) -> Document:
    """A ledger row -> an excluded Document with no text, carrying the row for `ReviveCandidates`."""
    from corpus_tools.core.schema import PROVENANCE_COLUMNS

    meta = {k: row.get(k) for k in PROVENANCE_COLUMNS if k != "id"}
    meta["warc_date"] = warc_date_text(meta.get("warc_date"))
    meta.update(lang=row.get("lang"), policy_version=row.get("policy_version"))
    meta[EXCLUSION_KEY] = {k: row.get(k) for k in LEDGER_KEYS}
    meta[PARENT_ROW] = dict(row)
    meta[PARENT_FILE] = ledger_file
    return Document(text="", id=row["id"], metadata=meta)


class ReleaseShardReader(PipelineStep):
    """parent: the ParentRelease; output: the new run's directory (carried ledger files go there);
    tasks: number of tasks (`parent.tasks`); candidates: {stage: predicate(row) -> bool} picking the ledger rows
    that may come back; relocate: ledger path prefixes this run writes itself (carried under `phase=carried-<id>-<phase>/`);
    dry_run: read only, write nothing."""

    type = "reader"
    name = "ReleaseShardReader"

    def __init__(self, parent: ParentRelease, output: str, tasks: int, candidates: dict | None = None,
                 relocate: tuple[str, ...] = (), dry_run: bool = False):
        super().__init__()
        self.parent = parent
        self.output = output
        self.tasks = tasks
        self.candidates = dict(candidates or {})
        self.relocate = tuple(relocate)
        self.dry_run = dry_run

    def carried_path(self, rel: str) -> str:
        if rel.startswith(self.relocate):
            tag = (self.parent.release or {}).get("release_id") or (self.parent.run or {}).get("run_id") or "parent"
            return ledger_dir(f"carried-{tag}-{path_key(rel, LEDGER_KEY)}") + rel[rel.rindex("/"):]
        return rel

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        for rel in self.parent.shards:
            if part_of(rel) != rank:
                continue
            with self.track_time():
                rows = read_rows(self.parent.path(rel))
            for row in rows:
                self.stat_update("records_read")
                self.stat_update("parent_kept")
                yield row_document(row)
        for rel in self.parent.ledgers:
            if part_of(rel) % self.tasks != rank:
                continue
            with self.track_time():
                rows = read_rows(self.parent.path(rel))
            picked, carried = [], []
            for row in rows:
                self.stat_update("records_read")
                pick = self.candidates.get(row.get("stage"))
                (picked if pick is not None and pick(row) else carried).append(row)
            self.stat_update("parent_excluded", value=len(rows))
            self.stat_update("candidates", value=len(picked))
            if not self.dry_run:
                self.carry(rel, rows, carried, picked)
            for row in picked:
                yield ledger_document(row, rel)

    def carry(self, rel: str, rows: list[dict], carried: list[dict], picked: list[dict]) -> None:
        """The parent's ledger file, less the picked rows; byte-copied when nothing was picked."""
        from corpus_tools.core.schema import EXCLUSION_SCHEMA
        from corpus_tools.core.schema import write_table

        target = storage.join(self.output, *self.carried_path(rel).split("/"))
        if not picked:
            storage.write_bytes(target, storage.read_bytes(self.parent.path(rel)))
        else:
            write_table(target, carried, EXCLUSION_SCHEMA)
