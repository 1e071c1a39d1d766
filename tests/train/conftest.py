"""Fixtures for the trainer tests: a release made from the sample crawl, and a pull of it.

`release` is the output of `corpus run eu_web` on tests/data/sample-crawl (the shared `sample_run`) when that
output carries release.json. Until a run writes one, the fixture builds the release by hand from the run's
shards, following the release contract (release.json: merkle_root + shards [{path, sha256, bytes, rows, lang,
redistribution}]) and filling train_eligible / dup_cluster_size, which the stages of such a run leave null.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from corpus_tools.release.merkle import merkle_root

# one document that the trainer must never see: a hand-built release sets its train_eligible to False
INELIGIBLE_LANG = "eng_Latn"


def _sha(path: Path) -> tuple[str, int]:
    data = path.read_bytes()
    return hashlib.sha256(data).hexdigest(), len(data)


def hand_built_release(run_dir: Path, dest: Path) -> Path:
    shutil.copytree(run_dir / "shards", dest / "shards")
    entries = []
    for f in sorted((dest / "shards").rglob("*.parquet")):
        table = pq.read_table(f, partitioning=None)
        n = table.num_rows
        eligible = [not (table["lang"][0].as_py() == INELIGIBLE_LANG and i == 0) for i in range(n)]
        old = table["train_eligible"].to_pylist()  # null where the run had no rights stage
        table = table.set_column(table.schema.get_field_index("train_eligible"), "train_eligible",
                                 pa.array([e and o is not False for e, o in zip(eligible, old)], pa.bool_()))
        if pc.all(pc.is_null(table["dup_cluster_size"])).as_py():
            table = table.set_column(table.schema.get_field_index("dup_cluster_size"), "dup_cluster_size",
                                     pa.array([1 + i % 3 for i in range(n)], pa.int32()))
        pq.write_table(table, f, compression="zstd")
        sha, size = _sha(f)
        rel = f.relative_to(dest).as_posix()
        lang = rel.split("language=")[1].split("/")[0]
        red = rel.split("redistribution_class=")[1].split("/")[0]
        entries.append({"path": rel, "sha256": sha, "bytes": size, "rows": n, "lang": lang, "redistribution": red})
    root = merkle_root([bytes.fromhex(e["sha256"]) for e in entries])
    (dest / "release.json").write_text(json.dumps({"merkle_root": root, "shards": entries}, indent=2))
    return dest


@pytest.fixture(scope="session")
def release(request, tmp_path_factory) -> Path:
    """CORPUS_TEST_RUN=DIR reuses an existing `corpus run` output of the sample crawl instead of making one."""
    run = Path(os.environ.get("CORPUS_TEST_RUN") or request.getfixturevalue("sample_run"))
    if (run / "release.json").exists():
        return run
    return hand_built_release(run, tmp_path_factory.mktemp("release") / "rel")


@pytest.fixture(scope="session")
def release_manifest(release) -> dict:
    return json.loads((release / "release.json").read_text())


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """The tiny model gains nothing from threads, and on a shared CI machine extra threads only contend."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="session")
def pulled(release, tmp_path_factory) -> Path:
    """The whole release pulled once, shared by the training tests."""
    from corpus_tools.train.pull import pull

    dest = tmp_path_factory.mktemp("pulled") / "data"
    pull(str(release), str(dest))
    return dest
