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

from corpus_tools.dedup.files import STAGING, resolve_index, read_params
from corpus_tools.dedup.minhash import MinhashParams
from corpus_tools.errors import ConfigError

__all__ = ["STAGING", "MinhashParams", "chained_phases", "dedup_phases", "index_dirs_from_options", "params_from_options"]


def _int(params: dict, key: str, default: int) -> int:
    try:
        return int(params.get(key, default))
    except ValueError:
        raise ConfigError(f"--param {key}={params[key]!r} is not an integer: give e.g. {key}={default}") from None


def params_from_options(params: dict) -> MinhashParams:
    try:
        threshold = float(params.get("dedup_threshold", 0.8))
    except ValueError:
        raise ConfigError(f"--param dedup_threshold={params['dedup_threshold']!r} is not a number: give e.g. 0.8") from None
    return MinhashParams(ngram=_int(params, "dedup_ngram", 5), bands=_int(params, "dedup_bands", 32),
                         rows=_int(params, "dedup_rows", 8), threshold=threshold).check()


def index_dirs_from_options(params: dict, minhash: MinhashParams) -> tuple[str, ...]:
    """`dedup_index=A,B`: earlier runs' outputs (or their dedup/index dirs), checked for matching parameters."""
    dirs = []
    for spec in [s.strip() for s in params.get("dedup_index", "").split(",") if s.strip()]:
        index = resolve_index(spec)
        theirs = read_params(index).get("params", {})
        if theirs != minhash.describe():
            raise ConfigError(f"dedup index {spec} was built with other MinHash parameters ({theirs}): "
                              "re-run with the same dedup_* params or without dedup_index")
        dirs.append(index)
    return tuple(dirs)


def dedup_phases(opts, prefix: str = "") -> list:
    """The four dedup phases for `corpus run`. Recipe params: dedup=false skips them (then the recipe must
    write straight to `shards/`); dedup_tasks (tasks per phase, default 4); dedup_ranges (hash ranges per
    band, default 1); dedup_partition_edges (edges per clustering partition, default 1,000,000);
    dedup_threshold, dedup_ngram, dedup_bands, dedup_rows (MinHash, defaults 0.8, 5, 32, 8); dedup_index
    (earlier release(s)). The clustering phases are planned as they run: the phase after each round is decided
    by that round's files (`chained_phases`). `prefix` goes before every phase name, the chained ones included
    (a restage runs them as `revived_dedup_*`)."""
    from corpus_tools.dedup.buckets import MinhashBuckets
    from corpus_tools.dedup.clusters import DuplicateClusters
    from corpus_tools.dedup.filtering import DuplicateFilter
    from corpus_tools.dedup.minhash import MinhashSignatures
    from corpus_tools.run import Phase

    p = opts.params
    minhash = params_from_options(p)
    indexes = index_dirs_from_options(p, minhash)
    tasks = max(1, _int(p, "dedup_tasks", 4))
    clusters = DuplicateClusters(opts.output, partition_edges=max(1, _int(p, "dedup_partition_edges", 1_000_000)))
    return [
        Phase(prefix + "dedup_signatures", [MinhashSignatures(opts.output, minhash)], tasks=tasks),
        Phase(prefix + "dedup_buckets", [MinhashBuckets(opts.output, minhash, ranges=_int(p, "dedup_ranges", 1),
                                                        index_dirs=indexes)], tasks=tasks),
        chained_phases(clusters.steps(), tasks, prefix),
        Phase(prefix + "dedup_filter", [DuplicateFilter(opts.output, opts.run_id, minhash, index_dirs=indexes)],
              tasks=tasks),
    ]


def chained_phases(plan, tasks: int, prefix: str = ""):
    """The first of a chain of phases from `plan`, an iterator of (name, step): each phase's `next_phase()`
    (called by the driver once the phase is complete) pulls the next one, so a plan can look at the files of
    the rounds before it. Names get `prefix`. None when the plan is empty."""
    from corpus_tools.run import Phase

    item = next(plan, None)
    if item is None:
        return None
    phase = Phase(prefix + item[0], [item[1]], tasks=tasks)
    phase.next_phase = lambda: chained_phases(plan, tasks, prefix)
    return phase
