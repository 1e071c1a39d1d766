"""Follow a document through a restaged release and its parents (used by `corpus audit trace`).

    from corpus_tools.restage.lineage import trace_lineage
    trace_lineage(rel, "3f2a...")   # {"run_id", "stages", "params", "parent": {...}, "superseded": [...], "in_parent": [...]}

`in_parent` is the parent release's own trace of the same id (status kept / excluded, stage, reason, shard or
ledger file), and recursively its lineage when the parent is itself a restage. `superseded` lists the
parent ledger rows this run re-decided for the document (`lineage/superseded/`), with their outcome.
"""

from __future__ import annotations

from corpus_tools import storage

def _summary(entry: dict) -> dict:
    out = {"status": entry["status"]}
    if entry["status"] == "kept":
        out.update(shard=entry["location"]["shard"], lang=entry["location"].get("lang"),
                   redistribution=entry["location"].get("redistribution"))
    else:
        ex = entry["exclusion"]
        out.update(stage=ex["stage"], reason=ex["reason"], rule=ex["rule"], evidence=ex["evidence"],
                   ledger_file=entry["location"]["ledger_file"])
    if entry.get("lineage"):
        out["lineage"] = entry["lineage"]
    return out


def trace_lineage(rel, doc_id: str) -> dict | None:
    """The lineage of `doc_id` in an opened release; None when the release is not a restage."""
    from corpus_tools.audit.store import open_release
    from corpus_tools.audit.trace import trace
    from corpus_tools.errors import CorpusError
    from corpus_tools.restage.steps import SUPERSEDED_DIR, evidence_json
    from corpus_tools.restage.reader import read_rows

    lineage = (rel.release or {}).get("lineage")
    if not lineage:
        return None
    out = {"run_id": lineage.get("run_id"), "stages": lineage.get("stages"), "params": lineage.get("params"),
           "parent": {k: lineage["parent"].get(k) for k in ("path", "release_id", "merkle_root")}}
    superseded = []
    for url in storage.list_files(storage.join(rel.url, *SUPERSEDED_DIR.split("/")), ".parquet"):
        for row in read_rows(url):
            if row["id"] == doc_id:
                superseded.append({"parent_ledger_file": row["parent_ledger_file"], "stage": row["stage"],
                                   "reason": row["reason"], "rule": row["rule"], "evidence": evidence_json(row),
                                   "outcome": row["outcome"], "superseded_by_run": row["superseded_by_run"]})
    out["superseded"] = superseded
    try:
        with open_release(lineage["parent"]["path"]) as parent:
            if parent.release and parent.release.get("merkle_root") != lineage["parent"].get("merkle_root"):
                out["parent"]["changed_since"] = True  # the parent was rebuilt after this restage
            found = trace(parent, doc_id, fetch=False)  # follows the parent's own lineage, if any
            out["in_parent"] = [_summary(e) for e in found]
    except CorpusError as e:
        out["in_parent"] = f"not available: {e}"
    return out
