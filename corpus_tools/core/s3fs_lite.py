"""The one S3 layer: an fsspec filesystem for `s3://` over one boto3 client. `corpus_tools.core.storage` reads and
writes S3 through it, and datatrove's logging folder (completion markers, per-task stats, task logs) is a
`DataFolder` over it (`datafolder`), so every S3 call maps its errors the same way.

Why not `s3fs`: it needs `aiobotocore`, and no aiobotocore release accepts our botocore==1.44.8 (the newest,
3.10.0, needs botocore>=1.43.115,<1.43.118); `pip install --dry-run s3fs -c constraints.txt` resolves only by
falling back to s3fs 0.4.2 (2020, before fsspec's async API). This covers what we use: streamed and ranged
reads, atomic writes, listing, info and delete.

- Endpoint and credentials: the standard AWS variables and config files; `S3_ENDPOINT_URL` (or
  `--s3-endpoint`, which sets it through `set_s3_endpoint`) points at an S3-compatible store.
- Errors (`s3_call`): refused access (AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch, ...) and missing
  credentials are an `InputError` that says what to set, raised on the first answer and never retried; a missing
  key is `S3NotFound` (an `InputError` and a `FileNotFoundError`, so fsspec callers see "not there"); an
  unreachable store or another error is a `RetryableError` (botocore has already retried it `_RETRIES` times).
- Reads stream (`S3Stream`: a dropped body resumes at the byte it reached); writes are atomic
  (`S3AtomicWriter`: one PUT or a multipart upload, visible only once closed without error).

The filesystem is used by instance (`S3FileSystem()`); it is not registered with fsspec for `s3://`.
"""

from __future__ import annotations

import contextlib
import io
import os
import time

from fsspec.spec import AbstractFileSystem

from corpus_tools.core.errors import InputError, RetryableError

_RETRIES = 5
_CLIENT = None

# S3 error codes that mean "these credentials may not do this" (HEAD answers carry only the HTTP status)
S3_REFUSED = ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "AllAccessDisabled", "401", "403")


def s3_endpoint() -> str | None:
    return os.environ.get("S3_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL") or None


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


def set_s3_endpoint(url: str | None) -> None:
    """`--s3-endpoint`: point every later S3 call (and Ray workers, which inherit the variable) at `url`."""
    if url:
        os.environ["S3_ENDPOINT_URL"] = url
        reset_s3_client()


def reset_s3_client() -> None:
    """Forget the cached client (after the endpoint changed, e.g. in tests)."""
    global _CLIENT
    _CLIENT = None


def s3_refused(code: str) -> str:
    return (f"S3 at {s3_endpoint() or 'AWS S3'} refused access ({code}): check AWS_ACCESS_KEY_ID / "
            "AWS_SECRET_ACCESS_KEY and the bucket's permissions")


def s3_no_credentials() -> str:
    return (f"no S3 credentials for {s3_endpoint() or 'AWS S3'}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "(or AWS_PROFILE), or give a local path")


class S3NotFound(InputError, FileNotFoundError):
    """No such key or bucket: a one-line InputError for the CLI, a FileNotFoundError for fsspec callers."""


def s3_call(fn, *args, **kwargs):
    """Run one S3 call and map its failure to one line (see the module docstring for which are retried)."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
    )

    try:
        return fn(*args, **kwargs)
    except EndpointConnectionError as e:
        raise RetryableError(f"cannot reach the S3 endpoint {s3_endpoint() or 'aws'}: start it or fix --s3-endpoint ({e})") from None
    except (NoCredentialsError, PartialCredentialsError):
        raise InputError(s3_no_credentials()) from None
    except ClientError as e:
        err = e.response.get("Error", {})
        code = str(err.get("Code") or "")
        if code in S3_REFUSED:
            raise InputError(s3_refused(code)) from None
        if code == "InvalidRange":
            raise InputError(f"byte range outside the object: {err.get('Message', code)}") from None
        if code in ("NoSuchKey", "404", "NoSuchBucket"):
            raise S3NotFound(f"not found on S3: {err.get('Message', code)}") from None
        raise RetryableError(f"S3 error {code} at {s3_endpoint() or 'aws'}: {e}") from None
    except BotoCoreError as e:
        raise RetryableError(f"S3 failure at {s3_endpoint() or 'aws'}: {e}; check the endpoint and credentials") from None


def split_s3(url: str) -> tuple[str, str]:
    """`s3://bucket/key` (or `bucket/key`) -> (bucket, key)."""
    bucket, _, key = str(url).removeprefix("s3://").removeprefix("s3a://").partition("/")
    return bucket, key


class S3Stream(io.RawIOBase):
    """A streamed S3 object body that survives dropped connections.

    botocore retries the GET itself (throttling, connection errors: `retries` in `s3_client`), but not a
    body that breaks half-way; this reopens the object at the current byte with a Range request, up to
    `_RETRIES` times with exponential backoff, so a long WARC is never re-read from the start or lost.
    Refused access and a missing key are raised at once (`s3_call`), never retried.
    """

    def __init__(self, url: str, offset: int = 0):
        super().__init__()
        self.url, self.pos = url, offset
        self._body = None
        self._open()

    def _open(self) -> None:
        bucket, key = split_s3(self.url)
        kwargs = {"Range": f"bytes={self.pos}-"} if self.pos else {}
        self._body = s3_call(s3_client().get_object, Bucket=bucket, Key=key, **kwargs)["Body"]

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        from botocore.exceptions import (
            ConnectionClosedError,
            IncompleteReadError,
            ReadTimeoutError,
            ResponseStreamingError,
        )
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
                if isinstance(e, InputError):  # the key is gone: reopening cannot help
                    raise
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


def _part_bytes() -> int:
    """Multipart chunk: CORPUS_S3_PART_MB (default 8, S3's minimum part is 5 MiB)."""
    return max(5, int(os.environ.get("CORPUS_S3_PART_MB", "8"))) * 1024 * 1024


class S3AtomicWriter(io.RawIOBase):
    """Write-only stream to one S3 object. Small objects are one PUT at close; from one chunk on, a multipart
    upload is started and parts are sent as they fill. Only closing without error makes the object visible
    (PutObject / CompleteMultipartUpload); an error inside a `with` block, `abort()`, or dropping the writer
    unclosed drops the upload, so a failed or killed writer never leaves a partial object (a killed one leaves
    an unfinished upload, invisible to readers; a bucket lifecycle rule `AbortIncompleteMultipartUpload`
    reclaims it)."""

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
            self.upload_id = s3_call(client.create_multipart_upload, Bucket=self.bucket, Key=self.key)["UploadId"]
        number = len(self.parts) + 1
        resp = s3_call(client.upload_part, Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                       PartNumber=number, Body=data)
        self.parts.append({"PartNumber": number, "ETag": resp["ETag"]})

    def _commit(self) -> None:
        client = s3_client()
        if self.upload_id is None:
            s3_call(client.put_object, Bucket=self.bucket, Key=self.key, Body=bytes(self.buf))
        else:
            if self.buf:
                self._send(bytes(self.buf))
            s3_call(client.complete_multipart_upload, Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                    MultipartUpload={"Parts": self.parts})
        self.buf = bytearray()

    def close(self) -> None:
        """Publish the object (once)."""
        if not self.closed:
            try:
                self._commit()
            except BaseException:
                self.abort()
                raise
        super().close()

    def abort(self) -> None:
        """Publish nothing and close."""
        self.buf = bytearray()
        if self.upload_id is not None:
            with contextlib.suppress(Exception):  # the store may be the reason we abort; never mask that error
                s3_client().abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)
            self.upload_id = None
        io.RawIOBase.close(self)

    def __exit__(self, exc_type, *rest):
        if exc_type is not None:
            self.abort()
            return False
        return super().__exit__(exc_type, *rest)

    def __del__(self):
        if not self.closed:
            self.abort()


class S3FileSystem(AbstractFileSystem):
    """fsspec's filesystem API for `s3://bucket/key` over `s3_client()`; paths without protocol are
    `bucket/key`. Directories are key prefixes (listed, never created)."""

    protocol = ("s3", "s3a")
    root_marker = ""

    @classmethod
    def _strip_protocol(cls, path):
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        return str(path).removeprefix("s3://").removeprefix("s3a://").rstrip("/")

    def unstrip_protocol(self, name: str) -> str:
        return name if name.startswith("s3://") else f"s3://{name}"

    def _list(self, path: str, delimiter: str | None):
        bucket, key = split_s3(self._strip_protocol(path))
        kwargs = {"Bucket": bucket, "Prefix": f"{key}/" if key else ""}
        if delimiter:
            kwargs["Delimiter"] = delimiter
        pages = s3_call(lambda: list(s3_client().get_paginator("list_objects_v2").paginate(**kwargs)))
        files, dirs = [], []
        for page in pages:
            for obj in page.get("Contents", []):
                files.append({"name": f"{bucket}/{obj['Key']}", "size": obj["Size"], "type": "file"})
            for cp in page.get("CommonPrefixes", []):
                dirs.append({"name": f"{bucket}/{cp['Prefix'].rstrip('/')}", "size": 0, "type": "directory"})
        return files, dirs

    def ls(self, path, detail=True, **kwargs):
        files, dirs = self._list(path, "/")
        entries = sorted(dirs + files, key=lambda e: e["name"]) if files or dirs else [self.info(path)]
        return entries if detail else [e["name"] for e in entries]

    def find(self, path, maxdepth=None, withdirs=False, detail=False, **kwargs):
        path = self._strip_protocol(path)
        files, _ = self._list(path, None)
        base_depth = path.count("/")
        out = {f["name"]: f for f in files if maxdepth is None or f["name"].count("/") - base_depth <= maxdepth}
        if not out and (head := self._head(path)):  # the path is a file itself
            out[path] = head
        return out if detail else sorted(out)

    def _head(self, path: str) -> dict | None:
        """The file's info, or None when there is no such key (refused access is raised)."""
        bucket, key = split_s3(path)
        if not key:
            return None
        try:
            head = s3_call(s3_client().head_object, Bucket=bucket, Key=key)
        except S3NotFound:
            return None
        return {"name": path, "size": head["ContentLength"], "type": "file"}

    def info(self, path, **kwargs):
        path = self._strip_protocol(path)
        if head := self._head(path):
            return head
        if split_s3(path)[1]:  # not a key: a "directory" if keys start with it
            files, dirs = self._list(path, "/")
            if not files and not dirs:
                raise FileNotFoundError(path)
        return {"name": path, "size": 0, "type": "directory"}

    # fsspec's own versions answer False for any error; here only "not found" is False
    def exists(self, path, **kwargs):
        try:
            self.info(path)
            return True
        except FileNotFoundError:
            return False

    def isfile(self, path):
        return self._head(self._strip_protocol(path)) is not None

    def _open(self, path, mode="rb", offset: int = 0, **kwargs):
        if "r" in mode:
            return S3Stream(self.unstrip_protocol(self._strip_protocol(path)), offset)
        if "a" in mode:
            raise NotImplementedError("append is not supported on S3")
        return S3AtomicWriter(*split_s3(self._strip_protocol(path)))

    def cat_file(self, path, start=None, end=None, **kwargs):
        """The object's bytes [start, end) (one ranged GET; non-negative bounds only)."""
        bucket, key = split_s3(self._strip_protocol(path))
        rng = {} if start is None and end is None else {"Range": f"bytes={start or 0}-{'' if end is None else end - 1}"}

        def once():
            from botocore.exceptions import (
                ConnectionClosedError,
                ReadTimeoutError,
                ResponseStreamingError,
            )

            try:
                return s3_call(s3_client().get_object, Bucket=bucket, Key=key, **rng)["Body"].read()
            except (ResponseStreamingError, ReadTimeoutError, ConnectionClosedError) as e:
                raise RetryableError(f"S3 read of s3://{bucket}/{key} failed: {e}") from None

        return retry(once)

    def mkdir(self, path, create_parents=True, **kwargs):
        pass  # S3 has no directories

    def makedirs(self, path, exist_ok=False):
        pass

    def rm_file(self, path):
        bucket, key = split_s3(self._strip_protocol(path))
        s3_call(s3_client().delete_object, Bucket=bucket, Key=key)

    def _rm(self, path):
        self.rm_file(path)

    def rm(self, path, recursive=False, maxdepth=None):
        for p in path if isinstance(path, list) else [path]:
            for target in self.find(p) if recursive else [self._strip_protocol(p)]:
                self.rm_file(target)


def datafolder(url: str):
    """`url` as datatrove wants a folder: an S3 URL as a DataFolder over `S3FileSystem`, a local path as is."""
    if not str(url).startswith(("s3://", "s3a://")):
        return url
    from datatrove.io import DataFolder

    return DataFolder(str(url), fs=S3FileSystem())


def retry(fn, attempts: int = _RETRIES, base_delay: float = 0.5):
    """Call `fn` until it stops raising RetryableError, with exponential backoff. Refused access and missing
    credentials are InputErrors: raised at once."""
    for i in range(attempts):
        try:
            return fn()
        except RetryableError:
            if i == attempts - 1:
                raise
            time.sleep(base_delay * 2**i)
