"""Evaluate a LID backend or the combined identifier on a dev file (`iso639_1<TAB>text`, one sample a line).

    corpus lid eval ../shared/data/lid/ud_treebanks.tsv --backend combined --json

Per target language: precision, recall, F1, support (keyed by the file's own codes; `no`/`nb` is
Bokmål). Rows whose gold code is not a target language count as negatives: predicting a target for them
costs precision. Confusion is reported inside each confusable group. Macro averages are over the EU-24
and over every target language present in the file. Raw backend outputs can be cached under
`build/lid-cache/` (keyed by file sha256 and backend), so EVAL.md regenerates without re-running lingua.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter, defaultdict
from pathlib import Path

from corpus_tools.core.errors import InputError
from corpus_tools.core.languages import OTHER, confusable_groups, eval_code, registry

def groups() -> dict[str, list[str]]:
    """The confusable groups (language_ids/confusable_groups.tsv) in dev-file codes (`hr`, `cnr`)."""
    code = {x.iso639_3: x.iso639_1 or x.iso639_3 for x in registry().values()}
    return {name: [code[c] for c in codes] for name, codes in confusable_groups().items()}
CACHE_DIR = Path(__file__).resolve().parents[2] / "build" / "lid-cache"


def eu24_codes() -> set[str]:
    return {x.iso639_1 for x in registry().values() if x.status == "eu_official"}


def target_eval_codes() -> set[str]:
    return {x.iso639_1 or x.iso639_3 for x in registry().values()}


def read_dev(path: str | Path) -> list[tuple[str, str]]:
    """(gold code, text) rows; `no` is read as `nb` (Bokmål), as the data README says."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path} not found: pass a TSV with lines `iso639_1<TAB>text`")
    rows = []
    with open(path, encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            parts = line.rstrip("\n").split("\t", 1)
            if len(parts) != 2 or (i == 0 and parts[0] == "iso639_1"):
                continue
            code, text = parts
            rows.append(("nb" if code == "no" else code, text))
    if not rows:
        raise InputError(f"{path} has no `code<TAB>text` rows")
    return rows


def file_uses_no(path: str | Path) -> bool:
    with open(path, encoding="utf-8") as fh:
        return any(line.startswith("no\t") for line in fh)


def cached_outputs(name: str, path: Path, texts: list[str], predict, cache: bool = True,
                   part: str = "") -> tuple[list, float]:
    """Top-3 outputs of backend `name` for every text derived from dev file `path` (`part` names a derived
    set, e.g. "long"), from the cache when it has them; (outputs, seconds). The cache is keyed by the texts
    themselves (a sample of another size is another entry); delete build/lid-cache after changing a backend."""
    stem = f"{path.stem}-{part}" if part else path.stem
    key = hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()[:16]
    cfile = CACHE_DIR / f"{stem}-{key}-{name.replace(':', '_').replace('/', '_')}.jsonl"
    if cache and cfile.exists():
        meta, *lines = cfile.read_text(encoding="utf-8").splitlines()
        outs = [[tuple(x) for x in json.loads(line)] for line in lines]
        if len(outs) == len(texts):
            return outs, json.loads(meta)["seconds"]
    t0 = time.perf_counter()
    outs = [predict(t) for t in texts]
    seconds = time.perf_counter() - t0
    if cache:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        with open(cfile, "w", encoding="utf-8") as fh:
            fh.write(json.dumps({"seconds": seconds, "n": len(texts)}) + "\n")
            for o in outs:
                fh.write(json.dumps([[lab, round(s, 5)] for lab, s in o]) + "\n")
    return outs, seconds


def score(gold: list[str], pred: list[str], seconds: float, uses_no: bool = False) -> dict:
    """The `corpus lid eval --json` object, plus `confusion` (per group) and `n`."""
    targets = target_eval_codes()
    present = sorted(set(gold) & targets)
    tp, fp, fn = Counter(), Counter(), Counter()
    for g, p in zip(gold, pred):
        if g == p:
            tp[g] += 1
        else:
            fp[p] += 1
            fn[g] += 1
    support = Counter(gold)
    rename = (lambda c: "no" if c == "nb" else c) if uses_no else (lambda c: c)
    langs = {}
    for c in present:
        prec = tp[c] / (tp[c] + fp[c]) if tp[c] + fp[c] else 0.0
        rec = tp[c] / support[c] if support[c] else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        langs[rename(c)] = {"precision": round(prec, 4), "recall": round(rec, 4), "f1": round(f1, 4),
                            "support": support[c]}

    def macro(codes):
        vals = [langs[rename(c)] for c in present if c in codes]
        if not vals:
            return {"precision": None, "recall": None, "f1": None}
        return {k: round(sum(v[k] for v in vals) / len(vals), 4) for k in ("precision", "recall", "f1")}

    confusion = {}
    for gname, codes in groups().items():
        if not any(c in present for c in codes):
            continue
        table = defaultdict(Counter)
        for g, p in zip(gold, pred):
            if g in codes:
                table[rename(g)][rename(p) if p in codes else "outside"] += 1
        group_ok = sum(1 for g, p in zip(gold, pred) if g in codes and p in codes)
        n = sum(1 for g in gold if g in codes)
        confusion[gname] = {"matrix": {g: dict(r) for g, r in table.items()},
                            "group_accuracy": round(group_ok / n, 4) if n else None}
    return {"languages": langs, "macro_eu24": macro(eu24_codes()), "macro_all": macro(targets),
            "docs_per_s": round(len(gold) / seconds, 1) if seconds else None,
            "confusion": confusion, "n": len(gold)}


def to_eval_codes(labels: list[str]) -> list[str]:
    return [eval_code(lab) if lab != OTHER else OTHER for lab in labels]
