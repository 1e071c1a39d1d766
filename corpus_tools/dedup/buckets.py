"""LSH buckets (phase 2 of dedup): candidate pairs per band, verified on the signature, written as edges.

One unit = (language, hash range). For each band the unit reads only that band's column of every
signature file of the language (plus the earlier releases' indexes, when given), keeps the rows whose band
hash falls in its range (hash mod `ranges`), sorts them and keeps the groups of equal hashes (as file and
row numbers). Then it reads each signature file once, keeps the keys of the documents in some group and
writes their signatures to a local scratch file, and turns the groups into edges, bands in batches: a
batch closes at `MEMBER_BUDGET` group entries, its members' signatures are read back from the scratch file
and dropped before the next batch:

- band `ex` is the exact-text hash: every member is linked to the group's smallest key (Jaccard 1).
- bands `b00..` are MinHash bands: in key order, each member is linked to the first earlier member (at most
  `max_compare` of them) whose estimated Jaccard reaches the threshold. LSH false candidates never become
  edges; a pair found in several bands is written once, with its estimate.

Output: `dedup/edges/lang=L/range=RRR.parquet` (a, b, estimated Jaccard j, exact). Memory per unit: one
band's hashes for 1/`ranges` of the language's documents, every band's groups as (file, row) pairs and the
keys of their documents (~1/`ranges` of the duplicated documents per band), key and signature (1 KiB) of at
most `MEMBER_BUDGET` grouped documents (one batch), one signature file's `id` and `sig` columns while it is
read, and the unit's distinct edges; local disk: 1 KiB per grouped document. Raise `ranges` (`--param
dedup_ranges=N`) for a language too big for that. Reads: every band column once, every `sig` column once.
A unit whose files hold at most `PRELOAD_ROWS` rows (the many small languages) keeps the single pass in
memory: every band's groups, then one read of their members. Both give the same edges file, byte for byte,
whatever the batches.
Keys are the document id prefixed with `0` (earlier release) or `1` (this run), so the smallest key of a
cluster is an earlier-release document whenever the cluster has one; pairs of two earlier-release
documents are never linked (they were deduplicated in their own release).
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from corpus_tools.core import storage
from corpus_tools.dedup import files
from corpus_tools.dedup.base import DedupStep
from corpus_tools.dedup.minhash import MinhashParams, decode_signatures

EXACT_BAND = "ex"
OLD, NEW = "0", "1"
EDGE_SCHEMA = pa.schema([pa.field("a", pa.string()), pa.field("b", pa.string()),
                         pa.field("j", pa.float32()), pa.field("exact", pa.bool_())])


def _best_once(edges: pa.Table) -> pa.Table:
    """The same pair shows up in many bands: keep it once, with its best estimate (unsorted)."""
    return edges.group_by(["a", "b"]).aggregate([("j", "max"), ("exact", "max")]).rename_columns(["a", "b", "j", "exact"])


class MinhashBuckets(DedupStep):
    """Phase `dedup_buckets`. ranges: hash ranges per band (parallelism and memory; default 1);
    index_dirs: `dedup/index` directories of earlier releases; max_compare: earlier bucket members a
    document is verified against, default 256 (bounds the work of huge buckets of templated pages)."""

    name = "MinhashBuckets"

    def __init__(self, output: str, params: MinhashParams = MinhashParams(), ranges: int = 1,
                 index_dirs: tuple[str, ...] = (), max_compare: int = 256):
        super().__init__(output)
        self.params = params
        self.ranges = max(1, int(ranges))
        self.index_dirs = tuple(index_dirs)
        self.max_compare = max_compare

    def sig_root(self) -> str:
        return storage.join(self.output, files.DEDUP, "signatures")

    def units(self) -> list:
        return [(lang, r) for lang in files.lang_dirs(self.sig_root()) for r in range(self.ranges)]

    def sources(self, lang: str) -> list[tuple[str, str]]:
        out = [(u, NEW) for u in storage.list_files(storage.join(self.sig_root(), f"lang={lang}"), ".parquet")]
        for index in self.index_dirs:
            out += [(u, OLD) for u in storage.list_files(storage.join(index, f"lang={lang}"), ".parquet")]
        return out

    # A unit whose signature files hold at most this many rows reads all band columns at once (one read per
    # file instead of one per band and file: ~33x fewer reads, which dominates for the many small languages of
    # a crawl); bigger units read one band at a time so memory stays bounded (8 bytes x rows per band).
    PRELOAD_ROWS = 100_000
    # Bigger units verify the bands in batches of at most this many group entries (documents, counted once
    # per band they are grouped in): ~1.5 KB each while held (key, 1 KiB signature, Python objects), ~150 MB.
    MEMBER_BUDGET = 100_000

    def process_unit(self, unit) -> None:
        lang, r = unit
        sources = self.sources(lang)
        bands = [EXACT_BAND] + self.params.band_columns()
        if sum(storage.parquet_rows(url) for url, _ in sources) <= self.PRELOAD_ROWS:
            columns = ["exact" if b == EXACT_BAND else b for b in bands]
            preloaded = {url: storage.read_parquet(url, columns=columns) for url, _ in sources}
            groups = {band: self.band_groups(band, r, sources, preloaded) for band in bands}
            members = self.fetch_members(groups, sources)
            self.stat_update("candidates", value=len(members))
            edges = _best_once(pa.concat_tables([self.group_edges(band, g, members) for band, g in groups.items()]))
        else:
            # every band's groups (file, row pairs only), then one read of each signature file: the grouped
            # documents' keys are kept, their signatures go to a local scratch file; then bands in batches of
            # MEMBER_BUDGET group entries, each batch's signatures read back from the scratch file
            groups = {band: self.band_groups(band, r, sources) for band in bands}
            edges, batch, held = EDGE_SCHEMA.empty_table(), {}, 0
            with tempfile.TemporaryFile(prefix="corpus-buckets-") as scratch:
                codes, keys = self.spill_members(groups, sources, scratch)
                self.stat_update("candidates", value=len(codes))
                for i, band in enumerate(bands):
                    batch[band] = groups.pop(band)
                    held += sum(len(g) for g in batch[band])
                    if held < self.MEMBER_BUDGET and i + 1 < len(bands):
                        continue
                    members = self.batch_members(batch, codes, keys, scratch)
                    edges = _best_once(pa.concat_tables([edges] + [self.group_edges(b, g, members) for b, g in batch.items()]))
                    batch, held = {}, 0
                    del members
        edges = edges.sort_by([("a", "ascending"), ("b", "ascending")])
        self.stat_update("edges", value=edges.num_rows)
        files.write_arrow(storage.join(self.output, files.DEDUP, "edges", f"lang={lang}", f"range={r:03d}.parquet"), edges)

    def band_groups(self, band: str, r: int, sources, preloaded: dict | None = None) -> list[np.ndarray]:
        """Groups (size >= 2) of equal hashes of one band within one hash range, as arrays of (file, row).
        Unless the unit is small enough to be preloaded, only this band's hashes are in memory while it runs."""
        column = "exact" if band == EXACT_BAND else band
        hs, fs, rows = [], [], []
        for f, (url, _) in enumerate(sources):
            table = (preloaded or {}).get(url) or storage.read_parquet(url, columns=[column])
            h = table.column(column)
            valid = np.asarray(pc.is_valid(h).to_numpy(zero_copy_only=False), dtype=bool)
            hv = np.asarray(pc.fill_null(h, 0).to_numpy(zero_copy_only=False), dtype=np.uint64)
            sel = valid & ((hv % np.uint64(self.ranges)) == np.uint64(r))
            hs.append(hv[sel])
            rows.append(np.flatnonzero(sel))
            fs.append(np.full(int(sel.sum()), f, dtype=np.int64))
        if not hs:
            return []
        h, f, row = np.concatenate(hs), np.concatenate(fs), np.concatenate(rows)
        order = np.argsort(h, kind="stable")
        h = h[order]
        starts = np.flatnonzero(np.concatenate(([True], h[1:] != h[:-1]))) if len(h) else np.array([], dtype=np.int64)
        sizes = np.diff(np.append(starts, len(h)))
        keep = np.repeat(sizes > 1, sizes)  # only the rows of groups: a batch of bands holds no more than those
        pairs = np.stack([f[order][keep], row[order][keep]], axis=1)
        bounds = np.cumsum(sizes[sizes > 1])
        return [pairs[e - n:e] for e, n in zip(bounds.tolist(), sizes[sizes > 1].tolist())]

    def fetch_members(self, groups: dict, sources) -> dict[tuple[int, int], tuple[str, np.ndarray | None]]:
        """Key and signature of every document in some group, read one source file at a time."""
        need_sig = any(g for band, g in groups.items() if band != EXACT_BAND)
        wanted: dict[int, set[int]] = {}
        for g in groups.values():
            for group in g:
                for f, row in group.tolist():
                    wanted.setdefault(f, set()).add(row)
        out = {}
        for f, rows in sorted(wanted.items()):
            url, prefix = sources[f]
            idx = np.array(sorted(rows), dtype=np.int64)
            t = storage.read_parquet(url, columns=["id", "sig"] if need_sig else ["id"]).take(pa.array(idx))
            ids = t.column("id").to_pylist()
            sigs = decode_signatures(pc.fill_null(t.column("sig"), b"\0" * 4 * self.params.num_perm),
                                     self.params.num_perm) if need_sig else [None] * len(ids)
            out.update(((f, row), (prefix + i, sig)) for row, i, sig in zip(idx.tolist(), ids, sigs))
        return out

    def spill_members(self, groups: dict, sources, scratch) -> tuple[np.ndarray, list[str]]:
        """Codes (file << 32 | row, sorted) and keys of every document in some group; their signatures are
        appended to `scratch` in code order (num_perm little-endian uint32 each). One read per source file."""
        flat = [g for gs in groups.values() for g in gs]
        codes = np.unique(np.concatenate([g[:, 0] << 32 | g[:, 1] for g in flat])) if flat else np.zeros(0, dtype=np.int64)
        keys: list[str] = []
        for f in np.unique(codes >> 32).tolist():
            url, prefix = sources[f]
            rows = codes[(codes >> 32) == f] & 0xFFFFFFFF
            t = storage.read_parquet(url, columns=["id", "sig"]).take(pa.array(rows))
            keys += [prefix + i for i in t.column("id").to_pylist()]
            sig = decode_signatures(pc.fill_null(t.column("sig"), b"\0" * 4 * self.params.num_perm), self.params.num_perm)
            scratch.write(np.ascontiguousarray(sig, dtype="<u4").tobytes())
        scratch.flush()
        return codes, keys

    def batch_members(self, batch: dict, codes: np.ndarray, keys: list[str], scratch) -> dict:
        """Key and signature of every document in the batch's groups, the signatures read back from `scratch`."""
        flat = [g for gs in batch.values() for g in gs]
        if not flat:
            return {}
        want = np.unique(np.concatenate([g[:, 0] << 32 | g[:, 1] for g in flat]))
        width = 4 * self.params.num_perm
        out, fd = {}, scratch.fileno()
        for code, i in zip(want.tolist(), np.searchsorted(codes, want).tolist()):
            out[(code >> 32, code & 0xFFFFFFFF)] = (keys[i], np.frombuffer(os.pread(fd, width, i * width), dtype="<u4"))
        return out

    def group_edges(self, band: str, groups: list[np.ndarray], members: dict) -> pa.Table:
        a, b, j = [], [], []
        pairs = []  # most buckets hold two documents: verify those in one vectorised batch
        for group in groups:
            docs = sorted((members[(f, row)] for f, row in group.tolist()), key=lambda m: m[0])
            if band != EXACT_BAND and len(docs) == 2:
                if docs[1][0][0] == NEW:
                    pairs.append(docs)
                continue
            if band == EXACT_BAND:
                first = docs[0][0]
                for key, _ in docs[1:]:
                    if not (first[0] == OLD and key[0] == OLD):
                        a.append(first), b.append(key), j.append(1.0)
                continue
            self.verify(docs, a, b, j)
        if pairs:
            est = (np.stack([p[0][1] for p in pairs]) == np.stack([p[1][1] for p in pairs])).mean(axis=1)
            for (x, y), e in zip(pairs, est.tolist()):
                if e >= self.params.threshold:
                    a.append(x[0]), b.append(y[0]), j.append(e)
        return pa.table({"a": a, "b": b, "j": j, "exact": [band == EXACT_BAND] * len(a)}, schema=EDGE_SCHEMA)

    def verify(self, docs: list[tuple[str, np.ndarray]], a: list, b: list, j: list) -> None:
        """Link each document to the first earlier one (key order) whose estimated Jaccard reaches the threshold."""
        threshold = self.params.threshold
        seen: dict[bytes, str] = {}   # identical signatures: link to the first, skip the comparisons
        uniq_keys: list[str] = []     # the first `max_compare` distinct signatures
        uniq_sigs: list[np.ndarray] = []
        for key, vec in docs:
            raw = vec.tobytes()
            if raw in seen:
                if not (key[0] == OLD and seen[raw][0] == OLD):
                    a.append(seen[raw]), b.append(key), j.append(1.0)
                continue
            seen[raw] = key
            if uniq_keys and key[0] == NEW:
                est = (np.stack(uniq_sigs) == vec).mean(axis=1)
                hit = np.flatnonzero(est >= threshold)
                if len(hit):
                    a.append(uniq_keys[hit[0]]), b.append(key), j.append(float(est[hit[0]]))
            if len(uniq_keys) < self.max_compare:
                uniq_keys.append(key)
                uniq_sigs.append(vec)
