"""Filter (phase 4 of dedup): final shards, the dedup ledger, and this run's signature index.

One unit = one staging shard (index K in the sorted list). Its documents are looked up in the language's
cluster parts (`clusters/lang=L/part-P.parquet`, read one at a time): a representative keeps `dup_cluster_id` / `dup_cluster_size`, a document without
duplicates gets size 1 and no cluster id, every other member goes to `exclusions/phase=dedup/part-K.parquet`
with reason `exact_duplicate` or `near_duplicate`, the rule, evidence (estimated Jaccard of its best link,
cluster id and size; never text) and `kept_id` = the representative's id (which may be a document of the
earlier release the run was deduplicated against). Kept rows go to the same `lang=/redistribution=/part-N`
path under `shards/` as under `staging/shards/`, in staging order, so the bytes are reproducible. The
signatures of the kept documents become `dedup/index/lang=L/part-K.parquet`: the next release's index.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.compute as pc

from datatrove.data import Document

from corpus_tools.core import storage
from corpus_tools.core.document import Rule, Verdict
from corpus_tools.dedup import files
from corpus_tools.dedup.base import DedupStep
from corpus_tools.dedup.exact import EXACT_RULE
from corpus_tools.dedup.minhash import MINHASH_RULE, MinhashParams
from corpus_tools.core.schema import DOCUMENT_SCHEMA, EXCLUSION_SCHEMA, PROVENANCE_COLUMNS, ledger_dir, write_table


class DuplicateRule(Rule):
    """Rules exact_v1 / minhash_v1: a member of a duplicate cluster other than its representative is a duplicate
    (`exact_duplicate` when the cluster is one exact-text hash, else `near_duplicate`); the representative and
    documents without duplicates are kept. Decides from the document's cluster row (`_cluster`: cluster id and
    size, representative, estimated Jaccard of its best link). A representative that is a document of an earlier
    release means the document itself is a copy of what that release kept.
    threshold: the estimated Jaccard the edges were built at, recorded in the evidence, default MinHash's."""

    name = "DuplicateRule"
    stage = "dedup"
    rule = MINHASH_RULE

    def __init__(self, threshold: float = MinhashParams.threshold):
        super().__init__()
        self.threshold = threshold

    def decide(self, doc: Document) -> Verdict | None:
        c = doc.metadata.get("_cluster")
        if c is None or (c["rep_id"] == doc.id and not c["rep_old"]):
            return None
        evidence = {"cluster_id": c["cluster_id"], "cluster_size": c["cluster_size"],
                    "jaccard_est": round(float(c["jaccard"]), 4) if c["jaccard"] is not None else None,
                    "threshold": self.threshold}
        if c["rep_old"]:
            evidence["kept_in"] = "earlier_release"
        return Verdict("exact_duplicate" if c["exact"] else "near_duplicate", evidence,
                       EXACT_RULE if c["exact"] else MINHASH_RULE)


class DuplicateFilter(DedupStep):
    """Phase `dedup_filter`. run_id: stored on ledger rows; params: written to the index's params.json;
    index_dirs: the earlier indexes this run was compared with (recorded in params.json)."""

    name = "DuplicateFilter"

    def __init__(self, output: str, run_id: str, params: MinhashParams = MinhashParams(), index_dirs: tuple[str, ...] = ()):
        super().__init__(output)
        self.run_id = run_id
        self.params = params
        self.index_dirs = tuple(index_dirs)
        self._rule = DuplicateRule(params.threshold)  # derived from `params`, which the config hash records

    def units(self) -> list:
        return list(enumerate(files.staging_files(self.output)))

    def clusters(self, lang: str, ids: pa.Array) -> dict[str, dict]:
        out = {}
        for url in storage.list_files(storage.join(self.output, files.DEDUP, "clusters", f"lang={lang}"), ".parquet"):
            t = storage.read_parquet(url)  # one part at a time: memory is one part, not the language
            t = t.filter(pc.and_(pc.is_in(t.column("id"), value_set=ids), pc.invert(t.column("old"))))
            out.update((r["id"], r) for r in t.to_pylist())
        return out

    def process_unit(self, unit) -> None:
        index, url = unit
        staging_root = storage.join(self.output, files.STAGING)
        rel = files.relative(url, staging_root)
        lang = files.lang_of(rel)
        table = storage.read_parquet(url)
        ids = table.column("id").combine_chunks()
        found = self.clusters(lang, ids)
        keep, cluster_ids, sizes, ledger = [], [], [], []
        for i, doc_id in enumerate(ids.to_pylist()):  # columnar: only a removed row is a dict
            c = found.get(doc_id)
            verdict = self._rule.decide(Document(text="", id=doc_id, metadata={"_cluster": c}))
            keep.append(verdict is None)
            if verdict is None:
                cluster_ids.append(c["cluster_id"] if c else None)
                sizes.append(c["cluster_size"] if c else 1)
            else:
                ledger.append(self.exclusion(table.slice(i, 1).to_pylist()[0], c["rep_id"], verdict))
        kept = table.filter(pa.array(keep, pa.bool_()))
        for name, values in (("dup_cluster_id", cluster_ids), ("dup_cluster_size", sizes)):
            field = DOCUMENT_SCHEMA.field(name)
            kept = kept.set_column(kept.schema.get_field_index(name), field, pa.array(values, field.type))
        self.stat_update("kept", value=len(kept))
        self.stat_update("excluded", value=len(ledger))
        if len(kept):
            write_table(storage.join(self.output, "shards", *rel.split("/")), kept, DOCUMENT_SCHEMA)
        if ledger:
            write_table(storage.join(self.output, ledger_dir("dedup"), f"part-{index:05d}.parquet"), ledger, EXCLUSION_SCHEMA)
        self.write_index(index, lang, set(kept.column("id").to_pylist()))

    def exclusion(self, row: dict, kept_id: str, verdict: Verdict) -> dict:
        out = {k: row.get(k) for k in PROVENANCE_COLUMNS}
        out.update(stage="dedup", reason=verdict.reason, rule=verdict.rule,
                   evidence=json.dumps(verdict.evidence, sort_keys=True), kept_id=kept_id, lang=row.get("lang"),
                   policy_version=row.get("policy_version"), run_id=self.run_id,
                   pipeline_version=row.get("pipeline_version"))
        return out

    def write_index(self, index: int, lang: str, kept_ids: set[str]) -> None:
        sig_url = storage.join(self.output, files.DEDUP, "signatures", f"lang={lang}", f"part-{index:05d}.parquet")
        sigs = storage.read_parquet(sig_url)
        sigs = sigs.filter(pc.is_in(sigs.column("id"), value_set=pa.array(sorted(kept_ids), pa.string())))
        index_root = storage.join(self.output, files.DEDUP, "index")
        files.write_arrow(storage.join(index_root, f"lang={lang}", f"part-{index:05d}.parquet"), sigs)
        files.write_json(storage.join(index_root, "params.json"),
                         {"params": self.params.describe(), "run_id": self.run_id, "compared_with": list(self.index_dirs)})
