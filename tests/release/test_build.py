"""The release a `corpus run` writes (sample crawl, real WARCs): manifests, release.json, croissant.json,
summary.json; schemas, hashes, roots and conservation recomputed here independently of the library."""

from __future__ import annotations

import hashlib
import json
import shutil

import pyarrow.parquet as pq
import pytest

from corpus_tools.core.errors import VerificationError
from corpus_tools.core import layout
from corpus_tools.release import build_release
from corpus_tools.release.merkle import merkle_root


def _sha(p) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def release(sample_run):
    return json.loads((sample_run / "release.json").read_text())


def test_release_json_lists_every_shard_with_the_keys_pull_needs(sample_run, release):
    layout.validate(release, "release", "release.json")
    on_disk = sorted(p.relative_to(sample_run).as_posix() for p in (sample_run / "shards").rglob("*.parquet"))
    assert [s["path"] for s in release["shards"]] == on_disk
    for s in release["shards"]:
        assert set(s) == {"path", "sha256", "bytes", "rows", "lang", "redistribution"}
        p = sample_run / s["path"]
        assert s["sha256"] == _sha(p) and s["bytes"] == p.stat().st_size
        assert s["rows"] == pq.ParquetFile(p).metadata.num_rows
        assert f"language={s['lang']}/redistribution_class={s['redistribution']}/" in s["path"]
    assert all(not p.startswith("staging/") for p in on_disk)


def test_roots_recomputed_independently(sample_run, release):
    leaves = [bytes.fromhex(s["sha256"]) for s in sorted(release["shards"], key=lambda s: s["path"])]
    assert release["merkle_root"] == merkle_root(leaves)
    rows = []
    for s in release["shards"]:
        t = pq.read_table(sample_run / s["path"], columns=["id", "text", "redistribution", "train_eligible"])
        rows += t.to_pylist()
    rows.sort(key=lambda r: r["id"])
    docs = [json.dumps([r["id"], hashlib.sha256(r["text"].encode()).hexdigest(), r["redistribution"], r["train_eligible"]],
                       separators=(",", ":"), ensure_ascii=False).encode() for r in rows]
    assert release["documents_root"] == merkle_root(docs)
    assert release["merkle"]["documents_tree_size"] == len(rows) > 20


def test_conservation_matches_run_json_and_the_ledger(sample_run, release):
    run = json.loads((sample_run / "run.json").read_text())
    c = release["conservation"]
    assert c["ok"] and c["records_read"] == run["records_read"] == c["documents_kept"] + c["records_excluded"]
    assert c["documents_kept"] == run["documents_kept"] and c["excluded_by_reason"] == run["excluded_by_reason"]
    ledgers = sorted(p.relative_to(sample_run).as_posix() for p in (sample_run / "exclusions").rglob("*.parquet"))
    assert [e["path"] for e in release["exclusions"]] == ledgers
    for e in release["exclusions"]:
        assert e["sha256"] == _sha(sample_run / e["path"])


def test_one_manifest_per_shard_with_provenance(sample_run, release):
    from corpus_tools.lid.backends import lid176_path

    manifests = sorted((sample_run / "manifests").glob("*.json"))
    assert len(manifests) == len(release["shards"]) == len(release["manifests"])
    lid = {"sha256": hashlib.sha256(lid176_path().read_bytes()).hexdigest(), "licence": "CC-BY-SA-3.0"}
    for entry in release["manifests"]:
        raw = (sample_run / entry["path"]).read_bytes()
        m = layout.loads(raw, "shard-manifest", entry["path"])
        assert raw == layout.dumps(m)  # the canonical form, though its shared parts are encoded once per release
        assert entry["sha256"] == _sha(sample_run / entry["path"]) and m["path"] == entry["shard"]
        t = pq.read_table(sample_run / m["path"], columns=["id", "warc_path"])
        ids = t.column("id").to_pylist()
        assert (m["min_id"], m["max_id"], m["rows"]) == (min(ids), max(ids), len(ids))
        assert {i["path"] for i in m["inputs"]} == set(t.column("warc_path").to_pylist())
        for i in m["inputs"]:
            assert i["sha256"] == hashlib.sha256(open(i["path"], "rb").read()).hexdigest()
        assert any(a["file"] == "lid.176.ftz" and a["sha256"] == lid["sha256"] and a["licence"] == lid["licence"]
                   for a in m["models_and_lists"])
        assert any(a["name"] == "language_ids/registry.tsv" for a in m["models_and_lists"])
        assert len(m["pipeline"]["config_sha256"]) == 64 and "docs" in m["pipeline"]["config"]
        assert [p["phase"] for p in m["stage_counts"]][0] == "docs" and m["code"]["corpus_tools"]


def test_croissant_describes_every_file_with_its_hash(sample_run, release):
    c = json.loads((sample_run / "croissant.json").read_text())
    layout.validate(c, "croissant", "croissant.json")
    assert c["conformsTo"] == "http://mlcommons.org/croissant/1.1" and c["@type"] == "sc:Dataset"
    files = {d["@id"]: d for d in c["distribution"] if d["@type"] == "cr:FileObject"}
    for s in release["shards"] + release["exclusions"]:
        assert files[s["path"]]["sha256"] == s["sha256"]
    fields = {f["name"] for rs in c["recordSet"] if rs["@id"] == "documents" for f in rs["field"]}
    assert {"id", "text", "url", "redistribution", "train_eligible", "warc_path"} <= fields
    classes = {s["redistribution"] for s in release["shards"]}
    assert {u["name"] for u in c["usageInfo"]} == {f"redistribution={k}" for k in classes}
    assert release["artefacts"]["croissant.json"] == _sha(sample_run / "croissant.json")
    assert release["merkle_root"] in c["description"]


def _copy(src, dst):
    for name in ("shards", "exclusions", "manifests", "logs"):
        shutil.copytree(src / name, dst / name)
    for name in ("release.json", "croissant.json", "summary.json"):
        shutil.copy(src / name, dst / name)
    return dst


def test_rebuild_is_deterministic_and_needs_no_driver(sample_run, release, tmp_path):
    out = _copy(sample_run, tmp_path / "copy")
    again = build_release(str(out))
    for key in ("merkle_root", "documents_root", "release_id", "conservation", "shards", "exclusions"):
        assert again[key] == release[key], key
    assert (out / "summary.json").read_bytes() == (sample_run / "summary.json").read_bytes()


def test_traversal_in_release_json_is_rejected_on_read(sample_run, tmp_path):
    from corpus_tools.release.store import open_release

    out = _copy(sample_run, tmp_path / "evil")
    r = json.loads((out / "release.json").read_text())
    r["exclusions"][0]["path"] = "exclusions/../../../../etc/part-00000.parquet"
    (out / "release.json").write_text(json.dumps(r))
    with pytest.raises(VerificationError, match="release.schema.json at exclusions/0/path"):
        with open_release(str(out)):
            pass


def test_no_output_is_one_line_error(tmp_path):
    from corpus_tools.core.errors import InputError

    with pytest.raises(InputError, match="no shards/ or exclusions/"):
        build_release(str(tmp_path))


def test_shared_json_writes_the_bytes_of_layout_dumps():
    """SharedJson encodes the parts every manifest shares once; the bytes must stay layout.dumps's, also for
    values that are equal to a shared one but another object, and for empty, nested and non-ASCII values."""
    import random

    from corpus_tools.release.build import SharedJson

    rng = random.Random(22)

    def value(depth: int = 0):
        kind = rng.choice(["str", "int", "float", "none", "bool"] + (["list", "dict"] * 2 if depth < 4 else []))
        if kind == "list":
            return [value(depth + 1) for _ in range(rng.randint(0, 4))]
        if kind == "dict":
            return {rng.choice(["a", "b", "z", "ü", "k\"q", "\n", ""]) + str(i): value(depth + 1) for i in range(rng.randint(0, 4))}
        return {"str": lambda: rng.choice(["", "x", "ä\u00e9\u4e2d", "line\nbreak", "tab\t\"q\"", "\\"]),
                "int": lambda: rng.randint(-10**12, 10**12), "float": lambda: rng.random() * 10 ** rng.randint(-5, 20),
                "none": lambda: None, "bool": lambda: rng.random() < 0.5}[kind]()

    for _ in range(300):
        shared = {k: value() for k in ("pipeline", "code", "models_and_lists") if rng.random() < 0.8}
        coder = SharedJson(shared)
        obj = {k: value() for k in ("path", "rows", "inputs", "\u00e9") if rng.random() < 0.7}
        for k, v in shared.items():
            obj[k] = v if rng.random() < 0.8 else json.loads(json.dumps(v))  # the shared object, or an equal copy
        assert coder.dumps(obj) == layout.dumps(obj)
    assert SharedJson({}).dumps({}) == layout.dumps({})
