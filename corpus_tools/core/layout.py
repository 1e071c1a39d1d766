"""Where a release's files live, how their names are checked, and JSON Schema validation of its artefacts.

A release is a run's output directory (or s3:// prefix) holding:

    shards/language=<L>/redistribution_class=<R>/part-NNNNN.parquet   kept documents
    exclusions/phase=<P>/part-NNNNN.parquet                             the ledger (no text)
    manifests/part-<L>-<R>-NNNNN.json                        one manifest per shard
    summary.json, croissant.json, release.json               written last, release.json very last

`staging/`, `logs/`, `reports/` and `run.json` are working files, not part of the release.
Every path read from a manifest goes through `resolve_inside`: absolute paths and `..` are rejected.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path, PurePosixPath

from corpus_tools.core.errors import ConfigError, VerificationError
from corpus_tools.core import storage
from corpus_tools.core.languages import data_dir

SCHEMA_DIR = data_dir("manifests")
RELEASE_FILES = ("release.json", "croissant.json", "summary.json", "takedown.json")
_SHARD = re.compile(r"^shards/language=([A-Za-z0-9_]+)/redistribution_class=([A-Za-z0-9_]+)/part-(\d{5,})\.parquet$")
_LEDGER = re.compile(r"^exclusions/(?:[A-Za-z0-9_]+=[A-Za-z0-9_.-]+/)*part-\d{5,}\.parquet$")


def check_relative(rel: str) -> str:
    """A release-relative POSIX path with no `..`, no absolute root, no backslash; VerificationError otherwise."""
    p = PurePosixPath(rel)
    if not rel or "\\" in rel or p.is_absolute() or rel.startswith("~") or ".." in p.parts or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", rel):
        raise VerificationError(f"unsafe path {rel!r} in the release: paths must be relative and stay inside the release")
    return str(p)


def resolve_inside(root: str | Path, rel: str) -> Path:
    """Local path of `rel` under `root`, refusing anything (including a symlink) that leaves `root`."""
    check_relative(rel)
    base = Path(root).resolve()
    full = (base / rel).resolve()
    if full != base and base not in full.parents:
        raise VerificationError(f"unsafe path {rel!r} in the release: it resolves outside {base}")
    return full


def parse_shard_path(rel: str) -> tuple[str, str, int]:
    """(lang, redistribution, part number) of a shard path; VerificationError if it is not one."""
    m = _SHARD.match(rel)
    if not m:
        raise VerificationError(f"{rel!r} is not a shard path (shards/language=L/redistribution_class=R/part-NNNNN.parquet)")
    return m.group(1), m.group(2), int(m.group(3))


def is_ledger_path(rel: str) -> bool:
    return bool(_LEDGER.match(rel))


def manifest_path(shard_rel: str) -> str:
    """`shards/language=deu_Latn/redistribution_class=unknown/part-00003.parquet` -> `manifests/part-deu_Latn-unknown-00003.json`.

    Labels are `[A-Za-z0-9_]` only, so the `-` separated name is unique across partitions.
    """
    lang, red, part = parse_shard_path(shard_rel)
    return f"manifests/part-{lang}-{red}-{part:05d}.json"


@functools.lru_cache(maxsize=None)
def load_schema(name: str) -> dict:
    path = SCHEMA_DIR / f"{name}.schema.json"
    if not path.is_file():
        raise ConfigError(f"JSON Schema {path} is missing: reinstall corpus-tools from a full checkout")
    return json.loads(path.read_text())


@functools.lru_cache(maxsize=None)
def _fast_validator(name: str):
    import jsonschema_rs

    return jsonschema_rs.validator_for(load_schema(name))


@functools.lru_cache(maxsize=None)
def _validator(name: str):
    import jsonschema

    return jsonschema.Draft202012Validator(load_schema(name))


def validate(obj: dict, name: str, where: str) -> dict:
    """Validate `obj` against manifests/<name>.schema.json; VerificationError naming the first problem.

    jsonschema-rs says whether it is valid (~100x faster; a release validates every shard manifest it writes);
    python-jsonschema, the reference, finds the first problem of what it rejects."""
    if _fast_validator(name).is_valid(obj):
        return obj
    errors = sorted(_validator(name).iter_errors(obj), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        at = "/".join(str(p) for p in e.absolute_path) or "(top)"
        raise VerificationError(f"{where} does not match {name}.schema.json at {at}: {e.message[:200]}")
    return obj


def dumps(obj: dict) -> bytes:
    """The canonical on-disk form of every JSON artefact (sorted keys, 2-space indent, UTF-8, final newline)."""
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def loads(data: bytes, name: str, where: str) -> dict:
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise VerificationError(f"{where} is not valid JSON ({e}); it was modified or truncated") from None
    return validate(obj, name, where)


def records_read(output: str, phase: str = "docs") -> int:
    """Sum of the reader's `records_read` counter over the phase's per-task stats files."""
    total = 0
    for url in storage.list_files(storage.join(output, "logs", phase, "stats"), ".json"):
        for step in json.loads(storage.read_bytes(url)):
            stat = step.get("stats", {}).get("records_read")
            if stat:
                total += stat["total"] if isinstance(stat, dict) else stat
    return total
