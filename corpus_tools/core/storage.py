"""Where bytes live: local paths and `s3://bucket/key` URLs behind one small API.

- `expand_inputs(specs)`: files, directories (recursive), globs and S3 prefixes/globs -> sorted list of URLs.
- `atomic_write(url)`: the file becomes visible only when the `with` block ends without error (temporary
  name + rename locally, a completed multipart upload on S3), so a killed task leaves nothing that looks done.
- The rest are thin calls to the S3 filesystem (`corpus_tools.core.s3fs_lite`, the one S3 layer: client, error
  mapping, streamed reads) or to the local file system: `open_read(url, offset)` streams (S3 objects are never
  downloaded to disk first), `read_range`, `read_bytes`, `write_bytes`, `exists`, `size`, `list_files`.

`CORPUS_CACHE_DIR` (derived, rebuildable files such as serialised tokenizers; default ~/.cache/corpus-tools) is
read here.
"""

from __future__ import annotations

import contextlib
import fnmatch
import glob
import io
import os
import re
from pathlib import Path

from corpus_tools.core.errors import InputError
from corpus_tools.core.s3fs_lite import S3FileSystem, retry, split_s3  # noqa: F401  (retry, split_s3: storage's API too)

WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")


def is_s3(url: str) -> bool:
    return str(url).startswith("s3://")


def _s3() -> S3FileSystem:
    return S3FileSystem()  # fsspec caches the instance; the client is shared (`s3fs_lite.s3_client`)


def cache_dir() -> Path:
    """Where derived, rebuildable files live (`CORPUS_CACHE_DIR`, default ~/.cache/corpus-tools)."""
    return Path(os.environ.get("CORPUS_CACHE_DIR") or Path.home() / ".cache" / "corpus-tools")


def _is_warc(name: str) -> bool:
    return name.endswith(WARC_SUFFIXES)


def glob_regex(pattern: str) -> re.Pattern:
    """A key glob as local `glob(recursive=True)` reads it: `*` and `?` stay inside one path segment,
    `**/` is zero or more folders, `[...]` is a character class."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:[^/]*/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 1:]:
            j = pattern.index("]", i + 1)
            out.append(fnmatch.translate(pattern[i:j + 1])[4:-3])  # fnmatch's class syntax, anchors removed
            i = j + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def list_s3(url: str) -> list[str]:
    """Keys under an S3 prefix (a key prefix, not only a folder: `s3://b/crawl/sample-` lists
    `crawl/sample-0001.warc.gz`); a glob in the key (`**/*.warc.gz`) is matched against the full key."""
    bucket, key = split_s3(url)
    has_glob = any(c in key for c in "*?[")
    prefix = key.split("*")[0].split("?")[0].split("[")[0] if has_glob else key
    rx = glob_regex(key) if has_glob else None
    folder = f"{bucket}/{prefix.rpartition('/')[0]}".rstrip("/")
    keys = (path.partition("/")[2] for path in _s3().find(folder))
    return sorted(f"s3://{bucket}/{k}" for k in keys if k.startswith(prefix) and (rx is None or rx.match(k)))


def expand_inputs(specs: list[str]) -> list[str]:
    """Resolve input specs to WARC files. Raises InputError naming the spec that matched nothing."""
    files: list[str] = []
    for spec in specs:
        spec = str(spec)
        if is_s3(spec):
            found = [u for u in list_s3(spec) if _is_warc(u)]
        elif any(c in spec for c in "*?["):
            found = [p for p in glob.glob(spec, recursive=True) if os.path.isfile(p)]
        elif os.path.isdir(spec):
            found = [str(p) for p in Path(spec).rglob("*") if p.is_file() and _is_warc(p.name)]
        elif os.path.isfile(spec):
            found = [spec]
        else:
            raise InputError(f"input not found: {spec} (give an existing file, directory, glob or s3:// URL)")
        if not found:
            raise InputError(f"no WARC files matched {spec} (expected *.warc, *.warc.gz, *.arc or *.arc.gz)")
        files.extend(os.path.abspath(f) if not is_s3(f) else f for f in found)
    return sorted(dict.fromkeys(files))


def open_read(url: str, offset: int = 0):
    """A binary, forward-only stream from byte `offset`. S3 bodies are streamed (never saved to disk) and
    resume after a dropped connection (`s3fs_lite.S3Stream`)."""
    if is_s3(url):
        return _s3().open(url, "rb", offset=offset)
    try:
        fh = open(url, "rb")
    except OSError as e:
        raise InputError(f"cannot read {url}: {e.strerror}") from None
    if offset:
        fh.seek(offset)
    return fh


def read_range(url: str, offset: int, length: int) -> bytes:
    """Exactly `length` bytes at `offset` (one HTTP range request on S3)."""
    if is_s3(url):
        return _s3().cat_file(url, offset, offset + length)
    with open(url, "rb") as fh:
        fh.seek(offset)
        return fh.read(length)


def exists(url: str) -> bool:
    """Not found is False; refused access, missing credentials or an unreachable store is raised."""
    return _s3().exists(url) if is_s3(url) else os.path.exists(url)


def size(url: str) -> int:
    return int(_s3().size(url)) if is_s3(url) else os.path.getsize(url)


def join(base: str, *parts: str) -> str:
    if is_s3(base):
        return "/".join([base.rstrip("/"), *parts])
    return os.path.join(base, *parts)


def list_files(url: str, suffix: str = "") -> list[str]:
    """Files under a directory or S3 prefix (recursive), sorted."""
    if is_s3(url):
        fs = _s3()
        return sorted(fs.unstrip_protocol(p) for p in fs.find(url) if p.endswith(suffix) and p != fs._strip_protocol(url))
    if not os.path.isdir(url):
        return []
    return sorted(str(p) for p in Path(url).rglob(f"*{suffix}") if p.is_file() and ".tmp" not in p.name)


@contextlib.contextmanager
def atomic_write(url: str):
    """Yield a binary file; publish it at `url` only if the block completes."""
    if is_s3(url):
        with _s3().open(url, "wb") as fh:  # an S3AtomicWriter: an error in the block aborts the upload
            yield fh
        return
    os.makedirs(os.path.dirname(url) or ".", exist_ok=True)
    tmp = f"{url}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as fh:
            yield fh
        os.replace(tmp, url)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)


def write_bytes(url: str, data: bytes) -> None:
    with atomic_write(url) as fh:
        fh.write(data)


def read_bytes(url: str) -> bytes:
    with contextlib.closing(open_read(url)) as fh:
        return fh.read()


def read_parquet(url: str, columns: list[str] | None = None, filters=None):
    """One Parquet file as a pyarrow Table, local or S3 (an S3 object is read into memory whole)."""
    import pyarrow.parquet as pq

    source = io.BytesIO(read_bytes(url)) if is_s3(url) else url
    return pq.read_table(source, columns=columns, filters=filters)


def parquet_rows(url: str) -> int:
    """Row count from the Parquet footer."""
    import pyarrow.parquet as pq

    source = io.BytesIO(read_bytes(url)) if is_s3(url) else url
    return pq.ParquetFile(source).metadata.num_rows

