"""The restage pipeline's own steps: re-hydration, wrappers for revived documents, lineage rows.

- `ReviveCandidates(prefix)`: a parent ledger row picked as a candidate -> the WARC record re-read from its
  pointer (`fetch_record`, digests checked), decoded as the reader does, then the parent's steps before the
  re-run stage (signals, extraction, ...). The document then meets the re-run stage like any other.
- `OnlyRevived(step)`: runs a parent step on revived documents only (kept ones already went through it).
- `Refetched(annotator)`: an annotator whose output is working state (`stored = False`, e.g. `HtmlSignals`)
  run on a kept document's re-read WARC record (the HTML is needed, not the extractor).
- `SupersededWriter`: every candidate's parent ledger row with what became of it, in
  `lineage/superseded/part-N.parquet` (kept: the row is superseded; excluded: re-decided, still out).
- `RevivedSplit` / `MergeRevived`: revived documents of a deduplicated parent are written aside
  (`OUT/revived/`), deduplicated against the parent's index, then appended to their shards.
"""

from __future__ import annotations

import json

import pyarrow as pa
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from corpus_tools.core import storage
from corpus_tools.core.document import EXCLUSION_KEY, DocumentStep, is_excluded
from corpus_tools.core.errors import InputError
from corpus_tools.restage.reader import PARENT_FILE, PARENT_ROW
from corpus_tools.core.schema import EXCLUSION_SCHEMA, PROVENANCE_COLUMNS, ledger_dir, warc_date_text

SUPERSEDED_DIR = "lineage/superseded"
SUPERSEDED_SCHEMA = EXCLUSION_SCHEMA.append(pa.field("parent_ledger_file", pa.string())) \
    .append(pa.field("superseded_by_run", pa.string())).append(pa.field("outcome", pa.string())) \
    .append(pa.field("new_stage", pa.string())).append(pa.field("new_reason", pa.string()))


def fetch_html_document(row: dict) -> Document:
    """The reader's Document for one record, re-read from its pointer: decoded HTML in `text`, `_http_headers`,
    `html_lang`; provenance from `row`. InputError when the record cannot be re-read or its digest is wrong."""
    from corpus_tools.readers.decode import decode_html
    from corpus_tools.readers.record import fetch_record
    from corpus_tools.readers.warc import _HTML_LANG

    path, offset, length = row.get("warc_path"), row.get("warc_offset"), row.get("warc_length")
    if path is None or offset is None or not length:
        raise InputError(f"document {row.get('id')} has no WARC pointer: it cannot be re-hydrated")
    rec = fetch_record(path, int(offset), int(length))
    if rec.digest_ok is False:
        raise InputError(f"WARC record of {row.get('id')} at {path}:{offset} fails its digest: the file changed")
    content_type = (rec.http_headers or {}).get("content-type")
    text, charset = decode_html(rec.payload, content_type)
    meta = {k: row.get(k) for k in PROVENANCE_COLUMNS if k != "id"}
    meta["warc_date"] = warc_date_text(meta.get("warc_date"))  # the stored timestamp -> the header text steps read
    m = _HTML_LANG.search(text[:8192])
    meta.update(_http_headers=rec.http_headers or {}, _charset=charset,
                html_lang=m.group(1).lower().replace("_", "-") if m else None)
    return Document(text=text, id=row["id"], metadata=meta)


def is_revived(doc: Document) -> bool:
    return PARENT_ROW in doc.metadata


class ReviveCandidates(PipelineStep):
    """prefix: the parent's per-document steps before the re-run stage (instances, in recipe order)."""

    type = "corpus"
    name = "ReviveCandidates"

    def __init__(self, prefix: list):
        super().__init__()
        self.prefix = list(prefix)

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for doc in data:
            if is_revived(doc) and is_excluded(doc):
                with self.track_time():
                    self.revive(doc)
            yield doc

    def revive(self, doc: Document) -> None:
        row = doc.metadata[PARENT_ROW]
        try:
            fresh = fetch_html_document(row)
        except InputError:
            self.stat_update("revive_failed")  # stays excluded with the parent's row
            return
        parent_exclusion = doc.metadata.pop(EXCLUSION_KEY)
        keep = {PARENT_ROW: row, PARENT_FILE: doc.metadata[PARENT_FILE]}
        doc.text, doc.metadata = fresh.text, {**fresh.metadata, **keep}
        for step in self.prefix:
            if is_excluded(doc):
                break
            step.process(doc)
        if is_excluded(doc):
            self.stat_update("revive_excluded_earlier")
        else:
            self.stat_update(f"revived.{parent_exclusion['stage']}")


class OnlyRevived(PipelineStep):
    """Runs `step` (a DocumentStep of the parent recipe) on revived, not excluded documents only."""

    type = "corpus"

    def __init__(self, step):
        super().__init__()
        self.step = step
        self.name = f"OnlyRevived({type(step).__name__})"

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for doc in data:
            if is_revived(doc) and not is_excluded(doc):
                with self.track_time():
                    self.step.process(doc)
                self.stat_update("revived_processed")
            yield doc


class Refetched(DocumentStep):
    """annotator: an `Annotator` that reads the page's HTML; its working keys (`_...`) are copied back."""

    def __init__(self, annotator):
        super().__init__()
        self.annotator = annotator
        self.name = f"Refetched({type(annotator).__name__})"
        self.stage = annotator.ledger_stage()

    def process(self, doc: Document) -> None:
        if is_revived(doc) and "_http_headers" in doc.metadata:
            self.annotator.process(doc)  # a revived document still holds its HTML here
            return
        raw = fetch_html_document({"id": doc.id, **doc.metadata})
        self.annotator.process(raw)
        doc.metadata.update({k: v for k, v in raw.metadata.items() if k.startswith("_") and k not in doc.metadata
                             and k not in ("_http_headers", "_charset")})
        self.stat_update("refetched")


class SupersededWriter(PipelineStep):
    """After the ShardWriter: the parent ledger row of every candidate, with its outcome, in
    `lineage/superseded/part-<rank>.parquet` (only when there are any)."""

    type = "writer"
    name = "SupersededWriter"

    def __init__(self, output: str, run_id: str):
        super().__init__()
        self.output = output
        self.run_id = run_id

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        from corpus_tools.core.schema import write_table

        rows = []
        for doc in data:
            if is_revived(doc):
                row = dict(doc.metadata[PARENT_ROW])
                new = doc.metadata.get(EXCLUSION_KEY)
                outcome = "kept" if new is None else "excluded"
                row.update(parent_ledger_file=doc.metadata[PARENT_FILE], superseded_by_run=self.run_id, outcome=outcome,
                           new_stage=new["stage"] if new else None, new_reason=new["reason"] if new else None)
                rows.append(row)
                self.stat_update(f"superseded.{outcome}")
            yield doc
        if rows:
            write_table(storage.join(self.output, *SUPERSEDED_DIR.split("/"), f"part-{rank:05d}.parquet"), rows,
                        SUPERSEDED_SCHEMA)


def superseded_rows(output: str) -> list[dict]:
    """Every row of `lineage/superseded/` of a restage output (empty list when there is none)."""
    from corpus_tools.restage.reader import read_rows

    out = []
    for url in storage.list_files(storage.join(output, *SUPERSEDED_DIR.split("/")), ".parquet"):
        out.extend(read_rows(url))
    return out


def evidence_json(row: dict) -> dict:
    try:
        return json.loads(row.get("evidence") or "{}")
    except ValueError:
        return {}


REVIVED = "revived"  # OUT/revived/: working root where revived documents are deduplicated (not part of the release)


class RevivedSplit(PipelineStep):
    """Two writers: `main` gets every document except the revived ones it keeps, which go to `revived` (a
    ShardWriter under OUT/revived/staging) to be deduplicated against the parent's index before they join."""

    type = "writer"
    name = "RevivedSplit"

    def __init__(self, main, revived):
        super().__init__()
        self.main, self.revived = main, revived

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        held: list[Document] = []

        def main_stream():
            for doc in data:
                if is_revived(doc) and not is_excluded(doc):
                    held.append(doc)
                    continue
                yield doc

        yield from self.main.run(main_stream(), rank, world_size)
        self.stat_update("revived_to_dedup", value=len(held))
        yield from self.revived.run(iter(held), rank, world_size)


class MergeRevived(PipelineStep):
    """After the dedup of revived documents (one task): their surviving rows are appended to the shard of the
    same path under shards/ (a re-run replaces, never duplicates, them); their dedup ledger moves to
    exclusions/phase=restage-<run id>-dedup/; the new release's dedup index = the parent's and the revived
    documents' signatures, restricted to the documents the new release keeps.

    output: the restage output; run_id: this run; parent_index: the parent's dedup/index dir (or None)."""

    type = "writer"
    name = "MergeRevived"

    def __init__(self, output: str, run_id: str, parent_index: str | None):
        super().__init__()
        self.output, self.run_id, self.parent_index = output, run_id, parent_index

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        import pyarrow.compute as pc

        from corpus_tools.dedup import files
        from corpus_tools.restage.reader import read_rows
        from corpus_tools.core.schema import DOCUMENT_SCHEMA
        from corpus_tools.core.schema import write_table

        if data:
            yield from data
        side = storage.join(self.output, REVIVED)
        with self.track_time():
            for url in storage.list_files(storage.join(side, "shards"), ".parquet"):
                rel = files.relative(url, storage.join(side, "shards"))
                rows = read_rows(url)
                target = storage.join(self.output, "shards", *rel.split("/"))
                ids = {r["id"] for r in rows}
                before = [r for r in read_rows(target) if r["id"] not in ids] if storage.exists(target) else []
                write_table(target, before + rows, DOCUMENT_SCHEMA)
                self.stat_update("revived_kept", value=len(rows))
            for url in storage.list_files(storage.join(side, ledger_dir("dedup")), ".parquet"):
                name = url.rsplit("/", 1)[-1]
                storage.write_bytes(storage.join(self.output, ledger_dir(f"restage-{self.run_id}-dedup"), name),
                                    storage.read_bytes(url))
            kept = pa.array(sorted({r for u in storage.list_files(storage.join(self.output, "shards"), ".parquet")
                                    for r in storage.read_parquet(u, columns=["id"]).column("id").to_pylist()}), pa.string())
            index_out = storage.join(self.output, files.DEDUP, "index")
            sources = [(self.parent_index, "")] if self.parent_index else []
            sources.append((storage.join(side, files.DEDUP, "index"), "revived-"))
            for root, prefix in sources:
                for url in storage.list_files(root, ".parquet"):
                    t = storage.read_parquet(url)
                    rel = files.relative(url, root).rsplit("/", 1)
                    files.write_arrow(storage.join(index_out, rel[0], prefix + rel[1]),
                                      t.filter(pc.is_in(t.column("id"), value_set=kept)))
            if self.parent_index:
                params = files.read_params(self.parent_index)
                files.write_json(storage.join(index_out, "params.json"),
                                 {**params, "run_id": self.run_id, "restaged_from": self.parent_index})
        return
        yield
