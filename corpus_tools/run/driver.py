"""Run a pipeline recipe: load it, execute its phases in order, check conservation, write `run.json`.

A recipe (`pipelines/*.py`) defines `build(opts: RunOptions) -> list[Phase]` and declares its `--param`
keys once, in `PARAMS = {name: Param(type, default, help)}`: an unknown key or a bad value stops the run
before any work, with the list of valid ones. Each phase runs under its own executor with logs in
`OUT/logs/<phase>/`; completed tasks are skipped when the same command is run again, which is how an
interrupted run resumes.

Resume is safe: `OUT/run-config.json` records a digest of everything that changes the results (the recipe
file, its params, the input files and their sizes, the code version, and the policy and threshold files in
language_ids/ and manifests/); a later run into the same output with a different one is refused with one line
naming what changed. `OUT/.lock` (host and pid of the holder) keeps two runs from writing one output; a lock
whose process is gone is named and taken over.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from corpus_tools import __version__
from corpus_tools.core import storage
from corpus_tools.core.storage import parquet_rows, read_parquet
from corpus_tools.core.errors import ConfigError, InputError, VerificationError
from corpus_tools.core.languages import data_dir
from corpus_tools.core.layout import records_read
from corpus_tools.core.recipe import RunOptions, check_params, load_recipe, load_recipe_path
from corpus_tools.core.schema import SHARD_KEYS, path_key


def make_run_id(recipe: str, opts: RunOptions) -> str:
    """Content-derived: the same recipe, inputs and options give the same id (and byte-identical shards)."""
    key = json.dumps({"recipe": Path(recipe).stem, "files": [Path(f).name if not storage.is_s3(f) else f for f in opts.files],
                      "limit": opts.limit, "params": opts.params, "version": __version__,
                      **({"robots": [Path(f).name for f in opts.robots]} if opts.robots else {})}, sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:16]


ROOT = Path(__file__).resolve().parents[2]
CONFIG_FILE = "run-config.json"
LOCK_FILE = ".lock"


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _code_digest() -> str:
    """The package's own source, so an edited checkout with the same version number still counts as a change."""
    h = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for path in sorted(p for p in package.rglob("*.py") if p.relative_to(package).parts[0] != "pipelines"):
        h.update(str(path.relative_to(package.parent)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def run_config(recipe: str, opts: RunOptions) -> dict:
    """Everything that changes a run's results, each part digested: what `OUT/run-config.json` records."""
    def data_files(folder: str) -> dict:
        base = data_dir(folder)
        return {str(p.relative_to(base)): _file_digest(p) for p in sorted(base.rglob("*"))
                if p.is_file() and p.suffix in (".json", ".tsv", ".txt") and not p.name.startswith(".")}

    def sized(files: list[str]) -> list:
        return [[Path(f).name if not storage.is_s3(f) else f, storage.size(f)] for f in files]

    recipe_path = Path(load_recipe_path(recipe))
    return {
        "recipe": {"name": recipe_path.stem, "sha256": _file_digest(recipe_path)},
        "params": dict(sorted(opts.params.items())),
        "inputs": sized(opts.files),
        "robots": sized(storage.expand_inputs(opts.robots)) if opts.robots else [],
        "limit": opts.limit,
        "tasks": opts.tasks,
        "code": {"version": __version__, "sha256": _code_digest()},
        "language_ids": data_files("language_ids"),
        "manifests": data_files("manifests"),
    }


def _changed(old: dict, new: dict) -> list[str]:
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if key == "params":
            a, b = a or {}, b or {}
            out += [f"--param {k} ({a.get(k, 'default')} -> {b.get(k, 'default')})"
                    for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        elif key in ("language_ids", "manifests") and isinstance(a, dict) and isinstance(b, dict):
            out += [f"{key}/{k}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        else:
            out.append({"inputs": "the input files or their sizes", "code": "the corpus-tools code",
                        "recipe": "the recipe file"}.get(key, key))
    return out


def check_config(output: str, config: dict) -> None:
    """Record the run's configuration in a new output; refuse to resume one made with another."""
    url = storage.join(output, CONFIG_FILE)
    if storage.exists(url):
        try:
            old = json.loads(storage.read_bytes(url))
        except ValueError:
            old = {}
        changed = _changed(old.get("config", {}), config)
        if changed:
            raise ConfigError(f"{output} was made with another configuration ({'; '.join(changed[:5])}"
                              f"{'; ...' if len(changed) > 5 else ''}): re-run with --overwrite to start over, "
                              "or give a new --output")
        return
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()
    storage.write_bytes(url, json.dumps({"config_sha256": digest, "config": config}, indent=1, sort_keys=True).encode())


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class OutputLock:
    """`OUT/.lock` holding `host pid`, created exclusively. Another live holder on this host -> ConfigError;
    a holder on this host whose pid is gone is stale and taken over (with a warning naming it); a holder on
    another host cannot be checked from here and is refused with the way to clear it. S3 outputs: no lock
    (S3 has no exclusive create); do not start two runs on one prefix."""

    def __init__(self, output: str):
        self.output = output
        self.path = os.path.join(output, LOCK_FILE)
        self.held = False

    def acquire(self) -> "OutputLock":
        if storage.is_s3(self.output):
            return self
        os.makedirs(self.output, exist_ok=True)
        me = f"{socket.gethostname()} {os.getpid()}"
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                self._check_holder()
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(me + "\n")
            self.held = True
            return self
        raise ConfigError(f"could not lock {self.path}: another run is starting on {self.output}; wait, or give a new --output")

    def _check_holder(self) -> None:
        try:
            host, _, pid = Path(self.path).read_text().strip().partition(" ")
            pid_n = int(pid)
        except (OSError, ValueError):
            host, pid_n = "", -1
        if host == socket.gethostname() and pid_n > 0 and _pid_alive(pid_n) and pid_n != os.getpid():
            raise ConfigError(f"{self.output} is in use by a running corpus run (pid {pid_n} on {host}): wait for it "
                              "to finish, or give another --output")
        if host and host != socket.gethostname():
            raise ConfigError(f"{self.output} is locked by a run on host {host} (pid {pid_n}): if that run is gone, "
                              f"delete {self.path} and re-run")
        from loguru import logger

        logger.warning(f"taking over the stale lock {self.path} of pid {pid_n} on {host or '?'} (no such process)")
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path)

    def release(self) -> None:
        if self.held:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path)
            self.held = False


def prepare_output(output: str, overwrite: bool) -> None:
    """Make the output writable; with `overwrite`, empty it (keeping the lock this run holds)."""
    if storage.is_s3(output):
        return
    if overwrite and os.path.exists(output):
        for entry in os.scandir(output):
            if entry.name == LOCK_FILE:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.remove(entry.path)
    try:
        os.makedirs(output, exist_ok=True)
        probe = os.path.join(output, ".write-test")
        with open(probe, "w"):
            pass
        os.remove(probe)
    except OSError as e:
        raise InputError(f"output directory {output} is not writable ({e.strerror}): choose another --output") from None


def conservation(output: str) -> dict:
    """Records read vs documents kept + records excluded (by stage and reason), from the files on disk."""
    kept_by_lang: Counter = Counter()
    for url in storage.list_files(storage.join(output, "shards"), ".parquet"):
        lang = path_key(url, SHARD_KEYS[0]) or "other"
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
    check_params(getattr(module, "PARAMS", None), opts.params)
    opts.files = storage.expand_inputs(opts.inputs)
    config = run_config(recipe, opts)
    lock = OutputLock(opts.output)
    if not storage.is_s3(opts.output):
        prepare_output(opts.output, overwrite=False)  # a clear line for an unwritable output, before the lock
    lock.acquire()
    try:
        prepare_output(opts.output, overwrite)
        check_config(opts.output, config)
        return _execute(recipe, module, opts, progress)
    finally:
        lock.release()


def _execute(recipe: str, module, opts: RunOptions, progress: bool) -> dict:
    opts.run_id = opts.run_id or make_run_id(recipe, opts)
    phases = module.build(opts)
    started = time.time()
    from corpus_tools.run.executors import run_phases

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
