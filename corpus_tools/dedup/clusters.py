"""Clusters (phase 3 of dedup): connected components of the verified edges, distributed over partitions.

No step holds a whole language. A language's nodes (document keys) are split into P partitions by a hash of
the key (crc32 mod P), with P = ceil(edges / `partition_edges`) (`--param dedup_partition_edges=N`, default
1,000,000), so P depends on the data, never on the number of tasks. Every undirected edge {x, y} is stored
in the partitions of both ends. The phases, each a datatrove step over units with files between them:

    dedup_clusters         ClusterScatter  unit (language, edge file): each edge to its ends' partitions;
                                           per-node evidence (best Jaccard, exact root) to the node's partition
    dedup_clusters_rNN     ClusterRound    unit (language, partition), round N = 1, 2, ...: union-find over the
                                           partition's edges; every local component becomes a star around its
                                           smallest key; the star edges go to their ends' partitions for round
                                           N+1. A partition whose stars equal its input is unchanged
    dedup_clusters_out     ClusterOutput   unit (language, partition): the clusters whose representative lives
                                           in the partition -> `dedup/clusters/lang=L/part-PPPPP.parquet`

A round is the fixed point when no partition changed: then every component is one star around its
smallest key (every node's edges meet in its own partition, so a node is either a leaf with one edge to a
smaller centre or a centre whose neighbours are all leaves, and a centre that were not its component's
minimum would have changed). The fixed point is unique, so 1, 4 or 16 partitions, and any number of tasks,
give the same representatives. A language with one partition is finished after round 1. The driver runs
round N+1 only for the languages that changed in round N (`DuplicateClusters.steps`), and each round's
files and logs stay on disk, so a re-run skips every completed round. Memory per unit: its partition's
edges, plus the stars of the large clusters whose representative hashes to it (a cluster's star is stored
whole at its representative's partition: the largest cluster is the floor).

Representative rule: the smallest key, i.e. an earlier-release document if the cluster has one (smallest
id among them), else the document with the smallest `id` of this run. `cluster_id` is the representative's
id, `cluster_size` counts every member (earlier-release ones included), `jaccard` is the best estimate among
a member's edges. A member is an exact duplicate when its exact-text group's first key is the
representative. Output: one row per document that has at least one duplicate, sorted by key within a part.
"""

from __future__ import annotations

import json
import math
import zlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from corpus_tools.core import storage
from corpus_tools.dedup import files
from corpus_tools.dedup.base import DedupStep
from corpus_tools.core.errors import ShardError

MAX_ROUNDS = 64
PARTITION_EDGES = 1_000_000
PAIR_SCHEMA = pa.schema([pa.field("u", pa.string()), pa.field("v", pa.string())])
ATTR_SCHEMA = pa.schema([pa.field("v", pa.string()), pa.field("j", pa.float32()), pa.field("exroot", pa.string())])
CLUSTER_SCHEMA = pa.schema([pa.field("id", pa.string()), pa.field("old", pa.bool_()), pa.field("rep_id", pa.string()),
                            pa.field("rep_old", pa.bool_()), pa.field("cluster_id", pa.string()),
                            pa.field("cluster_size", pa.int32()), pa.field("jaccard", pa.float32()),
                            pa.field("exact", pa.bool_())])


def partition_of(keys: pa.Array, parts: int) -> np.ndarray:
    """Partition of each key: crc32 of its UTF-8 bytes mod `parts` (stable across processes and machines)."""
    if parts == 1:
        return np.zeros(len(keys), dtype=np.int64)
    return np.fromiter((zlib.crc32(k.encode()) for k in keys.to_pylist()), dtype=np.int64, count=len(keys)) % parts


def encode(u: pa.Array, v: pa.Array) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Sorted distinct keys of both columns, and each pair as (smaller, larger) indices into them."""
    keys = pc.unique(pa.concat_arrays([u, v]))
    keys = keys.take(pc.sort_indices(keys))
    ui = pc.index_in(u, value_set=keys).to_numpy(zero_copy_only=False).astype(np.int64)
    vi = pc.index_in(v, value_set=keys).to_numpy(zero_copy_only=False).astype(np.int64)
    return keys, np.minimum(ui, vi), np.maximum(ui, vi)


def star_labels(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each of n nodes, the smallest node index of its connected component (edges a-b)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if n == 0:
        return np.zeros(0, dtype=np.int64)
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n)).tocsr()
    _, comp = connected_components(graph, directed=False)
    low = np.full(comp.max() + 1, n, dtype=np.int64)
    np.minimum.at(low, comp, np.arange(n, dtype=np.int64))
    return low[comp]


def read_tables(prefix: str, schema: pa.Schema) -> pa.Table:
    urls = storage.list_files(prefix, ".parquet")
    tables = [storage.read_parquet(u) for u in urls]
    return pa.concat_tables(tables).cast(schema) if tables else schema.empty_table()


class _ComponentStep(DedupStep):
    """Shared layout: `dedup/components/lang=L/parts=P/` holds the scatter's evidence and each round's files."""

    def __init__(self, output: str, partition_edges: int = PARTITION_EDGES):
        super().__init__(output)
        self.partition_edges = max(1, int(partition_edges))
        self._edges: dict[str, int] = {}

    def edge_files(self, lang: str) -> list[str]:
        return storage.list_files(storage.join(self.output, files.DEDUP, "edges", f"lang={lang}"), ".parquet")

    def langs(self) -> list[str]:
        return files.lang_dirs(storage.join(self.output, files.DEDUP, "edges"))

    def parts(self, lang: str) -> int:
        """Partitions of a language: from its edge count, so the layout never depends on the tasks."""
        return max(1, math.ceil(self.edge_count(lang) / self.partition_edges))

    def edge_count(self, lang: str) -> int:
        if lang not in self._edges:
            self._edges[lang] = sum(storage.parquet_rows(u) for u in self.edge_files(lang))
        return self._edges[lang]

    def root(self, lang: str, parts: int) -> str:
        return storage.join(self.output, files.DEDUP, "components", f"lang={lang}", f"parts={parts:05d}")

    def round_dir(self, lang: str, parts: int, k: int) -> str:
        return storage.join(self.root(lang, parts), f"round={k:03d}")

    def changed(self, lang: str, parts: int, k: int) -> bool | None:
        """Whether any partition changed in round k (None: the round has not run for this language)."""
        markers = storage.list_files(storage.join(self.round_dir(lang, parts, k), "done"), ".json")
        if not markers:
            return None
        return any(json.loads(storage.read_bytes(u))["changed"] for u in markers)

    def write_split(self, base: str, name: str, table: pa.Table, dest: np.ndarray) -> None:
        """Rows of `table` to `base/to=Q/name` for each destination partition Q (rows keep their order)."""
        for q in np.unique(dest).tolist():
            files.write_arrow(storage.join(base, f"to={q:05d}", name), table.filter(pa.array(dest == q)))


class ClusterScatter(_ComponentStep):
    """Phase `dedup_clusters`: edges and per-node evidence to their partitions (unit: language, edge file)."""

    name = "ClusterScatter"

    def units(self) -> list:
        out = []
        for lang in self.langs():
            out += [(lang, f, url) for f, url in enumerate(self.edge_files(lang)) if storage.parquet_rows(url)]
        return out

    def process_unit(self, unit) -> None:
        lang, f, url = unit
        parts = self.parts(lang)
        e = storage.read_parquet(url, columns=["a", "b", "j", "exact"])
        e = e.filter(pc.not_equal(e.column("a"), e.column("b")))
        a, b = e.column("a").combine_chunks(), e.column("b").combine_chunks()
        keys, ai, bi = encode(a, b)
        part = partition_of(keys, parts)
        base, name = self.root(lang, parts), f"from=e{f:05d}.parquet"
        pairs = pa.table({"u": keys.take(pa.array(ai)), "v": keys.take(pa.array(bi))}, schema=PAIR_SCHEMA)
        pa_, pb = part[ai], part[bi]
        self.write_split(storage.join(base, "round=000"), name, pairs, pa_)
        if (pb != pa_).any():
            cross = pb != pa_
            self.write_split(storage.join(base, "round=000"), "from=x" + name[6:], pairs.filter(pa.array(cross)), pb[cross])
        # evidence per node: best Jaccard over its edges, smallest exact-edge partner ("exact root")
        j = e.column("j").to_numpy().astype(np.float32)
        best = np.full(len(keys), -1.0, dtype=np.float32)
        np.maximum.at(best, ai, j)
        np.maximum.at(best, bi, j)
        ex = e.column("exact").to_numpy(zero_copy_only=False).astype(bool)
        exroot = np.full(len(keys), len(keys), dtype=np.int64)
        np.minimum.at(exroot, bi[ex], ai[ex])  # encode() ordered each pair: ai < bi
        has_root = exroot < len(keys)
        roots = pc.if_else(pa.array(has_root), keys.take(pa.array(np.where(has_root, exroot, 0))), pa.scalar(None, pa.string()))
        attrs = pa.table({"v": keys, "j": pa.array(best), "exroot": roots}, schema=ATTR_SCHEMA)
        self.write_split(storage.join(base, "attrs"), f"from=e{f:05d}.parquet", attrs, part)
        self.stat_update("edges", value=e.num_rows)


class ClusterRound(_ComponentStep):
    """Phase `dedup_clusters_rNN`: one round of local union-find into stars (unit: language, partition)."""

    name = "ClusterRound"

    def __init__(self, output: str, k: int, partition_edges: int = PARTITION_EDGES):
        super().__init__(output, partition_edges)
        self.k = int(k)

    def active(self) -> list[tuple[str, int]]:
        """(language, partitions) that take part in this round: all with edges in round 1, then those that changed."""
        out = []
        for lang in self.langs():
            parts = self.parts(lang)
            if (self.k == 1 and self.edge_count(lang)) or (self.k > 1 and self.changed(lang, parts, self.k - 1)):
                out.append((lang, parts))
        return out

    def units(self) -> list:
        return [(lang, parts, p) for lang, parts in self.active() for p in range(parts)]

    def process_unit(self, unit) -> None:
        lang, parts, p = unit
        src = read_tables(storage.join(self.round_dir(lang, parts, self.k - 1), f"to={p:05d}"), PAIR_SCHEMA)
        keys, a, b = encode(src.column("u").combine_chunks(), src.column("v").combine_chunks())
        n = len(keys)
        before = np.unique(a * n + b)
        label = star_labels(n, a, b)
        leaf = np.flatnonzero(label != np.arange(n))
        after = np.unique(label[leaf] * n + leaf)
        changed = parts > 1 and not np.array_equal(before, after)
        part = partition_of(keys, parts)
        out_dir = self.round_dir(lang, parts, self.k)
        name = f"from={p:05d}.parquet"
        centre, member = after // max(n, 1), after % max(n, 1)
        stars = pa.table({"u": keys.take(pa.array(centre)), "v": keys.take(pa.array(member))}, schema=PAIR_SCHEMA)
        self.write_split(out_dir, name, stars, part[centre])
        cross = part[member] != part[centre]
        if cross.any():
            self.write_split(out_dir, "from=x" + name[5:], stars.filter(pa.array(cross)), part[member][cross])
        if not changed:
            # possibly the fixed point: send the evidence of the nodes owned here to their representative's partition
            attrs = read_tables(storage.join(self.root(lang, parts), "attrs", f"to={p:05d}"), ATTR_SCHEMA)
            attrs = attrs.group_by("v").aggregate([("j", "max"), ("exroot", "min")]) \
                .select(["v", "j_max", "exroot_min"]).rename_columns(["v", "j", "exroot"])
            idx = pc.index_in(attrs.column("v"), value_set=keys).to_numpy(zero_copy_only=False).astype(np.int64)
            self.write_split(storage.join(out_dir, "final"), name, attrs, part[label[idx]])
        files.write_json(storage.join(out_dir, "done", f"p={p:05d}.json"),
                         {"changed": bool(changed), "edges_in": int(len(before)), "edges_out": int(len(after))})
        self.stat_update("edges_in", value=int(len(before)))
        self.stat_update("changed_partitions", value=int(changed))


class ClusterOutput(_ComponentStep):
    """Phase `dedup_clusters_out`: cluster rows of the representatives owned by a partition (unit: language, partition)."""

    name = "ClusterOutput"

    def final_round(self, lang: str, parts: int) -> int:
        for k in range(1, MAX_ROUNDS + 1):
            changed = self.changed(lang, parts, k)
            if changed is None:
                raise ShardError(f"dedup clusters of {lang}: round {k} has not run: re-run the same command")
            if not changed:
                return k
        raise ShardError(f"dedup clusters of {lang} did not converge in {MAX_ROUNDS} rounds: report this input")

    def units(self) -> list:
        out = []
        for lang in self.langs():
            parts = self.parts(lang)
            if self.changed(lang, parts, 1) is not None:
                k = self.final_round(lang, parts)
                out += [(lang, parts, k, p) for p in range(parts)]
        return out

    def process_unit(self, unit) -> None:
        lang, parts, k, p = unit
        rnd = self.round_dir(lang, parts, k)
        stars = read_tables(storage.join(rnd, f"to={p:05d}"), PAIR_SCHEMA)
        keys, a, b = encode(stars.column("u").combine_chunks(), stars.column("v").combine_chunks())
        n = len(keys)
        label = star_labels(n, a, b)
        own = partition_of(keys, parts)[label] == p  # clusters whose representative lives here: all members are here
        size = np.bincount(label, minlength=n)
        idx = np.flatnonzero(own)  # sorted keys, so rows come out in key order
        attrs = read_tables(storage.join(rnd, "final", f"to={p:05d}"), ATTR_SCHEMA)
        ids, reps = keys.take(pa.array(idx)), keys.take(pa.array(label[idx]))
        pos = pc.index_in(ids, value_set=attrs.column("v").combine_chunks())
        if pos.null_count:
            raise ShardError(f"dedup clusters of {lang}: evidence missing for partition {p}: delete dedup/components and re-run")
        ev = attrs.take(pos)
        exroot = pc.coalesce(ev.column("exroot"), ids)
        table = pa.table({
            "id": pc.utf8_slice_codeunits(ids, 1), "old": pc.starts_with(ids, "0"),
            "rep_id": pc.utf8_slice_codeunits(reps, 1), "rep_old": pc.starts_with(reps, "0"),
            "cluster_id": pc.utf8_slice_codeunits(reps, 1), "cluster_size": pa.array(size[label[idx]].astype(np.int32)),
            "jaccard": ev.column("j"), "exact": pc.equal(exroot, reps)}, schema=CLUSTER_SCHEMA)
        if table.num_rows:
            files.write_arrow(storage.join(self.output, files.DEDUP, "clusters", f"lang={lang}", f"part-{p:05d}.parquet"), table)
        self.stat_update("clustered_documents", value=table.num_rows)
        self.stat_update("rounds", value=k)


class DuplicateClusters:
    """The clustering phases of a run: `steps()` yields (phase name, step) lazily, deciding after each round
    (from that round's files) whether another is needed. partition_edges: edges per partition (memory knob)."""

    def __init__(self, output: str, partition_edges: int = PARTITION_EDGES):
        self.output = output
        self.partition_edges = int(partition_edges)

    def steps(self):
        yield "dedup_clusters", ClusterScatter(self.output, self.partition_edges)
        for k in range(1, MAX_ROUNDS + 1):
            step = ClusterRound(self.output, k, self.partition_edges)
            if not step.units():
                break
            yield f"dedup_clusters_r{k:02d}", step
        else:
            if ClusterRound(self.output, MAX_ROUNDS + 1, self.partition_edges).units():
                raise ShardError(f"dedup clusters did not converge in {MAX_ROUNDS} rounds: report this input")
        if k > 1:
            yield "dedup_clusters_out", ClusterOutput(self.output, self.partition_edges)
