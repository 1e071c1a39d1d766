"""Where the dedup phases keep their files, and how a step finds its inputs at run time.

    OUT/staging/shards/lang=L/redistribution=R/part-N.parquet   written by the per-document phase
    OUT/dedup/signatures/lang=L/part-K.parquet                  K = index of the staging file (sorted list)
    OUT/dedup/edges/lang=L/range=RRR.parquet                    verified duplicate pairs, one file per unit
    OUT/dedup/components/lang=L/parts=P/...                    clustering rounds: round=NNN/to=Q/, attrs/ (clusters.py)
    OUT/dedup/clusters/lang=L/part-Q.parquet                   every document that has a duplicate, by the
                                                               partition Q of its cluster's representative
    OUT/dedup/index/lang=L/part-K.parquet + params.json        signatures of the kept documents: the index
                                                               the next release dedups against
    OUT/shards/..., OUT/exclusions/phase=dedup/part-K.parquet  final shards and the dedup ledger

Every name depends on the data only (never on a task's rank), so any number of tasks writes the same files.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

from corpus_tools.core import storage
from corpus_tools.core.errors import ConfigError

STAGING = "staging/shards"
DEDUP = "dedup"


def lang_of(url: str) -> str:
    """The `lang=` (dedup working files) or `language=` (shards) folder of a path (`other` when there is none,
    as in the writer)."""
    return next((p.split("=", 1)[1] for p in url.replace("\\", "/").split("/") if p.startswith(("lang=", "language="))), "other")


def staging_files(output: str) -> list[str]:
    return storage.list_files(storage.join(output, STAGING), ".parquet")


def relative(url: str, base: str) -> str:
    """Path of `url` under `base`, with forward slashes."""
    rel = url[len(base.rstrip("/")) + 1:]
    return rel.replace("\\", "/")


def lang_dirs(root: str) -> list[str]:
    """Sorted language labels that have files under `root/lang=*/`."""
    return sorted({lang_of(relative(u, root)) for u in storage.list_files(root, ".parquet")})


def write_json(url: str, obj: dict) -> None:
    storage.write_bytes(url, json.dumps(obj, indent=2, sort_keys=True).encode())


def resolve_index(spec: str) -> str:
    """`dedup_index=` accepts an earlier run's output directory or its `dedup/index` directory."""
    for candidate in (storage.join(spec, DEDUP, "index"), spec):
        if storage.exists(storage.join(candidate, "params.json")):
            return candidate
    raise ConfigError(f"no dedup index at {spec}: give the --output of an earlier run (it has dedup/index/params.json)")


def read_params(index_dir: str) -> dict:
    return json.loads(storage.read_bytes(storage.join(index_dir, "params.json")))


def write_arrow(url: str, table: pa.Table) -> None:
    """An intermediate file (zstd Parquet), atomically; final shards go through `stages.write.write_table`."""
    with storage.atomic_write(url) as fh:
        pq.write_table(table, fh, compression="zstd")

