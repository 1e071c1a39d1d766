"""Run a pipeline recipe: load it, execute its phases in order, check conservation, write `run.json`.

A recipe (`pipelines/*.py`) defines `build(opts: RunOptions) -> list[Phase]`. Each phase runs under its
own executor with logs in `OUT/logs/<phase>/`; completed tasks are skipped when the same command is run
again, which is how an interrupted run resumes.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path


from corpus_tools import __version__, storage
from corpus_tools.storage import parquet_rows, read_parquet
from corpus_tools.errors import ConfigError, InputError, VerificationError

PIPELINES_DIR = Path(__file__).resolve().parent.parent / "pipelines"


@dataclass
class RunOptions:
    """What the CLI passes to a recipe. `params` holds recipe-specific `--param key=value` pairs."""

    inputs: list[str]
    output: str
    files: list[str] = field(default_factory=list)
    tasks: int = 0
    workers: int = 1
    limit: int = -1
    executor: str = "local"
    ray_address: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    run_id: str = ""
    robots: list[str] = field(default_factory=list)  # robots.txt / tdmrep.json capture WARCs (`--robots`)


@dataclass
class Phase:
    """One executor's worth of work. `tasks` = number of parallel tasks; 0 means one per input file."""

    name: str
    pipeline: list
    tasks: int


def load_recipe(name_or_path: str):
    path = Path(name_or_path)
    if not path.suffix:
        path = PIPELINES_DIR / f"{name_or_path}.py"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in PIPELINES_DIR.glob("*.py") if not p.stem.startswith("_")))
        raise ConfigError(f"unknown pipeline {name_or_path!r}: give a recipe file or one of: {known}")
    spec = importlib.util.spec_from_file_location(f"corpus_recipe_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    import sys

    sys.modules[spec.name] = module  # so steps defined in the recipe can be pickled by value for Ray workers
    spec.loader.exec_module(module)
    if not hasattr(module, "build"):
        raise ConfigError(f"pipeline {path} has no build(opts) function")
    return module


def make_run_id(recipe: str, opts: RunOptions) -> str:
    """Content-derived: the same recipe, inputs and options give the same id (and byte-identical shards)."""
    key = json.dumps({"recipe": Path(recipe).stem, "files": [Path(f).name if not storage.is_s3(f) else f for f in opts.files],
                      "limit": opts.limit, "params": opts.params, "version": __version__,
                      **({"robots": [Path(f).name for f in opts.robots]} if opts.robots else {})}, sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def prepare_output(output: str, overwrite: bool) -> None:
    if storage.is_s3(output):
        return
    if overwrite and os.path.exists(output):
        shutil.rmtree(output)
    try:
        os.makedirs(output, exist_ok=True)
        probe = os.path.join(output, ".write-test")
        with open(probe, "w"):
            pass
        os.remove(probe)
    except OSError as e:
        raise InputError(f"output directory {output} is not writable ({e.strerror}): choose another --output") from None


def records_read(output: str, phase: str = "docs") -> int:
    """Sum of the reader's `records_read` counter over the phase's per-task stats files."""
    total = 0
    for url in storage.list_files(storage.join(output, "logs", phase, "stats"), ".json"):
        for step in json.loads(storage.read_bytes(url)):
            stat = step.get("stats", {}).get("records_read")
            if stat:
                total += stat["total"] if isinstance(stat, dict) else stat
    return total


def conservation(output: str) -> dict:
    """Records read vs documents kept + records excluded (by stage and reason), from the files on disk."""
    kept_by_lang: Counter = Counter()
    for url in storage.list_files(storage.join(output, "shards"), ".parquet"):
        lang = next((p.split("=", 1)[1] for p in url.split("/") if p.startswith("lang=")), "other")
        kept_by_lang[lang] += parquet_rows(url)
    excluded: Counter = Counter()
    for url in storage.list_files(storage.join(output, "exclusions"), ".parquet"):
        t = read_parquet(url, columns=["stage", "reason"])
        excluded.update(f"{s}/{r}" for s, r in zip(t.column("stage").to_pylist(), t.column("reason").to_pylist()))
    read = records_read(output)
    kept, n_excluded = sum(kept_by_lang.values()), sum(excluded.values())
    return {
        "records_read": read,
        "documents_kept": kept,
        "records_excluded": n_excluded,
        "kept_by_lang": dict(sorted(kept_by_lang.items())),
        "excluded_by_reason": dict(sorted(excluded.items())),
        "conservation_ok": read == kept + n_excluded,
    }


def execute(recipe: str, opts: RunOptions, overwrite: bool = False, progress: bool = True) -> dict:
    """Run every phase of the recipe; return and store the run summary (`OUT/run.json`)."""
    module = load_recipe(recipe)
    opts.files = storage.expand_inputs(opts.inputs)
    prepare_output(opts.output, overwrite)
    opts.run_id = opts.run_id or make_run_id(recipe, opts)
    phases = module.build(opts)
    started = time.time()
    from corpus_tools.executors import run_phases

    failed = run_phases(phases, opts, progress=progress)
    summary = {"run_id": opts.run_id, "pipeline": Path(recipe).stem, "pipeline_version": __version__,
               "inputs": opts.files, "options": {k: v for k, v in asdict(opts).items() if k not in ("files", "inputs")},
               "failed_tasks": failed, **conservation(opts.output)}
    summary["wall_s"] = round(time.time() - started, 2)
    storage.write_bytes(storage.join(opts.output, "run.json"), json.dumps(summary, indent=2).encode())
    if failed:
        raise VerificationError(f"{sum(len(v) for v in failed.values())} task(s) failed: see {opts.output}/run.json; re-run the same command to retry them")
    if not summary["conservation_ok"]:
        raise VerificationError(
            f"conservation broken: read {summary['records_read']} != kept {summary['documents_kept']} + excluded {summary['records_excluded']}")
    return summary
