"""Build a release from a run's output: shard manifests, summary.json, croissant.json and release.json.

    from corpus_tools.release import build_release
    release = build_release("out/sample")            # local directory or s3:// prefix

It runs as the last phase of a recipe (`ReleaseStep`, one task) and as a library call (takedown reuses it).
Everything is recomputed from the files: shard hashes and rows, the documents tree over every kept document,
the conservation check (records read, from the reader's per-task stats, = kept + excluded by reason).
release.json is written last, so a release without it is unfinished.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from corpus_tools.core import storage
from corpus_tools.core.errors import InputError
from corpus_tools.core import layout
from corpus_tools.release import assets
from corpus_tools.release.merkle import document_leaf, merkle_root

FORMAT = "corpus-tools-release/1"


def _local_copy(output: str, stack: contextlib.ExitStack) -> Path:
    """The output as a local directory: itself, or the release-relevant files of an S3 prefix in a temp dir."""
    if not storage.is_s3(output):
        return Path(output).resolve()
    root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="corpus-release-")))
    prefix = output.rstrip("/") + "/"
    for url in storage.list_files(output.rstrip("/"), ".parquet"):
        rel = url[len(prefix):]
        if rel.startswith(("shards/", "exclusions/")):
            target = layout.resolve_inside(root, rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(storage.read_bytes(url))
    return root


def _sha256(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest(), path.stat().st_size


def list_release_parquet(root: Path, prefix: str) -> list[str]:
    base = root / prefix
    if not base.is_dir():
        return []
    return sorted(p.relative_to(root).as_posix() for p in base.rglob("*.parquet") if p.is_file() and ".tmp" not in p.name)


def documents_leaves(con) -> list[bytes]:
    """Leaf data of the documents tree, in sorted id order, from the `documents` view."""
    rows = con.execute("SELECT id, sha256(coalesce(text, '')), redistribution, train_eligible FROM documents ORDER BY id, shard").fetchall()
    return [document_leaf(*r) for r in rows]


def content_release_id(shards_root: str, documents_root: str, ledger_sha256s: list[str]) -> str:
    """The release id: 16 hex of SHA-256 over both roots and the ledger files' sha256 (in sorted path order).

    It names the content, so any change to a shard, a document or the ledger changes it, and `corpus audit
    verify` recomputes it. It is a short name (64 bits), not a proof: an auditor compares the full roots with
    the published ones (`verify --expect-root`)."""
    ledger_hash = hashlib.sha256("".join(ledger_sha256s).encode()).hexdigest()
    return hashlib.sha256(f"{shards_root}:{documents_root}:{ledger_hash}".encode()).hexdigest()[:16]


def conservation_counts(con) -> tuple[int, int, dict[str, int]]:
    kept = con.execute("SELECT count(*) FROM documents").fetchone()[0]
    by_reason = {k: int(v) for k, v in con.execute(
        "SELECT stage || '/' || reason, count(*) FROM exclusions GROUP BY 1 ORDER BY 1").fetchall()}
    return int(kept), sum(by_reason.values()), by_reason


def build_release(output: str, *, records_read: int | None = None, config: dict | None = None,
                  previous: dict | None = None, version: str | None = None, stage_counts: list | None = None,
                  old_manifests: dict[str, dict] | None = None, inputs_cache: dict | None = None) -> dict:
    """Write manifests/, summary.json, croissant.json, release.json into `output`; return release.json.

    records_read: records the reader read (default: the docs phase stats in logs/, see run.records_read).
    config / stage_counts: default from logs/<phase>/executor.json and stats; takedown passes the old ones.
    previous: {release_id, merkle_root, documents_root, version} of the release this one replaces.
    old_manifests: shard path -> its manifest in that release; their per-task stage counts are carried over.
    """
    from corpus_tools.release.store import Release, connect
    from corpus_tools.release.croissant import build_croissant
    from corpus_tools.release.summary import compute_summary
    from corpus_tools.core.layout import records_read as stats_records_read

    output = str(output)
    with contextlib.ExitStack() as stack:
        root = _local_copy(output, stack)
        if not (root / "shards").is_dir() and not (root / "exclusions").is_dir():
            raise InputError(f"{output} has no shards/ or exclusions/: give the output directory of a `corpus run`")
        shards_rel = list_release_parquet(root, "shards")
        ledger_rel = list_release_parquet(root, "exclusions")
        config = config if config is not None else assets.pipeline_config(output)
        cfg_hash = assets.config_sha256(config)
        models = assets.models_and_lists(config)
        code = assets.code_version()
        stage_counts = stage_counts if stage_counts is not None else assets.run_stats(output)
        read = records_read if records_read is not None else stats_records_read(output)

        rel = Release(url=output, root=root,
                      scratch=Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="corpus-duckdb-"))))
        rel.release = {"shards": [{"path": p} for p in shards_rel], "exclusions": [{"path": p} for p in ledger_rel]}
        con = connect(rel, lock=False)

        inputs_cache = inputs_cache if inputs_cache is not None else {}
        # the same objects in every manifest: encoded to JSON once (`SharedJson`)
        pipeline = {"config": config, "config_sha256": cfg_hash}
        manifest_json = SharedJson({"pipeline": pipeline, "code": code, "models_and_lists": models})
        stats_of_part = functools.cache(lambda part: assets.task_stats(output, part))  # shards of one task share it
        shard_entries, manifests, manifest_entries = [], [], []
        # one pass per question over all shards (a filter on `shard` cannot be pushed into the scan)
        per_shard = {r[0]: r[1:] for r in con.execute("SELECT shard, count(*), min(id), max(id) FROM documents GROUP BY 1").fetchall()}
        warcs_by_shard: dict[str, list] = {}
        for shard, warc, count in con.execute("SELECT shard, warc_path, count(*) FROM documents GROUP BY 1, 2 ORDER BY 1, 2").fetchall():
            warcs_by_shard.setdefault(shard, []).append((warc, count))
        run_ids = {r[0] for r in con.execute("SELECT DISTINCT run_id FROM documents WHERE run_id IS NOT NULL").fetchall()}
        for path in shards_rel:
            lang, red, part = layout.parse_shard_path(path)
            digest, size = _sha256(root / path)
            n, lo, hi = per_shard.get(path, (0, None, None))
            warcs = warcs_by_shard.get(path, [])
            inputs = []
            for warc, count in warcs:
                if warc not in inputs_cache:
                    inputs_cache[warc] = assets.warc_input(warc) if warc and storage.exists(warc) else \
                        {"path": warc, "sha256": None, "bytes": None, "warcinfo": {}}
                inputs.append({**inputs_cache[warc], "documents": int(count)})
            manifest = {
                "format": "corpus-tools-shard-manifest/1", "path": path, "sha256": digest, "bytes": size, "rows": int(n),
                "lang": lang, "redistribution": red, "min_id": lo, "max_id": hi, "inputs": inputs,
                "stage_counts": (old_manifests[path]["stage_counts"] if old_manifests and path in old_manifests
                                 else stats_of_part(part)),
                "pipeline": pipeline, "code": code, "models_and_lists": models,
            }
            layout.validate(manifest, "shard-manifest", layout.manifest_path(path))
            manifests.append(manifest)
            shard_entries.append({"path": path, "sha256": digest, "bytes": size, "rows": int(n), "lang": lang, "redistribution": red})

        ledger_entries = []
        per_ledger = dict(con.execute("SELECT ledger_file, count(*) FROM exclusions GROUP BY 1").fetchall())
        for path in ledger_rel:
            digest, size = _sha256(root / path)
            n = per_ledger.get(path, 0)
            ledger_entries.append({"path": path, "sha256": digest, "bytes": size, "rows": int(n)})

        shard_root = merkle_root([bytes.fromhex(s["sha256"]) for s in shard_entries])
        doc_leaves = documents_leaves(con)
        docs_root = merkle_root(doc_leaves)
        kept, excluded, by_reason = conservation_counts(con)
        release_id = content_release_id(shard_root, docs_root, [e["sha256"] for e in ledger_entries])
        if version is None:
            version = "1.0.0" if previous is None else f"{int(previous['version'].split('.')[0]) + 1}.0.0"
        meta = {"release_id": release_id, "version": version, "merkle_root": shard_root, "documents_root": docs_root}
        all_warcs = [r[0] for r in con.execute("SELECT warc_path FROM documents WHERE warc_path IS NOT NULL UNION "
                                                "SELECT warc_path FROM exclusions WHERE warc_path IS NOT NULL ORDER BY 1").fetchall()]
        inputs = []
        for warc in all_warcs:
            if warc not in inputs_cache:
                inputs_cache[warc] = assets.warc_input(warc) if storage.exists(warc) else {"path": warc, "sha256": None, "bytes": None, "warcinfo": {}}
            inputs.append(inputs_cache[warc])
        summary = compute_summary(con, inputs, meta)
        layout.validate(summary, "summary", "summary.json")
        created = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        croissant = build_croissant(output, meta, shard_entries, ledger_entries, inputs, cfg_hash, summary, created)
        layout.validate(croissant, "croissant", "croissant.json")

        def put(rel_path: str, obj: dict, dumps=layout.dumps) -> str:
            data = dumps(obj)
            storage.write_bytes(storage.join(output, *rel_path.split("/")), data)
            return hashlib.sha256(data).hexdigest()

        manifest_files = {layout.manifest_path(m["path"]) for m in manifests}
        if not storage.is_s3(output):  # manifests of shards that are gone (a rebuild after takedown) must go too
            for stale in (root / "manifests").glob("part-*.json") if (root / "manifests").is_dir() else []:
                if f"manifests/{stale.name}" not in manifest_files:
                    stale.unlink()
        for m in manifests:
            manifest_entries.append({"path": layout.manifest_path(m["path"]), "shard": m["path"],
                                     "sha256": put(layout.manifest_path(m["path"]), m, manifest_json.dumps)})
        release = {
            "format": FORMAT, **meta, "created": created, "run_ids": sorted(run_ids), "previous": previous,
            "totals": {"records_read": read, "documents_kept": kept, "records_excluded": excluded, "shards": len(shard_entries),
                       "shard_bytes": sum(s["bytes"] for s in shard_entries),
                       "kept_by_lang": _count(shard_entries, "lang"), "kept_by_redistribution": _count(shard_entries, "redistribution")},
            "conservation": {"records_read": read, "documents_kept": kept, "records_excluded": excluded,
                             "excluded_by_reason": by_reason, "ok": read == kept + excluded},
            "merkle": {"algorithm": "RFC 6962 SHA-256", "shards_leaf": "raw 32-byte sha256 of each shard, sorted by path",
                       "shards_tree_size": len(shard_entries),
                       "documents_leaf": "UTF-8 compact JSON [id, sha256(text) hex, redistribution, train_eligible], sorted by id",
                       "documents_tree_size": len(doc_leaves)},
            "inputs": inputs, "shards": shard_entries, "manifests": manifest_entries, "exclusions": ledger_entries,
            "stage_counts": stage_counts, "pipeline_config_sha256": cfg_hash, "code": code,
            "artefacts": {"summary.json": put("summary.json", summary), "croissant.json": put("croissant.json", croissant)},
        }
        layout.validate(release, "release", "release.json")
        put("release.json", release)
        con.close()
        return release


class SharedJson:
    """`layout.dumps` of dicts that share big values: each value of `shared` is encoded once and reused wherever
    a dict holds that very object under that key (every shard manifest of a release has the same pipeline
    config, code and models list: 97 % of its bytes). The bytes are layout.dumps's: a value nested one level
    down is its own canonical form with every line after the first indented by two more spaces (JSON strings
    hold no raw newline)."""

    def __init__(self, shared: dict):
        self.shared = shared
        self.fragments = {k: self._nested(v) for k, v in shared.items()}

    @staticmethod
    def _nested(value) -> str:
        return layout.dumps(value).decode("utf-8")[:-1].replace("\n", "\n  ")

    def dumps(self, obj: dict) -> bytes:
        if not obj:
            return layout.dumps(obj)
        items = [f"  {json.dumps(k, ensure_ascii=False)}: "
                 + (self.fragments[k] if k in self.shared and obj[k] is self.shared[k] else self._nested(obj[k]))
                 for k in sorted(obj)]
        return ("{\n" + ",\n".join(items) + "\n}\n").encode("utf-8")


def _count(entries: list[dict], key: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in entries:
        out[e[key]] = out.get(e[key], 0) + e["rows"]
    return dict(sorted(out.items()))


class ReleaseStep(PipelineStep):
    """The last phase of a recipe (tasks=1): `build_release(output)` once every earlier phase is complete.

    output: the run's output directory or s3:// prefix.
    """

    type = "release"
    name = "ReleaseStep"

    def __init__(self, output: str):
        super().__init__()
        self.output = output

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            for _ in data:
                pass
        with self.track_time():
            release = build_release(self.output)
        self.stat_update("shards", value=release["totals"]["shards"])
        self.stat_update("documents", value=release["totals"]["documents_kept"])
        return
        yield  # a generator that yields nothing: the release writes files, not documents


