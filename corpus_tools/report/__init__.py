"""The run report: `corpus report OUT` writes `OUT/reports/index.html`, one static self-contained page, and the
numbers behind it (`reports/<table>.csv`, `reports/stats.json`).

    corpus report out/dev                 # a local run directory
    corpus report s3://bucket/out/dev     # a release on S3 (read through corpus_tools.core.storage, written back there)

Every number comes from the release's own files: DuckDB views over the shards and the exclusions ledger
(`corpus_tools.release.store`), the executor stats in `logs/`, `run.json` and `release.json`. Charts are inline SVG
(`svg.py`), so the page opens from disk with no network. `corpus run` writes it at the end of every run.
Modules: `data.py` computes the tables, `page.py` renders them, `svg.py` draws.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

from corpus_tools.core import storage
from corpus_tools.report.data import ReportData, collect, costs, finite

__all__ = ["build_report", "stage_costs"]

_STATS = re.compile(r"^logs/([^/]+)/stats\.json$")


def _read_json(url: str) -> dict:
    return json.loads(storage.read_bytes(url)) if storage.exists(url) else {}


def _rel_files(output: str, prefix: str) -> list[str]:
    """Release-relative paths of the files under OUT/prefix (local or S3)."""
    base = output.rstrip("/")
    if not storage.is_s3(base) and not Path(base, prefix).is_dir():
        return []
    return sorted(f[len(base) + 1:] for f in storage.list_files(storage.join(base, prefix)))


def _stats_by_phase(output: str) -> dict[str, list]:
    out = {}
    for rel in _rel_files(output, "logs"):
        m = _STATS.match(rel)
        if m:
            out[m.group(1)] = json.loads(storage.read_bytes(storage.join(output, rel)))
    return out


def _warc_bytes(summary: dict) -> int:
    inputs = ((summary.get("lineage") or {}).get("recipe") or {}).get("inputs") or summary.get("inputs", [])
    return sum(os.path.getsize(p) for p in inputs if not storage.is_s3(p) and os.path.isfile(p))


def stage_costs(output: str, summary: dict) -> list[dict]:
    """CPU seconds, documents in, seconds per 1,000 documents and per GB of WARC, documents/s, per step of every
    phase in pipeline order (from OUT/logs/<phase>/stats.json)."""
    return costs(_stats_by_phase(str(output)), _warc_bytes(summary), summary.get("wall_s"))


def _thresholds(lineage: dict | None) -> tuple[dict, str]:
    """The quality thresholds the release was decided with: the bundled language_ids/quality_thresholds.tsv (or
    the table a restage named) with every override the restages applied (lineage `applied.quality`)."""
    from corpus_tools.quality.thresholds import load_thresholds, parse_override, threshold_columns, with_overrides

    raw = ((lineage or {}).get("applied") or {}).get("quality") or {}
    path = raw.get("thresholds_path") or raw.get("thresholds")
    overrides = [parse_override(k, v) for k, v in sorted(raw.items()) if k.partition(".")[0] in threshold_columns()]
    source = path or "language_ids/quality_thresholds.tsv"
    if overrides:
        source += " with " + ", ".join(f"{c}{'.' + lang if lang else ''}={v:g}" for c, lang, v in overrides)
    return with_overrides(load_thresholds(path), overrides), source


def _lineage(lineage: dict | None, con) -> dict | None:
    """The release's lineage block plus, when the parent can be read, kept documents per language in both."""
    if not lineage:
        return None
    from corpus_tools.release.store import connect, open_release

    out = {k: lineage.get(k) for k in ("parent", "stages", "params", "run_id", "versions")}
    out["new_exclusions"] = con.execute("SELECT count(*) FROM exclusions WHERE ledger_file LIKE 'exclusions/phase=restage-%'").fetchone()[0]
    now = dict(con.execute("SELECT lang, count(*) FROM documents GROUP BY 1").fetchall())
    try:
        with open_release(lineage["parent"]["path"], require_release=False) as parent:
            pcon = connect(parent)
            before = dict(pcon.execute("SELECT lang, count(*) FROM documents GROUP BY 1").fetchall())
            pcon.close()
    except Exception as e:  # a parent moved or on a store we cannot reach: the page says so
        out["parent_unreadable"] = " ".join(str(e).split())[:200]
        return out
    out["languages"] = [{"lang": lab, "parent_documents": before.get(lab, 0), "documents": now.get(lab, 0),
                         "change": now.get(lab, 0) - before.get(lab, 0)} for lab in sorted(set(before) | set(now))]
    return out


def _revived(output: str) -> int:
    """Parent ledger rows a restage re-examined and kept (lineage/superseded/, outcome `kept`)."""
    n = 0
    for rel in _rel_files(output, "lineage/superseded"):
        if rel.endswith(".parquet"):
            t = storage.read_parquet(storage.join(output, rel), columns=["outcome"])
            n += sum(1 for v in t.column("outcome").to_pylist() if v == "kept")
    return n


def _without_manifests(release):
    """The same release files, without the per-shard manifests: the report uses the documents and exclusions
    views only, and validating every manifest for the `shards` view took most of the report's time."""
    from corpus_tools.release.store import Release

    if release.release is None:
        return release
    slim = {"shards": [{"path": s["path"]} for s in release.release["shards"]], "exclusions": release.release["exclusions"]}
    return Release(url=release.url, root=release.root, release=slim, scratch=release.scratch)


def _csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if v is None else json.dumps(v) if isinstance(v, (dict, list)) else finite(v)) for k, v in r.items()})
    return buf.getvalue().encode("utf-8")


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_jsonable(v) for v in obj]
    return finite(obj)


def build_report(output: str) -> str:
    """Write OUT/reports/index.html, reports/<table>.csv and reports/stats.json; returns the page's path or URL."""
    from corpus_tools.release.store import connect, open_release
    from corpus_tools.core.errors import InputError
    from corpus_tools.lid.combine import lid_thresholds
    from corpus_tools.report.page import render

    output = str(output).rstrip("/")
    if not storage.is_s3(output) and not Path(output).is_dir():
        raise InputError(f"{output} not found: give the --output directory of a `corpus run` (or its s3:// prefix)")
    if not storage.is_s3(output) and not (Path(output, "run.json").is_file()
                                          or any(Path(output, d).is_dir() for d in ("shards", "exclusions"))):
        raise InputError(f"{output} is not the output of a run (no run.json, shards/ or exclusions/): "
                         "give the --output directory of a `corpus run`")
    summary = _read_json(storage.join(output, "run.json"))
    with open_release(output, require_release=False) as release:
        if storage.is_s3(output) and not summary and not release.shard_paths() and not release.ledger_paths():
            raise InputError(f"{output} is not the output of a run (no run.json, shards/ or exclusions/ there)")
        con = connect(_without_manifests(release))
        meta = release.release or {}
        lineage = _lineage(meta.get("lineage") or summary.get("lineage"), con)
        if lineage:
            lineage["revived"] = _revived(output)
        thresholds, source = _thresholds(meta.get("lineage") or summary.get("lineage"))
        data: ReportData = collect(con, summary, meta, thresholds, source, lid_thresholds(),
                                   _stats_by_phase(output), _warc_bytes(summary), lineage)
        con.close()
    page = render(data, summary, output, lineage, source)
    reports = storage.join(output, "reports")
    if not storage.is_s3(output):
        Path(reports).mkdir(parents=True, exist_ok=True)
    for name, rows in data.tables.items():
        storage.write_bytes(storage.join(reports, f"{name}.csv"), _csv(rows))
    storage.write_bytes(storage.join(reports, "stats.json"),
                        json.dumps(_jsonable(data.stats), indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    path = storage.join(reports, "index.html")
    storage.write_bytes(path, page.encode("utf-8"))
    return path
