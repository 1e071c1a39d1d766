"""Where bytes live: local paths and `s3://bucket/key` URLs behind one small API.

- `expand_inputs(specs)`: files, directories (recursive), globs and S3 prefixes/globs -> sorted list of URLs.
- `open_read(url)` streams (S3 objects are never downloaded to disk first); `read_range(url, offset, length)`.
- `atomic_write(url)`: the file becomes visible only when the `with` block ends without error (temporary
  name + rename locally, a completed multipart upload on S3), so a killed task leaves nothing that looks done.

S3 endpoint and credentials come from the standard AWS variables and config files; `S3_ENDPOINT_URL`
(or `--s3-endpoint`, which sets it) points at an S3-compatible store. This is the only module that reads them,
and `CORPUS_CACHE_DIR` (derived, rebuildable files such as serialised tokenizers; default ~/.cache/corpus-tools).
"""

from __future__ import annotations

import contextlib
import fnmatch
import glob
import io
import os
import re
import time
from pathlib import Path

from corpus_tools.core.errors import InputError, RetryableError

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


def cache_dir() -> Path:
    """Where derived, rebuildable files live (`CORPUS_CACHE_DIR`, default ~/.cache/corpus-tools)."""
    return Path(os.environ.get("CORPUS_CACHE_DIR") or Path.home() / ".cache" / "corpus-tools")


def set_s3_endpoint(url: str | None) -> None:
    """`--s3-endpoint`: point every later S3 call (and Ray workers, which inherit the variable) at `url`."""
    if url:
        os.environ["S3_ENDPOINT_URL"] = url
        reset_s3_client()


def reset_s3_client() -> None:
    """Forget the cached client (after the endpoint changed, e.g. in tests)."""
    global _CLIENT
    _CLIENT = None


# S3 error codes that mean "these credentials may not do this" (HEAD answers carry only the HTTP status)
S3_REFUSED = ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "AllAccessDisabled", "401", "403")


def s3_refused(code: str) -> str:
    return (f"S3 at {s3_endpoint() or 'AWS S3'} refused access ({code}): check AWS_ACCESS_KEY_ID / "
            "AWS_SECRET_ACCESS_KEY and the bucket's permissions")


def s3_no_credentials() -> str:
    return (f"no S3 credentials for {s3_endpoint() or 'AWS S3'}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "(or AWS_PROFILE), or give a local path")


def _s3_call(fn, *args, **kwargs):
    """Run one S3 call; connection failures become a one-line RetryableError naming the endpoint, refused
    access and missing credentials an InputError saying what to set."""
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

    try:
        return fn(*args, **kwargs)
    except EndpointConnectionError as e:
        raise RetryableError(f"cannot reach the S3 endpoint {s3_endpoint() or 'aws'}: start it or fix --s3-endpoint ({e})") from None
    except NoCredentialsError:
        raise InputError(s3_no_credentials()) from None
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code", "")
        if code in S3_REFUSED:
            raise InputError(s3_refused(code)) from None
        if code == "InvalidRange":
            raise InputError(f"byte range outside the object: {e.response.get('Error', {}).get('Message', code)}") from None
        if code in ("NoSuchKey", "404", "NoSuchBucket"):
            raise InputError(f"not found on S3: {e.response.get('Error', {}).get('Message', code)}") from None
        raise RetryableError(f"S3 error {code} at {s3_endpoint() or 'aws'}: {e}") from None
    except BotoCoreError as e:
        raise RetryableError(f"S3 failure at {s3_endpoint() or 'aws'}: {e}; check the endpoint and credentials") from None


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
    """Keys under an S3 prefix; a glob in the key (`**/*.warc.gz`) is matched against the full key."""
    bucket, key = split_s3(url)
    has_glob = any(c in key for c in "*?[")
    prefix = key.split("*")[0].split("?")[0].split("[")[0] if has_glob else key
    rx = glob_regex(key) if has_glob else None
    out = []
    paginator = s3_client().get_paginator("list_objects_v2")
    for page in _s3_call(lambda: list(paginator.paginate(Bucket=bucket, Prefix=prefix))):
        for obj in page.get("Contents", []):
            k = obj["Key"]
            if rx is not None and not rx.match(k):
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


class S3Stream(io.RawIOBase):
    """A streamed S3 object body that survives dropped connections.

    botocore retries the GET itself (throttling, connection errors: `retries` in `s3_client`), but not a
    body that breaks half-way; this reopens the object at the current byte with a Range request, up to
    `_RETRIES` times with exponential backoff, so a long WARC is never re-read from the start or lost.
    """

    def __init__(self, url: str, offset: int = 0):
        super().__init__()
        self.url, self.pos = url, offset
        self._body = None
        self._open()

    def _open(self) -> None:
        bucket, key = split_s3(self.url)
        kwargs = {"Range": f"bytes={self.pos}-"} if self.pos else {}
        self._body = _s3_call(s3_client().get_object, Bucket=bucket, Key=key, **kwargs)["Body"]

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        from botocore.exceptions import (ConnectionClosedError, IncompleteReadError, ReadTimeoutError,
                                         ResponseStreamingError)
        from urllib3.exceptions import ProtocolError

        for attempt in range(_RETRIES + 1):
            try:
                if self._body is None:
                    self._open()  # after a drop: resume at the byte we got to
                data = self._body.read() if n is None or n < 0 else self._body.read(n)
                self.pos += len(data)
                return data
            except (ResponseStreamingError, IncompleteReadError, ReadTimeoutError, ConnectionClosedError, ProtocolError,
                    OSError, RetryableError) as e:
                if attempt == _RETRIES:
                    raise RetryableError(f"S3 read of {self.url} kept failing at byte {self.pos}: {e}") from None
                time.sleep(0.5 * 2**attempt)
                if self._body is not None:
                    with contextlib.suppress(Exception):
                        self._body.close()
                self._body = None
        return b""  # unreachable

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def tell(self) -> int:
        return self.pos

    def close(self) -> None:
        if self._body is not None:
            self._body.close()
        super().close()


def open_read(url: str, offset: int = 0):
    """A binary, forward-only stream from byte `offset`. S3 bodies are streamed (never saved to disk)."""
    if is_s3(url):
        return S3Stream(url, offset)
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
        bucket, key = split_s3(url)
        rng = f"bytes={offset}-{offset + length - 1}"

        def once():
            from botocore.exceptions import ConnectionClosedError, ReadTimeoutError, ResponseStreamingError

            try:
                return _s3_call(s3_client().get_object, Bucket=bucket, Key=key, Range=rng)["Body"].read()
            except (ResponseStreamingError, ReadTimeoutError, ConnectionClosedError) as e:
                raise RetryableError(f"S3 range read of {url} failed: {e}") from None

        return retry(once)
    with open(url, "rb") as fh:
        fh.seek(offset)
        return fh.read(length)


def exists(url: str) -> bool:
    if is_s3(url):
        from botocore.exceptions import ClientError

        bucket, key = split_s3(url)
        try:
            _s3_call(s3_client().head_object, Bucket=bucket, Key=key)
            return True
        except InputError as e:  # not found is an answer; refused access or no credentials is not
            if str(e).startswith("not found on S3"):
                return False
            raise
        except RetryableError as e:
            if isinstance(e.__context__, ClientError):  # another HTTP status (a HEAD answer has no body)
                return False
            raise
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


def _part_bytes() -> int:
    """Multipart chunk: CORPUS_S3_PART_MB (default 8, S3's minimum part is 5 MiB)."""
    return max(5, int(os.environ.get("CORPUS_S3_PART_MB", "8"))) * 1024 * 1024


class _S3AtomicWriter(io.RawIOBase):
    """Write-only stream to one S3 object. Small objects are one PUT at commit; from one chunk on, a multipart
    upload is started and parts are sent as they fill. Only `commit()` makes the object visible
    (PutObject / CompleteMultipartUpload); `abort()` drops the upload, so a failed or killed writer never
    leaves a partial object (a killed one leaves an unfinished upload, invisible to readers; a bucket
    lifecycle rule `AbortIncompleteMultipartUpload` reclaims it)."""

    def __init__(self, bucket: str, key: str):
        super().__init__()
        self.bucket, self.key = bucket, key
        self.chunk = _part_bytes()
        self.buf = bytearray()
        self.upload_id: str | None = None
        self.parts: list[dict] = []
        self.pos = 0

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def write(self, data) -> int:
        n = len(data)
        self.buf += data
        self.pos += n
        while len(self.buf) >= self.chunk:
            self._send(bytes(self.buf[: self.chunk]))
            del self.buf[: self.chunk]
        return n

    def _send(self, data: bytes) -> None:
        client = s3_client()
        if self.upload_id is None:
            self.upload_id = _s3_call(client.create_multipart_upload, Bucket=self.bucket, Key=self.key)["UploadId"]
        number = len(self.parts) + 1
        resp = _s3_call(client.upload_part, Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                        PartNumber=number, Body=data)
        self.parts.append({"PartNumber": number, "ETag": resp["ETag"]})

    def commit(self) -> None:
        client = s3_client()
        if self.upload_id is None:
            _s3_call(client.put_object, Bucket=self.bucket, Key=self.key, Body=bytes(self.buf))
        else:
            if self.buf:
                self._send(bytes(self.buf))
            _s3_call(client.complete_multipart_upload, Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                     MultipartUpload={"Parts": self.parts})
        self.buf = bytearray()

    def abort(self) -> None:
        self.buf = bytearray()
        if self.upload_id is not None:
            with contextlib.suppress(Exception):  # the store may be the reason we abort; never mask that error
                s3_client().abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)
            self.upload_id = None


@contextlib.contextmanager
def atomic_write(url: str):
    """Yield a binary file; publish it at `url` only if the block completes."""
    if is_s3(url):
        writer = _S3AtomicWriter(*split_s3(url))
        try:
            yield writer
            writer.commit()
        except BaseException:
            writer.abort()
            raise
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


def retry(fn, attempts: int = _RETRIES, base_delay: float = 0.5):
    """Call `fn` until it stops raising RetryableError, with exponential backoff."""
    for i in range(attempts):
        try:
            return fn()
        except RetryableError:
            if i == attempts - 1:
                raise
            time.sleep(base_delay * 2**i)
