"""`corpus audit takedown`: a new release without some documents; the old release is left untouched.

    from corpus_tools.audit.takedown import takedown
    diff = takedown("out/v1", "out/v2", urls=["https://example.org/a"], domains=["example.net"], reason="request 42")

The old release is verified first. Shards holding a matching document are rewritten without it (a shard left
empty is dropped); every other shard and ledger file is copied byte for byte. The removed documents get
ledger rows (stage and reason `takedown`, rule `takedown_v1`, evidence: how they matched and the request
reference) in `exclusions/phase=takedown/`, so conservation still holds. The new release has new roots, a
MAJOR version bump (Croissant semantics: data removed) and `takedown.json`, the diff against the old one.
`reason` is stored in the ledger: give a request reference, never personal data.
"""

from __future__ import annotations

import io
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq

from corpus_tools import __version__

from corpus_tools.core import storage
from corpus_tools.core.errors import InputError
from corpus_tools.core import layout
from corpus_tools.core.schema import EXCLUSION_SCHEMA, PROVENANCE_COLUMNS, ledger_dir

RULE = "takedown_v1"


def _new_output_ok(old: str, new: str) -> None:
    if storage.is_s3(new):
        if storage.list_files(new.rstrip("/")):
            raise InputError(f"{new} is not empty: give a new --output for the new release")
        return
    if not storage.is_s3(old) and os.path.realpath(old) == os.path.realpath(new):
        raise InputError("--output must differ from the old release: a takedown never rewrites a release in place")
    if os.path.exists(new) and (not os.path.isdir(new) or os.listdir(new)):
        raise InputError(f"{new} exists and is not empty: give a new --output for the new release")
    os.makedirs(new, exist_ok=True)  # an unwritable --output fails before the old release is verified


def _write_parquet(url: str, table: pa.Table) -> None:
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd", row_group_size=2000, write_statistics=True)
    storage.write_bytes(url, buf.getvalue())


def takedown(old_url: str, new_url: str, urls=(), domains=(), ids=(), reason: str = "takedown request") -> dict:
    from corpus_tools.release.store import connect, open_release
    from corpus_tools.audit.verify import verify_open
    from corpus_tools.release.build import build_release

    urls, domains, ids = list(urls), [d.lower().strip() for d in domains], list(ids)
    if not (urls or domains or ids):
        raise InputError("nothing to take down: give --url, --domain or --id (repeatable)")
    _new_output_ok(str(old_url), str(new_url))
    with open_release(old_url) as rel:
        verify_open(rel)  # never derive a release from one that was modified
        old = rel.release
        con = connect(rel)
        cols = ", ".join(PROVENANCE_COLUMNS + ["lang", "policy_version", "run_id", "pipeline_version", "shard"])
        cur = con.execute(
            f"SELECT {cols}, CASE WHEN list_contains(?::VARCHAR[], id) THEN 'id' WHEN list_contains(?::VARCHAR[], url) THEN 'url' "
            f"ELSE 'domain' END AS matched_by FROM documents WHERE list_contains(?::VARCHAR[], id) OR list_contains(?::VARCHAR[], url) "
            f"OR list_contains(?::VARCHAR[], lower(domain)) ORDER BY id", [ids, urls, ids, urls, domains])
        names = [d[0] for d in cur.description]
        removed = [dict(zip(names, r)) for r in cur.fetchall()]
        con.close()
        if not removed:
            raise InputError("no kept document matches the given --url/--domain/--id: nothing to take down")
        by_shard: dict[str, set[str]] = {}
        for r in removed:
            by_shard.setdefault(r["shard"], set()).add(r["id"])

        changed, dropped = [], []
        for s in old["shards"]:
            target = storage.join(str(new_url), *s["path"].split("/"))
            src = rel.path(s["path"])
            if s["path"] not in by_shard:
                storage.write_bytes(target, src.read_bytes())
                continue
            table = pq.read_table(src, partitioning=None)
            keep = pa.array([i not in by_shard[s["path"]] for i in table.column("id").to_pylist()])
            table = table.filter(keep)
            if table.num_rows == 0:
                dropped.append(s["path"])
                continue
            _write_parquet(target, table)
            changed.append({"path": s["path"], "old_sha256": s["sha256"], "old_rows": s["rows"], "new_rows": table.num_rows})
        parts = [e["path"] for e in old["exclusions"]]
        for p in parts:
            storage.write_bytes(storage.join(str(new_url), *p.split("/")), rel.path(p).read_bytes())
        n = sum(1 for p in parts if p.startswith(ledger_dir("takedown") + "/"))
        ledger_rel = f"{ledger_dir('takedown')}/part-{n:05d}.parquet"
        rows = [{**{k: r[k] for k in PROVENANCE_COLUMNS}, "stage": "takedown", "reason": "takedown", "rule": RULE,
                 "evidence": json.dumps({"matched_by": r["matched_by"], "request": reason}, sort_keys=True, ensure_ascii=False),
                 "kept_id": None, "lang": r["lang"], "policy_version": r["policy_version"], "run_id": r["run_id"],
                 "pipeline_version": __version__} for r in removed]
        _write_parquet(storage.join(str(new_url), *ledger_rel.split("/")), pa.Table.from_pylist(rows, schema=EXCLUSION_SCHEMA))

        old_manifests = {s["path"]: rel.manifest(s["path"]) for s in old["shards"]}
        config = next(iter(old_manifests.values()))["pipeline"]["config"] if old_manifests else {}
        previous = {k: old[k] for k in ("release_id", "merkle_root", "documents_root", "version")}
        new = build_release(str(new_url), records_read=old["conservation"]["records_read"], config=config, previous=previous,
                            stage_counts=old.get("stage_counts", []), old_manifests=old_manifests)
    new_sha = {s["path"]: s["sha256"] for s in new["shards"]}
    for c in changed:
        c["new_sha256"] = new_sha[c["path"]]
    diff = {"old_release": previous, "new_release": {k: new[k] for k in ("release_id", "merkle_root", "documents_root", "version")},
            "request": {"urls": urls, "domains": domains, "ids": ids, "reason": reason},
            "removed": [{"id": r["id"], "url": r["url"], "shard": r["shard"], "matched_by": r["matched_by"]} for r in removed],
            "shards_changed": changed, "shards_removed": dropped, "ledger_file": ledger_rel}
    layout.validate(diff, "takedown", "takedown.json")
    storage.write_bytes(storage.join(str(new_url), "takedown.json"), layout.dumps(diff))
    return diff
