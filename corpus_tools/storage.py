"""Where bytes live: local paths and `s3://bucket/key` URLs behind one small API.

- `expand_inputs(specs)`: files, directories (recursive), globs and S3 prefixes/globs -> sorted list of URLs.
- `open_read(url)` streams (S3 objects are never downloaded to disk first); `read_range(url, offset, length)`.
- `atomic_write(url)`: the file becomes visible only when the `with` block ends without error (temporary
  name + rename locally, a completed multipart upload on S3), so a killed task leaves nothing that looks done.

S3 endpoint and credentials come from the standard AWS variables and config files; `S3_ENDPOINT_URL`
(or `--s3-endpoint`, which sets it) points at an S3-compatible store. This is the only module that reads them.
"""

from __future__ import annotations

import contextlib
import fnmatch
import glob
import io
import os
import time
from pathlib import Path

from corpus_tools.errors import InputError, RetryableError

WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
_RETRIES = 5


def is_s3(url: str) -> bool:
    return str(url).startswith("s3://")


def split_s3(url: str) -> tuple[str, str]:
    bucket, _, key = url[len("s3://"):].partition("/")
    return bucket, key


def s3_endpoint() -> str | None:
    return os.environ.get("S3_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL") or None


_CLIENT = None


def s3_client():
    global _CLIENT
    if _CLIENT is None:
        import boto3
        from botocore.config import Config

        _CLIENT = boto3.client(
            "s3",
            endpoint_url=s3_endpoint(),
            config=Config(retries={"max_attempts": _RETRIES, "mode": "adaptive"}, connect_timeout=5, read_timeout=30),
        )
    return _CLIENT


def reset_s3_client() -> None:
    """Forget the cached client (after the endpoint changed, e.g. in tests)."""
    global _CLIENT
    _CLIENT = None


def _s3_call(fn, *args, **kwargs):
    """Run one S3 call; connection failures become a one-line RetryableError naming the endpoint."""
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

    try:
        return fn(*args, **kwargs)
    except EndpointConnectionError as e:
        raise RetryableError(f"cannot reach the S3 endpoint {s3_endpoint() or 'aws'}: start it or fix --s3-endpoint ({e})") from None
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "404", "NoSuchBucket"):
            raise InputError(f"not found on S3: {e.response.get('Error', {}).get('Message', code)}") from None
        raise RetryableError(f"S3 error {code} at {s3_endpoint() or 'aws'}: {e}") from None
    except BotoCoreError as e:
        raise RetryableError(f"S3 failure at {s3_endpoint() or 'aws'}: {e}; check the endpoint and credentials") from None


def _is_warc(name: str) -> bool:
    return name.endswith(WARC_SUFFIXES)


def list_s3(url: str) -> list[str]:
    """Keys under an S3 prefix; a glob in the key (`**/*.warc.gz`) is matched against the full key."""
    bucket, key = split_s3(url)
    has_glob = any(c in key for c in "*?[")
    prefix = key.split("*")[0].split("?")[0].split("[")[0] if has_glob else key
    out = []
    paginator = s3_client().get_paginator("list_objects_v2")
    for page in _s3_call(lambda: list(paginator.paginate(Bucket=bucket, Prefix=prefix))):
        for obj in page.get("Contents", []):
            k = obj["Key"]
            if has_glob and not fnmatch.fnmatch(k, key):
                continue
            out.append(f"s3://{bucket}/{k}")
    return sorted(out)


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


def open_read(url: str):
    """A binary, forward-only stream. S3 bodies are streamed."""
    if is_s3(url):
        bucket, key = split_s3(url)
        return _s3_call(s3_client().get_object, Bucket=bucket, Key=key)["Body"]
    try:
        return open(url, "rb")
    except OSError as e:
        raise InputError(f"cannot read {url}: {e.strerror}") from None


def read_range(url: str, offset: int, length: int) -> bytes:
    """Exactly `length` bytes at `offset` (one HTTP range request on S3)."""
    if is_s3(url):
        bucket, key = split_s3(url)
        rng = f"bytes={offset}-{offset + length - 1}"
        return _s3_call(s3_client().get_object, Bucket=bucket, Key=key, Range=rng)["Body"].read()
    with open(url, "rb") as fh:
        fh.seek(offset)
        return fh.read(length)


def exists(url: str) -> bool:
    if is_s3(url):
        from botocore.exceptions import ClientError

        bucket, key = split_s3(url)
        try:
            s3_client().head_object(Bucket=bucket, Key=key)
            return True
        except ClientError:
            return False
    return os.path.exists(url)


def join(base: str, *parts: str) -> str:
    if is_s3(base):
        return "/".join([base.rstrip("/"), *parts])
    return os.path.join(base, *parts)


def list_files(url: str, suffix: str = "") -> list[str]:
    """Files under a directory or S3 prefix (recursive), sorted."""
    if is_s3(url):
        prefix = url.rstrip("/") + "/"
        bucket, key = split_s3(prefix)
        paginator = s3_client().get_paginator("list_objects_v2")
        pages = _s3_call(lambda: list(paginator.paginate(Bucket=bucket, Prefix=key)))
        return sorted(f"s3://{bucket}/{o['Key']}" for p in pages for o in p.get("Contents", []) if o["Key"].endswith(suffix))
    if not os.path.isdir(url):
        return []
    return sorted(str(p) for p in Path(url).rglob(f"*{suffix}") if p.is_file() and ".tmp" not in p.name)


@contextlib.contextmanager
def atomic_write(url: str):
    """Yield a binary file; publish it at `url` only if the block completes."""
    if is_s3(url):
        buf = io.BytesIO()
        yield buf
        bucket, key = split_s3(url)
        from boto3.s3.transfer import TransferConfig

        buf.seek(0)
        cfg = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024)
        _s3_call(s3_client().upload_fileobj, buf, bucket, key, Config=cfg)
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


def retry(fn, attempts: int = _RETRIES, base_delay: float = 0.5):
    """Call `fn` until it stops raising RetryableError, with exponential backoff."""
    for i in range(attempts):
        try:
            return fn()
        except RetryableError:
            if i == attempts - 1:
                raise
            time.sleep(base_delay * 2**i)
