"""Open a release (local directory or s3:// prefix) and query it through read-only DuckDB views.

    with open_release("s3://bucket/out") as rel:      # small release files are copied to a temp dir first
        con = connect(rel)                              # views: documents, exclusions, shards
        columns, rows = run_query(con, "SELECT lang, count(*) FROM documents GROUP BY 1")

Read-only is enforced three ways: exactly one SELECT statement is accepted (`extract_statements`), DuckDB's
file access is limited to the release directory (`allowed_directories`, `enable_external_access=false`), and
the configuration is locked so a query cannot undo that. Writes, ATTACH, COPY TO, INSTALL/LOAD and file
functions outside the release all fail with one line. DuckDB spills to a private temporary directory (mode
0700, removed when the release is closed; never the working directory, DuckDB's default `.tmp`), the only
other directory DuckDB itself lets a query see, and it holds nothing but this connection's own spill files.
A query runs under a memory limit, a cap on that spill and a wall-clock timeout (`Sandbox`).
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from corpus_tools.core import storage
from corpus_tools.core.errors import InputError, VerificationError
from corpus_tools.core import layout

ALLOWED_STATEMENTS = ("SELECT",)  # not EXPLAIN: EXPLAIN ANALYZE would execute the statement it wraps
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Sandbox:
    """Limits of one `corpus audit query` connection.

    memory_limit: DuckDB memory limit, e.g. "2GB" (default 2GB: a laptop-safe share; DuckDB's own default
    is 80 % of RAM). temp_limit: most data spilled to the private temp directory, default "8GB".
    timeout_s: wall-clock seconds per statement, default 60 (the issue's 5-way self-join ran 57 s).
    """

    memory_limit: str = "2GB"
    temp_limit: str = "8GB"
    timeout_s: float = 60.0


def parse_size(value: str, option: str) -> str:
    """A DuckDB size like `2GB` or `512MiB` (checked, normalised); InputError naming the option otherwise."""
    m = _SIZE.match(str(value))
    if not m or float(m.group(1)) <= 0:
        raise InputError(f"{option} {value!r} is not a size: give a number and a unit, e.g. 2GB or 512MB")
    return f"{m.group(1)}{m.group(2).upper()}"


def parse_duration(value: str, option: str) -> float:
    """`60s`, `500ms`, `2m`, `1h` or a plain number of seconds -> seconds; InputError otherwise."""
    m = _DURATION.match(str(value))
    seconds = float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "min": 60, "h": 3600}[(m.group(2) or "s").lower()] if m else 0
    if seconds <= 0:
        raise InputError(f"{option} {value!r} is not a duration: give e.g. 60s, 500ms or 2m")
    return seconds
_RELEASE_PREFIXES = ("shards/", "exclusions/", "manifests/")


@dataclass
class Release:
    """A release as local files. `url` is what the user gave; `root` a local directory (a temp copy for S3)."""

    url: str
    root: Path
    release: dict | None = None
    scratch: Path | None = None  # private directory for DuckDB's spill files (see `connect`)
    _manifests: dict[str, dict] = field(default_factory=dict)

    def path(self, rel: str) -> Path:
        return layout.resolve_inside(self.root, rel)

    def files(self, prefix: str, suffix: str) -> list[str]:
        """Release-relative paths of the files actually present under `prefix`."""
        base = self.root / prefix
        if not base.is_dir():
            return []
        return sorted(p.relative_to(self.root).as_posix() for p in base.rglob(f"*{suffix}") if p.is_file() and ".tmp" not in p.name)

    def shard_paths(self) -> list[str]:
        if self.release is not None:
            return [s["path"] for s in self.release["shards"]]
        return self.files("shards", ".parquet")

    def ledger_paths(self) -> list[str]:
        if self.release is not None:
            return [e["path"] for e in self.release["exclusions"]]
        return self.files("exclusions", ".parquet")

    def manifest(self, shard_rel: str) -> dict:
        if shard_rel not in self._manifests:
            rel = layout.manifest_path(shard_rel)
            p = self.path(rel)
            if not p.is_file():
                raise VerificationError(f"manifest {rel} of shard {shard_rel} is missing")
            self._manifests[shard_rel] = layout.loads(p.read_bytes(), "shard-manifest", rel)
        return self._manifests[shard_rel]


def _download(url: str, dest: Path) -> None:
    prefix = url.rstrip("/") + "/"
    for obj in storage.list_files(url.rstrip("/")):
        rel = obj[len(prefix):]
        if rel in layout.RELEASE_FILES or rel.startswith(_RELEASE_PREFIXES):
            target = layout.resolve_inside(dest, rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(storage.read_bytes(obj))


@contextlib.contextmanager
def open_release(url: str, require_release: bool = True):
    """Yield a `Release`; release.json is validated against its schema. InputError if there is no release."""
    url = str(url)
    with contextlib.ExitStack() as stack:
        if storage.is_s3(url):
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="corpus-audit-")))
            _download(url, root)
        else:
            root = Path(url)
            if not root.is_dir():
                raise InputError(f"release not found: {url} (give a run's output directory or its s3:// prefix)")
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="corpus-duckdb-")))
        rel = Release(url=url, root=root.resolve(), scratch=scratch)
        meta = root / "release.json"
        if meta.is_file():
            rel.release = layout.loads(meta.read_bytes(), "release", "release.json")
            for p in rel.release["shards"] + rel.release["exclusions"]:
                layout.check_relative(p["path"])
        elif require_release:
            raise InputError(f"{url} has no release.json: build it with `corpus audit build {url}` (or re-run `corpus run`)")
        yield rel


def _files_sql(root: Path, rels: list[str]) -> str:
    return "[" + ", ".join("'" + str(layout.resolve_inside(root, r)).replace("'", "''") + "'" for r in rels) + "]"


def _empty_view(con, name: str, schema) -> None:
    import pyarrow as pa

    con.register(f"_{name}_empty", pa.Table.from_pylist([], schema=schema))
    con.execute(f"CREATE VIEW {name} AS SELECT * FROM _{name}_empty")


def _scratch(rel: Release) -> Path:
    """The release's private spill directory; one is made (and removed at exit) for a hand-built `Release`."""
    if rel.scratch is None:
        import atexit

        rel.scratch = Path(tempfile.mkdtemp(prefix="corpus-duckdb-"))
        atexit.register(shutil.rmtree, rel.scratch, ignore_errors=True)
    return rel.scratch


def _quote(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def connect(rel: Release, lock: bool = True, sandbox: Sandbox | None = None):
    """An in-memory DuckDB with views `documents` (+ `shard`), `exclusions` (+ `ledger_file`), `shards`.

    Spill files go to the release's private scratch directory, never the working directory. `sandbox` adds
    the memory and spill limits of `corpus audit query` (its timeout is applied by `run_query`)."""
    import duckdb
    import pyarrow as pa

    from corpus_tools.core.schema import DOCUMENT_SCHEMA, EXCLUSION_SCHEMA

    con = duckdb.connect(":memory:")
    con.execute("SET autoinstall_known_extensions=false")
    con.execute("SET autoload_known_extensions=false")
    con.execute(f"SET temp_directory={_quote(str(_scratch(rel)))}")
    if sandbox is not None:
        try:
            con.execute(f"SET memory_limit={_quote(parse_size(sandbox.memory_limit, '--memory-limit'))}")
            con.execute(f"SET max_temp_directory_size={_quote(parse_size(sandbox.temp_limit, '--temp-limit'))}")
        except duckdb.Error as e:
            raise InputError(f"DuckDB refused the limits: {_one_line(e)}") from None
    root = str(rel.root)
    strip = len(root) + 1
    shards, ledgers = rel.shard_paths(), rel.ledger_paths()
    if shards:
        con.execute(f"CREATE VIEW documents AS SELECT * EXCLUDE (filename), substr(filename, {strip + 1}) AS shard FROM "
                    f"read_parquet({_files_sql(rel.root, shards)}, hive_partitioning=false, union_by_name=true, filename=true)")
    else:
        _empty_view(con, "documents", DOCUMENT_SCHEMA.append(pa.field("shard", pa.string())))
    if ledgers:
        con.execute(f"CREATE VIEW exclusions AS SELECT * EXCLUDE (filename), substr(filename, {strip + 1}) AS ledger_file FROM "
                    f"read_parquet({_files_sql(rel.root, ledgers)}, hive_partitioning=false, union_by_name=true, filename=true)")
    else:
        _empty_view(con, "exclusions", EXCLUSION_SCHEMA.append(pa.field("ledger_file", pa.string())))
    rows = []
    for s in (rel.release or {}).get("shards", []):
        if "sha256" not in s:  # a release being built: no shard table yet
            continue
        m = rel.manifest(s["path"]) if (rel.root / layout.manifest_path(s["path"])).is_file() else {}
        rows.append({**{k: s[k] for k in ("path", "sha256", "bytes", "rows", "lang", "redistribution")},
                     "min_id": m.get("min_id"), "max_id": m.get("max_id"), "manifest": layout.manifest_path(s["path"]),
                     "input_files": json.dumps([i["path"] for i in m.get("inputs", [])])})
    schema = pa.schema([("path", pa.string()), ("sha256", pa.string()), ("bytes", pa.int64()), ("rows", pa.int64()),
                        ("lang", pa.string()), ("redistribution", pa.string()), ("min_id", pa.string()),
                        ("max_id", pa.string()), ("manifest", pa.string()), ("input_files", pa.string())])
    con.register("_shards_table", pa.Table.from_pylist(rows, schema=schema))
    con.execute("CREATE VIEW shards AS SELECT * FROM _shards_table")
    if lock:
        con.execute(f"SET allowed_directories=[{_quote(root + '/')}]")
        con.execute("SET enable_external_access=false")
        con.execute("SET lock_configuration=true")
    return con


def run_query(con, sql: str, sandbox: Sandbox | None = None) -> tuple[list[str], list[tuple]]:
    """Run exactly one read-only SELECT; InputError (one line) for anything else, when DuckDB refuses it,
    or when it runs past `sandbox.timeout_s` or needs more than `sandbox.memory_limit`."""
    import duckdb

    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as e:
        raise InputError(f"SQL error: {_one_line(e)}") from None
    if not statements:
        raise InputError("empty query: give one SELECT statement over documents, exclusions or shards")
    for st in statements:
        kind = str(st.type).rsplit(".", 1)[-1]
        if kind not in ALLOWED_STATEMENTS:
            raise InputError(f"query is read-only: only SELECT is allowed, not {kind}")
    if len(statements) > 1:
        raise InputError(f"query refused: {len(statements)} statements given; run one SELECT per call")
    timer = threading.Timer(sandbox.timeout_s, con.interrupt) if sandbox else None
    try:
        if timer:
            timer.start()
        result = con.execute(statements[0].query)
        columns = [d[0] for d in result.description]
        return columns, result.fetchall()
    except duckdb.InterruptException:
        raise InputError(f"query stopped after {sandbox.timeout_s:g} s (--timeout): narrow it (LIMIT, WHERE) "
                         "or raise --timeout") from None
    except duckdb.OutOfMemoryException as e:
        what = _one_line(e).split(" Possible solutions")[0]
        raise InputError(f"query needs more memory than --memory-limit {sandbox.memory_limit if sandbox else ''} allows "
                         f"({what}): narrow it or raise --memory-limit / --temp-limit") from None
    except duckdb.Error as e:
        raise InputError(f"query refused: {_one_line(e)}") from None
    finally:
        if timer:
            timer.cancel()


def _one_line(e: Exception) -> str:
    return " ".join(str(e).split())[:300]
