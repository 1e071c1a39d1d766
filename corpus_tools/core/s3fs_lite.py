"""A small fsspec filesystem for `s3://` over our boto3 client, so datatrove's logging folder (completion
markers, per-task stats, task logs) can live on S3 next to the output.

Why not `s3fs`: it needs `aiobotocore`, whose pinned botocore range conflicts with our boto3==1.44.8
(`pip install s3fs -c constraints.txt` is unresolvable). datatrove only needs open/ls/find/info/isfile/rm on
small files, which this covers; endpoint and credentials come from `corpus_tools.core.storage` (S3_ENDPOINT_URL).

`register()` is called when `corpus_tools.run.executors` is imported, in the driver and in every worker process.
Writes are one PUT at close (atomic on S3: a marker is either there or not); reads fetch the whole object.
"""

from __future__ import annotations

import io

import fsspec
from fsspec.spec import AbstractFileSystem


def _client():
    from corpus_tools.core import storage

    return storage.s3_client()


def _call(fn, *args, **kwargs):
    from corpus_tools.core import storage

    return storage._s3_call(fn, *args, **kwargs)


class _PutOnClose(io.BytesIO):
    """A write buffer that becomes one S3 object when closed without error."""

    def __init__(self, bucket: str, key: str):
        super().__init__()
        self.bucket, self.key = bucket, key

    def close(self):
        if not self.closed:
            data = self.getvalue()
            _call(_client().put_object, Bucket=self.bucket, Key=self.key, Body=data)
        super().close()

    def __exit__(self, exc_type, *rest):
        if exc_type is not None:  # an error inside the block: publish nothing
            io.BytesIO.close(self)
            return False
        return super().__exit__(exc_type, *rest)


class BotoS3FileSystem(AbstractFileSystem):
    protocol = ("s3", "s3a")
    root_marker = ""

    @classmethod
    def _strip_protocol(cls, path):
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        path = str(path)
        for proto in ("s3://", "s3a://"):
            if path.startswith(proto):
                path = path[len(proto):]
        return path.rstrip("/")

    def unstrip_protocol(self, name: str) -> str:
        return name if name.startswith("s3://") else f"s3://{name}"

    @staticmethod
    def _split(path: str) -> tuple[str, str]:
        bucket, _, key = path.partition("/")
        return bucket, key

    def _list(self, path: str, delimiter: str | None):
        bucket, key = self._split(self._strip_protocol(path))
        prefix = f"{key}/" if key else ""
        kwargs = {"Bucket": bucket, "Prefix": prefix}
        if delimiter:
            kwargs["Delimiter"] = delimiter
        pages = _call(lambda: list(_client().get_paginator("list_objects_v2").paginate(**kwargs)))
        files, dirs = [], []
        for page in pages:
            for obj in page.get("Contents", []):
                files.append({"name": f"{bucket}/{obj['Key']}", "size": obj["Size"], "type": "file"})
            for cp in page.get("CommonPrefixes", []):
                dirs.append({"name": f"{bucket}/{cp['Prefix'].rstrip('/')}", "size": 0, "type": "directory"})
        return files, dirs

    def ls(self, path, detail=True, **kwargs):
        files, dirs = self._list(path, "/")
        if not files and not dirs:
            info = self.info(path)  # a file, or FileNotFoundError
            entries = [info]
        else:
            entries = sorted(dirs + files, key=lambda e: e["name"])
        return entries if detail else [e["name"] for e in entries]

    def find(self, path, maxdepth=None, withdirs=False, detail=False, **kwargs):
        path = self._strip_protocol(path)
        files, _ = self._list(path, None)
        base_depth = path.count("/")
        out = {}
        for f in files:
            depth = f["name"].count("/") - base_depth
            if maxdepth is None or depth <= maxdepth:
                out[f["name"]] = f
        if not out and self.isfile(path):
            out[path] = self.info(path)
        return out if detail else sorted(out)

    def info(self, path, **kwargs):
        from corpus_tools.core.errors import InputError

        path = self._strip_protocol(path)
        bucket, key = self._split(path)
        if key:
            try:  # _call: an unreachable store is a one-line RetryableError naming the endpoint
                head = _call(_client().head_object, Bucket=bucket, Key=key)
                return {"name": path, "size": head["ContentLength"], "type": "file"}
            except InputError:  # 404: maybe a "directory"
                pass
        files, dirs = self._list(path, "/") if key else ([], [])
        if files or dirs or not key:
            return {"name": path, "size": 0, "type": "directory"}
        raise FileNotFoundError(path)

    def _open(self, path, mode="rb", **kwargs):
        bucket, key = self._split(self._strip_protocol(path))
        if "r" in mode:
            from corpus_tools.core.errors import InputError

            try:
                body = _call(lambda: _client().get_object(Bucket=bucket, Key=key)["Body"].read())
            except InputError:
                raise FileNotFoundError(path) from None
            return io.BytesIO(body)
        if "a" in mode:
            raise NotImplementedError("append is not supported on S3")
        return _PutOnClose(bucket, key)

    def mkdir(self, path, create_parents=True, **kwargs):
        pass  # S3 has no directories

    def makedirs(self, path, exist_ok=False):
        pass

    def rm_file(self, path):
        bucket, key = self._split(self._strip_protocol(path))
        _call(_client().delete_object, Bucket=bucket, Key=key)

    def _rm(self, path):
        self.rm_file(path)

    def rm(self, path, recursive=False, maxdepth=None):
        paths = path if isinstance(path, list) else [path]
        for p in paths:
            targets = self.find(p) if recursive else [self._strip_protocol(p)]
            for t in targets:
                self.rm_file(t)


def register() -> None:
    fsspec.register_implementation("s3", BotoS3FileSystem, clobber=True)
    fsspec.register_implementation("s3a", BotoS3FileSystem, clobber=True)
