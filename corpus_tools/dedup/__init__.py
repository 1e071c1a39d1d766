"""Deduplication: exact (normalised text hash) + MinHash LSH near-duplicates, per language, deterministic.

Four phases, each a datatrove step with files between them (see `files.py` for the layout), each
re-runnable on its own and parallel over its units:

    dedup_signatures  MinhashSignatures   staging shard -> exact hash, 256-perm MinHash, 32 band hashes
    dedup_buckets     MinhashBuckets      (language, band, hash range) -> verified duplicate edges
    dedup_clusters    DuplicateClusters   (language, partition) -> connected components: a scatter phase,
                                          rounds dedup_clusters_r01.. until no partition changes, an output phase
    dedup_filter      DuplicateFilter     staging shard -> final shard + ledger rows + index part

Use from a recipe: `phases += dedup_phases(opts)` after the per-document phase, which must write to
`staging/shards` (`ShardWriter(opts.output, opts.run_id, shards_dir=STAGING)`). Parameters come from
`--param dedup_*=...` (see `dedup_phases`).
"""

from __future__ import annotations

from dataclasses import fields

from corpus_tools.core.errors import ConfigError
from corpus_tools.core.recipe import Param, check_params
from corpus_tools.dedup.clusters import PARTITION_EDGES
from corpus_tools.dedup.files import STAGING, resolve_index, read_params
from corpus_tools.dedup.minhash import MinhashParams

__all__ = ["DEDUP_PARAMS", "STAGING", "MinhashParams", "chained_phases", "dedup_phases", "index_dirs_from_options",
           "params_from_options"]

_MINHASH_HELP = {"ngram": "word n-gram shingles", "bands": "LSH bands", "rows": "rows per band",
                 "threshold": "estimated Jaccard for a near-duplicate"}
# every dedup `--param` of a recipe (and of `corpus stage dedup`, without the prefix); defaults declared once:
# MinHash's in `MinhashParams`, the clustering partition size in `dedup.clusters`
DEDUP_PARAMS = {
    "dedup_tasks": Param(int, 4, "tasks per dedup phase"),
    "dedup_ranges": Param(int, 1, "hash ranges per band"),
    "dedup_partition_edges": Param(int, PARTITION_EDGES, "duplicate edges per clustering partition (memory per task)"),
    **{f"dedup_{f.name}": Param(f.type if isinstance(f.type, type) else {"int": int, "float": float}[f.type], f.default,
                                _MINHASH_HELP[f.name]) for f in fields(MinhashParams) if f.name in _MINHASH_HELP},
    "dedup_index": Param(str, "", "earlier release(s) to deduplicate against, comma-separated"),
}


def dedup_values(params: dict) -> dict:
    """Typed dedup values (defaults filled in) from a recipe's `--param`s; other keys are left to the recipe."""
    return check_params(DEDUP_PARAMS, {k: v for k, v in params.items() if k in DEDUP_PARAMS})


def params_from_options(params: dict) -> MinhashParams:
    v = dedup_values(params)
    return MinhashParams(**{k: v[f"dedup_{k}"] for k in _MINHASH_HELP}).check()


def index_dirs_from_options(params: dict, minhash: MinhashParams) -> tuple[str, ...]:
    """`dedup_index=A,B`: earlier runs' outputs (or their dedup/index dirs), checked for matching parameters."""
    dirs = []
    for spec in [s.strip() for s in dedup_values(params)["dedup_index"].split(",") if s.strip()]:
        index = resolve_index(spec)
        theirs = read_params(index).get("params", {})
        if theirs != minhash.describe():
            raise ConfigError(f"dedup index {spec} was built with other MinHash parameters ({theirs}): "
                              "re-run with the same dedup_* params or without dedup_index")
        dirs.append(index)
    return tuple(dirs)


def dedup_phases(opts, prefix: str = "") -> list:
    """The four dedup phases for `corpus run`, configured by the `DEDUP_PARAMS` keys of `opts.params` (a recipe
    with dedup=false skips them and writes straight to `shards/`). The clustering phases are planned as they run: the phase after each round is decided
    by that round's files (`chained_phases`). `prefix` goes before every phase name, the chained ones included
    (a restage runs them as `revived_dedup_*`)."""
    from corpus_tools.dedup.buckets import MinhashBuckets
    from corpus_tools.dedup.clusters import DuplicateClusters
    from corpus_tools.dedup.filtering import DuplicateFilter
    from corpus_tools.dedup.minhash import MinhashSignatures
    from corpus_tools.core.recipe import Phase

    p = dedup_values(opts.params)
    minhash = params_from_options(opts.params)
    indexes = index_dirs_from_options(opts.params, minhash)
    tasks = max(1, p["dedup_tasks"])
    clusters = DuplicateClusters(opts.output, partition_edges=max(1, p["dedup_partition_edges"]))
    return [
        Phase(prefix + "dedup_signatures", [MinhashSignatures(opts.output, minhash)], tasks=tasks),
        Phase(prefix + "dedup_buckets", [MinhashBuckets(opts.output, minhash, ranges=p["dedup_ranges"],
                                                        index_dirs=indexes)], tasks=tasks),
        chained_phases(clusters.steps(), tasks, prefix),
        Phase(prefix + "dedup_filter", [DuplicateFilter(opts.output, opts.run_id, minhash, index_dirs=indexes)],
              tasks=tasks),
    ]


def chained_phases(plan, tasks: int, prefix: str = ""):
    """The first of a chain of phases from `plan`, an iterator of (name, step): each phase's `next_phase()`
    (called by the driver once the phase is complete) pulls the next one, so a plan can look at the files of
    the rounds before it. Names get `prefix`. None when the plan is empty."""
    from corpus_tools.core.recipe import Phase

    item = next(plan, None)
    if item is None:
        return None
    phase = Phase(prefix + item[0], [item[1]], tasks=tasks)
    phase.next_phase = lambda: chained_phases(plan, tasks, prefix)
    return phase
