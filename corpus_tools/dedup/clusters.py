"""Clusters (phase 3 of dedup): connected components of the verified edges, per language, on disk.

One unit = one language. The edges of all bands and ranges are loaded into an embedded DuckDB whose
`memory_limit` is the budget (`--param dedup_memory_mb=N`, default 1024); DuckDB spills joins and
aggregates to a temporary directory beyond it, so a language with more edges than memory still finishes.
Components are found by min-label propagation with pointer jumping (each round: a node takes the smallest
label of its neighbours, then the label of its label), which converges to "every node labelled with the
smallest key of its component": the union-find result, computed with bounded memory.

Representative rule: the smallest key, i.e. an earlier-release document if the cluster has one (smallest
id among them), else the document with the smallest `id` of this run. `cluster_id` is the representative's
id, `cluster_size` counts every member (earlier-release ones included). A member is an exact duplicate when
its exact-text group's first key is the representative. Output: `dedup/clusters/lang=L/clusters.parquet`,
one row per document that has at least one duplicate.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from corpus_tools import storage
from corpus_tools.dedup import files
from corpus_tools.dedup.base import DedupStep

MAX_ROUNDS = 64


class DuplicateClusters(DedupStep):
    """Phase `dedup_clusters`. memory_mb: DuckDB memory budget per task in MiB, default 1024;
    tmp_dir: where DuckDB spills and S3 edge files are staged, default the system temp directory."""

    name = "DuplicateClusters"

    def __init__(self, output: str, memory_mb: int = 1024, tmp_dir: str | None = None):
        super().__init__(output)
        self.memory_mb = int(memory_mb)
        self.tmp_dir = tmp_dir

    def edge_root(self) -> str:
        return storage.join(self.output, files.DEDUP, "edges")

    def units(self) -> list:
        return files.lang_dirs(self.edge_root())

    def process_unit(self, lang: str) -> None:
        edge_files = storage.list_files(storage.join(self.edge_root(), f"lang={lang}"), ".parquet")
        if not any(storage.parquet_rows(u) for u in edge_files):
            return  # no duplicates in this language: no clusters file, every document is its own cluster
        target = storage.join(self.output, files.DEDUP, "clusters", f"lang={lang}", "clusters.parquet")
        work = tempfile.mkdtemp(prefix="dedup-clusters-", dir=self.tmp_dir)
        try:
            local = []
            for i, url in enumerate(edge_files):
                if storage.is_s3(url):  # DuckDB reads local files only (no extension downloads at run time)
                    path = os.path.join(work, f"edges-{i:05d}.parquet")
                    with storage.open_read(url) as src, open(path, "wb") as dst:
                        shutil.copyfileobj(src, dst)
                    local.append(path)
                else:
                    local.append(url)
            out_path = os.path.join(work, "clusters.parquet")
            rounds, nodes = self.components(local, out_path, work)
            self.stat_update("rounds", value=rounds)
            self.stat_update("clustered_documents", value=nodes)
            with open(out_path, "rb") as src, storage.atomic_write(target) as dst:
                shutil.copyfileobj(src, dst)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def components(self, edge_files: list[str], out_path: str, work: str) -> tuple[int, int]:
        import duckdb

        con = duckdb.connect(os.path.join(work, "cc.duckdb"))
        try:
            con.execute(f"SET memory_limit='{self.memory_mb}MB'")
            con.execute(f"SET temp_directory='{os.path.join(work, 'spill')}'")
            con.execute("SET threads=1")
            con.execute("SET preserve_insertion_order=false")
            con.execute("CREATE TABLE e AS SELECT a, b, j, exact FROM read_parquet(?)", [edge_files])
            con.execute("CREATE TABLE adj AS SELECT a AS v, b AS u FROM e UNION ALL SELECT b, a FROM e")
            con.execute("CREATE TABLE lbl AS SELECT v, least(v, min(u)) AS l FROM adj GROUP BY v")
            rounds = 0
            for rounds in range(1, MAX_ROUNDS + 1):
                con.execute("""CREATE OR REPLACE TABLE nxt AS
                    SELECT adj.v, min(lbl.l) AS l FROM adj JOIN lbl ON adj.u = lbl.v GROUP BY adj.v""")
                con.execute("""CREATE OR REPLACE TABLE nxt AS
                    SELECT n.v, least(n.l, o.l) AS l FROM nxt n JOIN lbl o USING (v)""")
                con.execute("""CREATE OR REPLACE TABLE nxt AS
                    SELECT n.v, least(n.l, p.l) AS l FROM nxt n JOIN nxt p ON n.l = p.v""")
                changed = con.execute("SELECT count(*) FROM nxt JOIN lbl USING (v) WHERE nxt.l <> lbl.l").fetchone()[0]
                con.execute("DROP TABLE lbl")
                con.execute("ALTER TABLE nxt RENAME TO lbl")
                if not changed:
                    break
            else:
                from corpus_tools.errors import ShardError

                raise ShardError(f"dedup clusters did not converge in {MAX_ROUNDS} rounds: report this input")
            nodes = con.execute("SELECT count(*) FROM lbl").fetchone()[0]
            con.execute(f"""COPY (
                WITH sizes AS (SELECT l, count(*) AS n FROM lbl GROUP BY l),
                     linkj AS (SELECT v, max(j) AS j FROM (SELECT a AS v, j FROM e UNION ALL SELECT b, j FROM e) GROUP BY v),
                     exroot AS (SELECT b AS v, min(a) AS r FROM e WHERE exact GROUP BY b)
                SELECT substr(lbl.v, 2) AS id, lbl.v[1] = '0' AS old,
                       substr(lbl.l, 2) AS rep_id, lbl.l[1] = '0' AS rep_old,
                       substr(lbl.l, 2) AS cluster_id, CAST(sizes.n AS INTEGER) AS cluster_size,
                       CAST(linkj.j AS FLOAT) AS jaccard, coalesce(exroot.r, lbl.v) = lbl.l AS exact
                FROM lbl JOIN sizes USING (l) LEFT JOIN linkj USING (v) LEFT JOIN exroot USING (v)
                ORDER BY lbl.v) TO '{out_path}' (FORMAT parquet, COMPRESSION zstd)""")
            return rounds, nodes
        finally:
            con.close()
