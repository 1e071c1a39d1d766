"""`corpus audit verify RELEASE`: recompute every hash, both Merkle roots and the conservation check.

    from corpus_tools.audit.verify import verify_release
    report = verify_release("out/sample")      # VerificationError naming the first mismatch
    verify_release("out/sample", expect_root="9f2c...")   # also: is this the release that was published?

Order of checks (the first failure is reported): release.json schema and paths; every shard (present,
bytes, sha256, rows, manifest present, valid and agreeing); no extra shard or manifest; every ledger file;
the shards root; every document's stored `text_sha256` against its text and the documents root; the
release id recomputed from the roots and the ledger hashes; conservation (kept + excluded by reason,
recounted, = records read); summary.json and croissant.json hashes and schemas, summary.json against a fresh
recount, croissant.json's file list, hashes, sizes, roots and id; takedown.json's new release; last, the
published root and id when given.

These checks make a release internally consistent; they cannot tell a consistent forgery (every hash, root
and id recomputed after an edit) from the original. Only the comparison with a root published elsewhere
(`expect_root`) can, and the forgery's recomputed id and roots differ from the original's.
"""

from __future__ import annotations

import hashlib
import json

from corpus_tools.core.errors import InputError, VerificationError
from corpus_tools.core import layout
from corpus_tools.release.merkle import merkle_root


def _sha256(path) -> tuple[str, int]:
    h, n = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            n += len(chunk)
    return h.hexdigest(), n


def _check_file(rel, entry: dict, what: str):
    p = rel.path(entry["path"])
    if not p.is_file():
        raise VerificationError(f"{what} {entry['path']} is missing")
    digest, size = _sha256(p)
    if size != entry["bytes"]:
        raise VerificationError(f"{what} {entry['path']}: size {size} bytes, release.json says {entry['bytes']}")
    if digest != entry["sha256"]:
        raise VerificationError(f"{what} {entry['path']}: sha256 {digest} does not match release.json {entry['sha256']}")
    return p


def _hex(value: str | None, digits: int, option: str) -> str | None:
    if value is None:
        return None
    v = value.strip().lower()
    if len(v) != digits or any(c not in "0123456789abcdef" for c in v):
        raise InputError(f"{option} {value!r} is not {digits} hex digits: copy the value the publisher gave, whole")
    return v


def _check_croissant(cr: dict, r: dict, release_id: str) -> None:
    """croissant.json names the same files with the same sha256 and sizes, the same roots and the same id."""
    where = "croissant.json"
    if cr.get("identifier") != r["merkle_root"]:
        raise VerificationError(f"{where}: identifier {cr.get('identifier')} is not the shards root {r['merkle_root']}")
    if cr.get("name") != f"corpus-tools-release-{release_id}":
        raise VerificationError(f"{where}: name {cr.get('name')!r} does not carry the release id {release_id}")
    desc = cr.get("description", "")
    if r["merkle_root"] not in desc or r["documents_root"] not in desc:
        raise VerificationError(f"{where}: description does not state the shards and documents roots of release.json")
    files = [d for d in cr.get("distribution", []) if d.get("@type") == "cr:FileObject"]
    want = {e["path"]: e for e in r["shards"] + r["exclusions"]}
    seen = set()
    for f in files:
        e = want.get(f.get("contentUrl"))
        if e is None or f["contentUrl"] in seen:
            raise VerificationError(f"{where}: file {f.get('contentUrl')!r} is not a shard or ledger file of release.json (or listed twice)")
        seen.add(f["contentUrl"])
        if f.get("sha256") != e["sha256"]:
            raise VerificationError(f"{where}: {e['path']} sha256 {f.get('sha256')} does not match release.json {e['sha256']}")
        if f.get("contentSize") != f"{e['bytes']} B":
            raise VerificationError(f"{where}: {e['path']} size {f.get('contentSize')!r} does not match release.json {e['bytes']} B")
    missing = sorted(set(want) - seen)
    if missing:
        raise VerificationError(f"{where}: {missing[0]} is in release.json but not in croissant.json")
    for policy in cr.get("usageInfo", []):
        cls = policy.get("name", "").removeprefix("redistribution=")
        targets = sorted(t.get("@id") for t in policy.get("odrl:target", []))
        if targets != sorted(s["path"] for s in r["shards"] if s["redistribution"] == cls):
            raise VerificationError(f"{where}: usage policy {policy.get('name')!r} targets other shards than class {cls!r} holds")


def verify_open(rel, expect_root: str | None = None, expect_release: str | None = None) -> dict:
    """Verify an opened release (see `store.open_release`); return the figures checked.

    expect_root: the shards Merkle root published by the release's maker; expect_release: its release id.
    VerificationError if the release (even a consistent one) has another."""
    import pyarrow.parquet as pq

    from corpus_tools.release.store import connect
    from corpus_tools.release.build import conservation_counts, content_release_id, documents_leaves
    from corpus_tools.release.summary import compute_summary

    expect_root = _hex(expect_root, 64, "--expect-root")
    expect_release = _hex(expect_release, 16, "--expect-release")
    r = rel.release
    # shards: listed ones, then anything on disk that is not listed
    for s in r["shards"]:
        lang, red, _ = layout.parse_shard_path(s["path"])
        if (lang, red) != (s["lang"], s["redistribution"]):
            raise VerificationError(f"shard {s['path']}: lang/redistribution in release.json do not match its path")
        p = _check_file(rel, s, "shard")
        rows = pq.ParquetFile(p).metadata.num_rows
        if rows != s["rows"]:
            raise VerificationError(f"shard {s['path']}: {rows} rows, release.json says {s['rows']}")
        m = rel.manifest(s["path"])
        for key in ("path", "sha256", "bytes", "rows", "lang", "redistribution"):
            if m[key] != s[key]:
                raise VerificationError(f"manifest {layout.manifest_path(s['path'])}: {key} {m[key]!r} != release.json {s[key]!r}")
        for inp in m["inputs"]:
            if inp["path"] is not None and not inp["path"].startswith("s3://") and ".." in inp["path"].split("/"):
                raise VerificationError(f"manifest {layout.manifest_path(s['path'])}: unsafe input path {inp['path']!r}")
    listed = {s["path"] for s in r["shards"]}
    extra = [p for p in rel.files("shards", ".parquet") if p not in listed]
    if extra:
        raise VerificationError(f"extra shard {extra[0]} is not in release.json (added after the release)")
    listed_manifests = {m["path"]: m for m in r["manifests"]}
    if set(listed_manifests) != {layout.manifest_path(p) for p in listed}:
        raise VerificationError("release.json lists a different set of manifests than of shards")
    for mp, entry in sorted(listed_manifests.items()):
        digest, _ = _sha256(rel.path(mp))
        if digest != entry["sha256"]:
            raise VerificationError(f"manifest {mp}: sha256 {digest} does not match release.json {entry['sha256']}")
    extra = [p for p in rel.files("manifests", ".json") if p not in listed_manifests]
    if extra:
        raise VerificationError(f"extra manifest {extra[0]} is not in release.json")
    for e in r["exclusions"]:
        p = _check_file(rel, e, "ledger file")
        if pq.ParquetFile(p).metadata.num_rows != e["rows"]:
            raise VerificationError(f"ledger file {e['path']}: row count differs from release.json")
    listed = {e["path"] for e in r["exclusions"]}
    extra = [p for p in rel.files("exclusions", ".parquet") if p not in listed]
    if extra:
        raise VerificationError(f"extra ledger file {extra[0]} is not in release.json")

    root = merkle_root([bytes.fromhex(s["sha256"]) for s in sorted(r["shards"], key=lambda s: s["path"])])
    if [s["path"] for s in r["shards"]] != sorted(s["path"] for s in r["shards"]):
        raise VerificationError("release.json shards are not in sorted path order")
    if root != r["merkle_root"]:
        raise VerificationError(f"shards Merkle root {root} does not match release.json {r['merkle_root']}")

    con = connect(rel)
    bad = con.execute("SELECT shard, id FROM documents WHERE text_sha256 IS NOT NULL AND text_sha256 <> sha256(coalesce(text, '')) "
                      "ORDER BY shard, id LIMIT 1").fetchone()
    if bad:
        raise VerificationError(f"document {bad[1]} in {bad[0]}: text_sha256 does not match its text")
    dup = con.execute("SELECT id FROM documents GROUP BY id HAVING count(*) > 1 ORDER BY id LIMIT 1").fetchone()
    if dup:
        raise VerificationError(f"document id {dup[0]} appears in more than one row")
    leaves = documents_leaves(con)
    docs_root = merkle_root(leaves)
    if docs_root != r["documents_root"]:
        raise VerificationError(f"documents Merkle root {docs_root} does not match release.json {r['documents_root']}")
    release_id = content_release_id(root, docs_root, [e["sha256"] for e in sorted(r["exclusions"], key=lambda e: e["path"])])
    if release_id != r["release_id"]:
        raise VerificationError(f"release id {r['release_id']} in release.json is not the id of its content ({release_id}): "
                                "the release was modified after it was built")

    kept, excluded, by_reason = conservation_counts(con)
    c = r["conservation"]
    if (kept, excluded) != (c["documents_kept"], c["records_excluded"]):
        raise VerificationError(f"conservation: recounted kept {kept} / excluded {excluded}, release.json says "
                                f"{c['documents_kept']} / {c['records_excluded']}")
    if by_reason != c["excluded_by_reason"]:
        diff = sorted(k for k in set(by_reason) | set(c["excluded_by_reason"]) if by_reason.get(k) != c["excluded_by_reason"].get(k))
        raise VerificationError(f"conservation: excluded count for {diff[0]} is {by_reason.get(diff[0], 0)}, release.json says "
                                f"{c['excluded_by_reason'].get(diff[0], 0)}")
    if c["records_read"] != kept + excluded or not c["ok"]:
        raise VerificationError(f"conservation broken: read {c['records_read']} != kept {kept} + excluded {excluded}")

    for name, schema in (("summary.json", "summary"), ("croissant.json", "croissant")):
        p = rel.path(name)
        if not p.is_file():
            raise VerificationError(f"{name} is missing")
        digest, _ = _sha256(p)
        if digest != r["artefacts"][name]:
            raise VerificationError(f"{name}: sha256 {digest} does not match release.json {r['artefacts'][name]}")
        layout.loads(p.read_bytes(), schema, name)
    summary = json.loads(rel.path("summary.json").read_bytes())
    meta = {"release_id": release_id, "version": r["version"], "merkle_root": root, "documents_root": docs_root}
    if compute_summary(con, r["inputs"], meta) != summary:
        raise VerificationError("summary.json does not match a recount over the release")
    con.close()
    _check_croissant(json.loads(rel.path("croissant.json").read_bytes()), r, release_id)
    if rel.path("takedown.json").is_file():
        new = layout.loads(rel.path("takedown.json").read_bytes(), "takedown", "takedown.json")["new_release"]
        if new != {"release_id": release_id, "merkle_root": root, "documents_root": docs_root, "version": r["version"]}:
            raise VerificationError("takedown.json: new_release does not name this release's id, roots and version")

    if expect_root is not None and root != expect_root:
        raise VerificationError(f"shards root {root} is not the published root {expect_root}: this is not the release "
                                f"that was published (release id {release_id}); do not use it")
    if expect_release is not None and release_id != expect_release:
        raise VerificationError(f"release id {release_id} is not the published id {expect_release}: this is not the "
                                "release that was published; do not use it")
    return {"release_id": release_id, "version": r["version"], "shards": len(r["shards"]), "documents": kept,
            "excluded": excluded, "records_read": c["records_read"], "ledger_files": len(r["exclusions"]),
            "merkle_root": root, "documents_root": docs_root}


def verify_release(url: str, expect_root: str | None = None, expect_release: str | None = None) -> dict:
    from corpus_tools.release.store import open_release

    _hex(expect_root, 64, "--expect-root")  # bad input fails before the release is read
    _hex(expect_release, 16, "--expect-release")
    with open_release(url) as rel:
        return verify_open(rel, expect_root=expect_root, expect_release=expect_release)
