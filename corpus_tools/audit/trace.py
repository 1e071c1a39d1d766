"""`trace` (where did this document come from, and what did every stage decide?) and `why` (why was this
URL excluded?), answered from the release alone plus one range read of the original WARC record.

    from corpus_tools.audit.trace import trace, why
    with open_release("out/sample") as rel:
        trace(rel, "https://example.org/page")    # or a document id
        why(rel, "https://example.org/robots.txt")

In a restaged release (`corpus stage`) `trace` also follows the document into the parent release(s):
`trace_lineage` gives the run, stages, parameters, the parent ledger rows this run re-decided for it
(`lineage/superseded/`) and the parent's own trace of the same id, recursively.
"""

from __future__ import annotations

import json
import re

from corpus_tools.core import storage
from corpus_tools.core.errors import InputError
from corpus_tools.core.schema import PROVENANCE_COLUMNS

_ID = re.compile(r"^[0-9a-f]{32}$")
LEDGER_KEYS = ("stage", "reason", "rule", "evidence", "kept_id", "policy_version")


def _rows(con, sql: str, params: list) -> list[dict]:
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def _evidence(value):
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def rule_version(rule: str | None) -> str | None:
    m = re.search(r"_v(\d+)$", rule or "")
    return f"v{m.group(1)}" if m else None


def fetch_and_check(row: dict) -> dict:
    """Re-read the WARC record by its pointer; compare record id and payload digest with the stored ones."""
    from corpus_tools.readers.record import fetch_record

    path, offset, length = row.get("warc_path"), row.get("warc_offset"), row.get("warc_length")
    out = {"warc_path": path, "offset": offset, "length": length, "expected_payload_digest": row.get("payload_digest")}
    if path is None or offset is None or not length:
        return {**out, "fetched": False, "verified": False, "error": "no WARC pointer stored for this record"}
    try:
        rec = fetch_record(path, int(offset), int(length))
    except Exception as e:  # missing file, unreachable S3, damaged bytes: reported, not raised
        return {**out, "fetched": False, "verified": False, "error": " ".join(str(e).split())[:300]}
    found_id = rec.rec_headers.get("WARC-Record-ID")
    found_digest = rec.rec_headers.get("WARC-Payload-Digest")
    id_ok = found_id is None or row.get("warc_record_id") is None or found_id == row["warc_record_id"] or row["warc_record_id"].startswith("<urn:corpus:")
    stored_ok = row.get("payload_digest") in (None, found_digest)
    # True: a digest was recomputed and matched; None: nothing to recompute (no digest header); False: mismatch
    verified = False if not (id_ok and stored_ok) or rec.digest_ok is False else (True if rec.digest_ok else None)
    return {**out, "fetched": True, "record_type": rec.rec_type, "record_id": found_id, "record_id_matches": id_ok,
            "payload_digest": found_digest, "stored_digest_matches": stored_ok, "digests": rec.digests,
            "payload_bytes": len(rec.payload), "http_status": rec.http_status, "verified": verified}


def _lookup(con, key: str) -> tuple[list[dict], list[dict]]:
    col = "id" if _ID.match(key) else "url"
    docs = _rows(con, f"SELECT * EXCLUDE (text) FROM documents WHERE {col} = ? ORDER BY id", [key])
    excl = _rows(con, f"SELECT * FROM exclusions WHERE {col} = ? ORDER BY id, stage", [key])
    return docs, excl


def trace(rel, key: str, fetch: bool = True) -> list[dict]:
    """Every document or ledger row whose id or URL is `key`, with provenance, decisions and the WARC check."""
    from corpus_tools.release.store import connect
    from corpus_tools.core import layout

    con = connect(rel)
    docs, excl = _lookup(con, key)
    if not docs and not excl:
        raise InputError(f"{key!r} is neither a document id nor a URL in this release (ids are 32 hex digits; URLs must match exactly)")
    shards = {s["path"]: s for s in rel.release["shards"]}
    out = []
    for row in docs:
        shard = row.pop("shard")
        m = rel.manifest(shard)
        steps = [{"phase": ph["phase"], "step": st["step"], "decision": "passed"} for ph in m["stage_counts"] for st in ph["steps"]]
        out.append({
            "id": row["id"], "status": "kept",
            "provenance": {k: row.get(k) for k in PROVENANCE_COLUMNS},
            "location": {"shard": shard, "shard_sha256": shards[shard]["sha256"], "manifest": layout.manifest_path(shard),
                         "lang": row.get("lang"), "redistribution": row.get("redistribution"), "train_eligible": row.get("train_eligible"),
                         "merkle_root": rel.release["merkle_root"], "documents_root": rel.release["documents_root"]},
            "decisions": steps,
            "signals": {k: v for k, v in row.items() if k not in PROVENANCE_COLUMNS},
            "pipeline": {"config_sha256": m["pipeline"]["config_sha256"], "code": m["code"]},
            "warc_record": fetch_and_check(row) if fetch else None,
        })
    for row in excl:
        ledger = {k: row.get(k) for k in LEDGER_KEYS}
        ledger["evidence"] = _evidence(ledger["evidence"])
        ledger["rule_version"] = rule_version(ledger["rule"])
        out.append({
            "id": row["id"], "status": "excluded",
            "provenance": {k: row.get(k) for k in PROVENANCE_COLUMNS},
            "location": {"ledger_file": row.get("ledger_file")},
            "decisions": [{"stage": row["stage"], "decision": "excluded", "reason": row["reason"], "rule": row["rule"]}],
            "exclusion": ledger,
            "signals": {k: v for k, v in row.items() if k not in PROVENANCE_COLUMNS and k not in LEDGER_KEYS and k != "ledger_file"},
            "warc_record": fetch_and_check(row) if fetch else None,
        })
    con.close()
    if (rel.release or {}).get("lineage"):  # made by `corpus stage`: follow the document into the parent release(s)
        for entry in out:
            entry["lineage"] = trace_lineage(rel, entry["id"])
    return out


def why(rel, key: str) -> list[dict]:
    """The ledger rows of an excluded URL (or id): stage, reason, rule, rule version, evidence, pointer."""
    from corpus_tools.release.store import connect

    con = connect(rel)
    docs, excl = _lookup(con, key)
    con.close()
    if not excl:
        if docs:
            raise InputError(f"{key} was kept, not excluded (shard {docs[0]['shard']}): use `corpus audit trace` for its provenance")
        raise InputError(f"{key!r} is not in this release's documents or exclusions (URLs must match exactly)")
    out = []
    for row in excl:
        out.append({"id": row["id"], "url": row["url"], "stage": row["stage"], "reason": row["reason"], "rule": row["rule"],
                    "rule_version": rule_version(row["rule"]), "evidence": _evidence(row["evidence"]),
                    "kept_id": row.get("kept_id"), "policy_version": row.get("policy_version"),
                    "warc": {"path": row["warc_path"], "offset": row["warc_offset"], "length": row["warc_length"],
                             "record_id": row["warc_record_id"], "date": row["warc_date"]},
                    "ledger_file": row["ledger_file"]})
    return out


# --- lineage: a document through a restaged release and its parents ---------------------------------------

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
    from corpus_tools.release.store import open_release
    from corpus_tools.core.errors import CorpusError
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
