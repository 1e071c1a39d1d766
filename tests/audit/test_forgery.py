"""`corpus audit verify` against forgeries of the sample release, step by step as an attacker would go.

The forger changes one character of one document, rewrites its shard and patches the hashes: the manifest,
release.json, both roots, summary.json, then croissant.json, then the release id. Every partial forgery is
caught by name (exit 1); the complete one is internally consistent, so it verifies, but under a new release
id and a new root, and `--expect-root` / `--expect-release` with the published values reject it."""

from __future__ import annotations

import hashlib
import json

import pyarrow as pa
import pyarrow.parquet as pq

from corpus_tools.core import layout
from corpus_tools.release.merkle import merkle_root
from tests.audit.test_audit import _fails, release  # noqa: F401 - the fixture: a private copy of the sample release
from tests.conftest import run_cli


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rewrite_one_character(rel_dir, r) -> dict:
    """Change the last character of the first document of the first shard; fix its text_sha256."""
    s = r["shards"][0]
    t = pq.read_table(rel_dir / s["path"])
    rows = t.to_pylist()
    text = rows[0]["text"]
    rows[0]["text"] = text[:-1] + ("x" if text[-1] != "x" else "y")
    rows[0]["text_sha256"] = hashlib.sha256(rows[0]["text"].encode()).hexdigest()
    pq.write_table(pa.Table.from_pylist(rows, schema=t.schema), rel_dir / s["path"], compression="zstd")
    return s


def _patch_hashes(rel_dir, r, s) -> None:
    """Manifest, release.json shard entry, manifest hash, both roots and summary.json, as in the issue."""
    from corpus_tools.release.store import connect, open_release
    from corpus_tools.release.build import documents_leaves
    from corpus_tools.release.summary import compute_summary

    s["sha256"], s["bytes"] = _sha(rel_dir / s["path"]), (rel_dir / s["path"]).stat().st_size
    mpath = rel_dir / layout.manifest_path(s["path"])
    m = json.loads(mpath.read_text())
    m["sha256"], m["bytes"] = s["sha256"], s["bytes"]
    mpath.write_bytes(layout.dumps(m))
    next(e for e in r["manifests"] if e["shard"] == s["path"])["sha256"] = _sha(mpath)
    r["merkle_root"] = merkle_root([bytes.fromhex(x["sha256"]) for x in r["shards"]])
    with open_release(rel_dir) as rel:
        con = connect(rel)
        r["documents_root"] = merkle_root(documents_leaves(con))
        meta = {k: r[k] for k in ("release_id", "version", "merkle_root", "documents_root")}
        summary = compute_summary(con, r["inputs"], meta)
        con.close()
    (rel_dir / "summary.json").write_bytes(layout.dumps(summary))
    r["artefacts"]["summary.json"] = _sha(rel_dir / "summary.json")
    (rel_dir / "release.json").write_bytes(layout.dumps(r))


def _patch_croissant(rel_dir, r, old_root, old_docs_root, s) -> None:
    p = rel_dir / "croissant.json"
    cr = json.loads(p.read_text())
    cr["identifier"] = r["merkle_root"]
    cr["description"] = cr["description"].replace(old_root, r["merkle_root"]).replace(old_docs_root, r["documents_root"])
    f = next(d for d in cr["distribution"] if d.get("contentUrl") == s["path"])
    f["sha256"], f["contentSize"] = s["sha256"], f"{s['bytes']} B"
    p.write_bytes(layout.dumps(cr))
    r["artefacts"]["croissant.json"] = _sha(p)
    (rel_dir / "release.json").write_bytes(layout.dumps(r))


def _patch_release_id(rel_dir, r, new_id) -> None:
    old_id = r["release_id"]
    for name in ("summary.json", "croissant.json"):
        p = rel_dir / name
        p.write_bytes(p.read_bytes().replace(old_id.encode(), new_id.encode()))
        r["artefacts"][name] = _sha(p)
    r["release_id"] = new_id
    (rel_dir / "release.json").write_bytes(layout.dumps(r))


def test_forgery_step_by_step(release):
    from corpus_tools.release.build import content_release_id

    r = json.loads((release / "release.json").read_text())
    published_root, published_docs_root, published_id = r["merkle_root"], r["documents_root"], r["release_id"]
    ok = run_cli("audit", "verify", release, "--expect-root", published_root, "--expect-release", published_id)
    assert ok.exit_code == 0 and f"ok: release {published_id}" in ok.output and "matches the published root" in ok.output

    s = _rewrite_one_character(release, r)
    _fails(run_cli("audit", "verify", release), rf"shard {s['path']}: size|shard {s['path']}: sha256")

    _patch_hashes(release, r, s)  # the forgery: verify used to print "ok" with the original id
    assert r["merkle_root"] != published_root and r["documents_root"] != published_docs_root
    _fails(run_cli("audit", "verify", release), r"release id \w+ in release.json is not the id of its content")

    _patch_croissant(release, r, published_root, published_docs_root, s)
    _fails(run_cli("audit", "verify", release), r"release id \w+ in release.json is not the id of its content")

    forged_id = content_release_id(r["merkle_root"], r["documents_root"], [e["sha256"] for e in r["exclusions"]])
    _patch_release_id(release, r, forged_id)
    consistent = run_cli("audit", "verify", release)
    assert consistent.exit_code == 0, consistent.output
    assert f"ok: release {forged_id}" in consistent.output and forged_id != published_id
    assert published_root not in consistent.output and "not compared with a published root" in consistent.output
    _fails(run_cli("audit", "verify", release, "--expect-root", published_root),
           rf"shards root {r['merkle_root']} is not the published root {published_root}")
    _fails(run_cli("audit", "verify", release, "--expect-release", published_id),
           rf"release id {forged_id} is not the published id {published_id}")
    _fails(run_cli("audit", "verify", release, "--expect-root", published_root[:12]), r"is not 64 hex digits", code=2)


def test_croissant_hashes_are_checked(release):
    """Only croissant.json changed (its hash fixed in release.json): a wrong shard sha256 or a dropped file."""
    r = json.loads((release / "release.json").read_text())
    p = release / "croissant.json"
    original = p.read_bytes()

    def put(cr):
        p.write_bytes(layout.dumps(cr))
        r["artefacts"]["croissant.json"] = _sha(p)
        (release / "release.json").write_bytes(layout.dumps(r))

    cr = json.loads(original)
    f = next(d for d in cr["distribution"] if d.get("@type") == "cr:FileObject")
    f["sha256"] = "0" * 64
    put(cr)
    _fails(run_cli("audit", "verify", release), rf"croissant.json: {f['contentUrl']} sha256 0+ does not match release.json")
    cr = json.loads(original)
    cr["distribution"] = [d for d in cr["distribution"] if d.get("contentUrl") != r["exclusions"][0]["path"]]
    put(cr)
    _fails(run_cli("audit", "verify", release), rf"croissant.json: {r['exclusions'][0]['path']} is in release.json but not")
    cr = json.loads(original)
    cr["identifier"] = "f" * 64
    put(cr)
    _fails(run_cli("audit", "verify", release), r"croissant.json: identifier f+ is not the shards root")
