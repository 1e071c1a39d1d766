"""Quality check of the dedup phases: a corpus with planted near-duplicates, scored against brute force.

`planted_corpus` takes real article texts (the Scrapinghub extraction benchmark's ground truth in
../shared/data/extraction), and makes variants of each with known word-edit rates (substitute / delete /
insert a word with probability `rate`, seeded). `run_dedup` writes them as staging shards and runs the four
dedup steps in-process; `score` computes the exact Jaccard of every pair of documents on the same word
5-gram shingles the MinHash uses and reports:

- pair recall: of the pairs with exact Jaccard >= `recall_at` (0.85), the share that ended in one cluster;
- edge precision: of the verified edges the buckets wrote, the share whose exact Jaccard >= threshold - `slack`;
- removal precision: of the documents sent to the ledger, the share whose exact Jaccard with the document
  kept for them is >= threshold - `slack` (chaining through intermediate variants can lower it).

Used by `benchmarks/dedup_quality.py` (full size) and `tests/dedup/test_quality.py` (small).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow.parquet as pq

from corpus_tools.dedup.exact import normalise_text
from corpus_tools.dedup.minhash import MinhashParams, shingles
from corpus_tools.core.schema import DOCUMENT_SCHEMA

DEFAULT_RATES = (0.0, 0.003, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1)


def load_articles(path: str | Path, min_words: int = 150) -> list[str]:
    data = json.loads(Path(path).read_text())
    texts = [v.get("articleBody") or "" for _, v in sorted(data.items())]
    return [t for t in texts if len(t.split()) >= min_words]


def edit(text: str, rate: float, rng: random.Random) -> str:
    words = text.split()
    vocab = words or ["x"]
    out = []
    for w in words:
        u = rng.random()
        if u < rate / 3:
            continue                                  # delete
        if u < 2 * rate / 3:
            out.append(rng.choice(vocab))            # substitute
            continue
        out.append(w)
        if u < rate:
            out.append(rng.choice(vocab))            # insert
    return " ".join(out)


def planted_corpus(articles: list[str], rates=DEFAULT_RATES, seed: int = 7) -> list[dict]:
    """One source + one variant per rate for each article; ids are deterministic, families recorded."""
    rng = random.Random(seed)
    docs = []
    for a, text in enumerate(articles):
        docs.append({"id": f"a{a:04d}-src", "text": text, "family": a, "rate": None})
        for rate in rates:
            variant = text.upper() if rate == 0.0 else edit(text, rate, rng)  # rate 0: differs only in case
            docs.append({"id": f"a{a:04d}-r{rate:.3f}", "text": variant, "family": a, "rate": rate})
    # shuffle so ids, files and families are not aligned
    rng.shuffle(docs)
    return docs


def write_staging(output: Path, docs: list[dict], files: int = 3, lang: str = "eng_Latn") -> None:
    for f in range(files):
        rows = [{"id": d["id"], "text": d["text"], "lang": lang, "redistribution": "unknown", "url": f"https://x/{d['id']}"}
                for d in docs[f::files]]
        path = output / "staging" / "shards" / f"language={lang}" / "redistribution_class=unknown" / f"part-{f:05d}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        from corpus_tools.core.schema import write_table

        write_table(str(path), rows, DOCUMENT_SCHEMA)


def run_steps(steps, tasks: int) -> None:
    """Run each step as `tasks` datatrove tasks, in this process, one after the other (`DuplicateClusters`
    stands for its scatter, round and output steps, planned as they run)."""
    for item in steps:
        for _, step in item.steps() if hasattr(item, "steps") else [(None, item)]:
            for rank in range(tasks):
                for _ in step.run(None, rank, tasks) or ():
                    pass


def dedup_steps(output: str, params: MinhashParams = MinhashParams(), run_id: str = "eval", ranges: int = 1,
                index_dirs: tuple[str, ...] = (), partition_edges: int = 1_000_000) -> list:
    from corpus_tools.dedup.buckets import MinhashBuckets
    from corpus_tools.dedup.clusters import DuplicateClusters
    from corpus_tools.dedup.filtering import DuplicateFilter
    from corpus_tools.dedup.minhash import MinhashSignatures

    return [MinhashSignatures(output, params), MinhashBuckets(output, params, ranges=ranges, index_dirs=index_dirs),
            DuplicateClusters(output, partition_edges=partition_edges), DuplicateFilter(output, run_id, params, index_dirs=index_dirs)]


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def exact_jaccard_matrix(sets: list[set]) -> "np.ndarray":
    """Exact Jaccard of every pair, as one sparse product (shingle incidence x its transpose)."""
    import numpy as np
    from scipy import sparse

    vocab: dict = {}
    rows, cols = [], []
    for i, s in enumerate(sets):
        for g in s:
            rows.append(i)
            cols.append(vocab.setdefault(g, len(vocab)))
    x = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(sets), len(vocab)))
    inter = (x @ x.T).toarray()
    size = np.asarray(x.sum(axis=1)).ravel()
    union = size[:, None] + size[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / union, 1.0)


def score(output: Path, docs: list[dict], params: MinhashParams = MinhashParams(), recall_at: float = 0.85,
          slack: float = 0.0) -> dict:
    import numpy as np

    ids = sorted(d["id"] for d in docs)
    pos = {i: n for n, i in enumerate(ids)}
    text = {d["id"]: d["text"] for d in docs}
    jac = exact_jaccard_matrix([shingles(normalise_text(text[i]), params.ngram) for i in ids])
    rep = {i: i for i in ids}
    for path in sorted((output / "dedup" / "clusters").rglob("*.parquet")):
        for r in pq.read_table(path, columns=["id", "rep_id"]).to_pylist():
            rep[r["id"]] = r["rep_id"]
    reps = {r: n for n, r in enumerate(sorted(set(rep.values())))}
    label = np.array([reps[rep[i]] for i in ids])
    upper = np.triu(np.ones_like(jac, dtype=bool), k=1)
    same = (label[:, None] == label[None, :]) & upper
    true = (jac >= recall_at) & upper
    cut = params.threshold - slack
    edges = [r for p in sorted((output / "dedup" / "edges").rglob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    edge_ok = sum(jac[pos[e["a"][1:]], pos[e["b"][1:]]] >= cut for e in edges)
    removed = [r for p in sorted((output / "exclusions").rglob("*.parquet"))
               for r in pq.read_table(p, columns=["id", "kept_id"]).to_pylist()]
    removed_ok = sum(jac[pos[r["id"]], pos[r["kept_id"]]] >= cut for r in removed)
    n_true, n_same = int(true.sum()), int(same.sum())
    return {
        "documents": len(docs), "true_pairs": n_true,
        "pair_recall": float((true & same).sum() / n_true) if n_true else 1.0,
        "edges": len(edges), "edge_precision": float(edge_ok / len(edges)) if edges else 1.0,
        "removed": len(removed), "removal_precision": float(removed_ok / len(removed)) if removed else 1.0,
        "same_cluster_pairs": n_same,
        "cluster_pair_precision": float(((jac >= cut) & same).sum() / n_same) if n_same else 1.0,
    }
