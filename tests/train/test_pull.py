"""`corpus pull`: language/licence filters, sha256 verification, resume and repair, S3 releases, and the
streaming ShardDataset split across data-loader workers and ranks without duplication."""

from __future__ import annotations

import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus_tools.core.errors import VerificationError
from corpus_tools.train.pull import ShardReader, pull, sha256_file, shard_files
from tests.conftest import run_cli


def test_pull_filters_by_language_and_writes_manifest(release, release_manifest, tmp_path):
    dest = tmp_path / "fi-et"
    result = run_cli("pull", release, "--lang", "fin_Latn,est_Latn", "--to", dest)
    assert result.exit_code == 0, result.output
    manifest = json.loads((dest / "pull.json").read_text())
    assert manifest["merkle_root"] == release_manifest["merkle_root"]
    assert {s["lang"] for s in manifest["shards"]} == {"fin_Latn", "est_Latn"}
    wanted = [s for s in release_manifest["shards"] if s["lang"] in ("fin_Latn", "est_Latn")]
    assert sorted(s["path"] for s in manifest["shards"]) == sorted(s["path"] for s in wanted)
    for s in wanted:
        assert sha256_file(dest / s["path"]) == s["sha256"]
    assert len(list(dest.rglob("*.parquet"))) == len(wanted)


def test_pull_redistribution_filter_and_unknown_values(release, release_manifest, tmp_path):
    classes = sorted({s["redistribution"] for s in release_manifest["shards"]})
    out = pull(str(release), str(tmp_path / "d"), redistribution=classes[:1])
    assert out["shards"] and {s["redistribution"] for s in out["shards"]} == set(classes[:1])
    result = run_cli("pull", release, "--lang", "xxx_Latn", "--to", tmp_path / "e")
    assert result.exit_code == 2 and "--lang xxx_Latn is not in this release" in result.output
    assert len(result.output.strip().splitlines()) == 1
    result = run_cli("pull", tmp_path / "no-release", "--to", tmp_path / "f")
    assert result.exit_code == 2 and "no release.json" in result.output


def test_a_valid_but_absent_class_matches_nothing_with_a_note_and_a_misspelt_one_is_an_error(release, release_manifest, tmp_path):
    from corpus_tools.rights.policy import CLASSES

    present = {s["redistribution"] for s in release_manifest["shards"]}
    absent = next(c for c in CLASSES if c not in present)
    result = run_cli("pull", release, "--redistribution", f"{absent},{sorted(present)[0]}", "--to", tmp_path / "a")
    assert result.exit_code == 0, result.output
    assert f"note: --redistribution {absent}: none in this release" in result.output
    pulled = json.loads((tmp_path / "a" / "pull.json").read_text())
    assert pulled["shards"] and {s["redistribution"] for s in pulled["shards"]} == {sorted(present)[0]}
    assert pulled["notes"] and absent in pulled["notes"][0]
    result = run_cli("pull", release, "--redistribution", absent, "--to", tmp_path / "b")
    assert result.exit_code == 2 and "matches nothing" in result.output and "widen the filters" in result.output
    result = run_cli("pull", release, "--redistribution", "opne", "--to", tmp_path / "c")
    assert result.exit_code == 2 and "opne is not in this release, nor a class" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_pull_resumes_and_repairs(release, tmp_path):
    dest = tmp_path / "all"
    first = pull(str(release), str(dest))
    n = len(first["shards"])
    assert first["counts"]["fetched"] == n
    damaged, missing = (dest / first["shards"][0]["path"]), (dest / first["shards"][1]["path"])
    damaged.write_bytes(damaged.read_bytes()[:100])  # an interrupted download
    missing.unlink()
    again = pull(str(release), str(dest))
    assert again["counts"] == {"fetched": 1, "refetched_bad": 1, "skipped_verified": n - 2,
                               "bytes_fetched": first["shards"][0]["bytes"] + first["shards"][1]["bytes"]}
    for s in again["shards"]:
        assert sha256_file(dest / s["path"]) == s["sha256"]


def test_pull_refuses_a_damaged_release(release, release_manifest, tmp_path):
    bad = tmp_path / "bad-release"
    shutil.copytree(release, bad, ignore=shutil.ignore_patterns("logs", "exclusions"))
    victim = release_manifest["shards"][0]["path"]
    (bad / victim).write_bytes((bad / victim).read_bytes() + b"tampered")
    with pytest.raises(VerificationError, match="sha256 mismatch"):
        pull(str(bad), str(tmp_path / "d"))
    assert not (tmp_path / "d" / victim).exists()  # nothing unverified is published
    result = run_cli("pull", bad, "--to", tmp_path / "e")
    assert result.exit_code == 1 and "sha256 mismatch" in result.output


def test_dataset_yields_only_train_eligible_rows(tmp_path):
    table = pa.table({"id": ["a", "b", "c"], "text": ["x", "y", "z"], "lang": ["fin_Latn"] * 3,
                      "train_eligible": pa.array([True, False, None], pa.bool_()), "dup_cluster_size": [1, 2, None]})
    pq.write_table(table, tmp_path / "part-00000.parquet", row_group_size=1)
    files = [str(tmp_path / "part-00000.parquet")]
    assert [r["id"] for r in ShardReader(files)] == ["a"]
    assert [r["id"] for r in ShardReader(files, unknown_eligible=True)] == ["a", "c"]
    assert [r["id"] for r in ShardReader(files, eligible_only=False)] == ["a", "b", "c"]
    assert [r["id"] for r in ShardReader(files, langs=["est_Latn"])] == []
    assert len(ShardReader(files).units()) == 3  # one unit of work per row group


def _ids(dataset) -> list[str]:
    return [row["id"] for row in dataset]


def test_dataset_splits_across_workers_and_ranks_without_duplication(pulled):
    import torch
    from torch.utils.data import DataLoader

    from corpus_tools.train.pull import ShardDataset

    files = shard_files(str(pulled))
    everything = _ids(ShardDataset(files, eligible_only=False))
    eligible = _ids(ShardDataset(files))
    assert len(everything) == len(set(everything)) == sum(json.loads((pulled / "pull.json").read_text())["shards"][i]["rows"]
                                                          for i in range(len(files)))
    expected = sum(pq.read_table(f, columns=["train_eligible"])["train_eligible"].to_pylist().count(True) for f in files)
    assert 0 < len(eligible) == expected
    assert isinstance(ShardDataset(files), torch.utils.data.IterableDataset)
    loader = DataLoader(ShardDataset(files), batch_size=None, num_workers=2)
    from_workers = [row["id"] for row in loader]
    assert sorted(from_workers) == sorted(eligible)
    ranks = [_ids(ShardReader(files, rank=r, world_size=3)) for r in range(3)]
    assert all(ranks) and sorted(sum(ranks, [])) == sorted(eligible)


@pytest.mark.cluster
def test_pull_and_stream_from_s3(release, release_manifest, s3_server, s3_bucket, tmp_path):
    from corpus_tools.train.pull import ShardDataset

    client = s3_server.client()
    client.upload_file(str(release / "release.json"), s3_bucket, "rel/release.json")
    for s in release_manifest["shards"]:
        client.upload_file(str(release / s["path"]), s3_bucket, f"rel/{s['path']}")
    out = pull(f"s3://{s3_bucket}/rel", str(tmp_path / "d"), langs=["fin_Latn", "deu_Latn"])
    assert out["counts"]["fetched"] == len(out["shards"]) > 0
    for s in out["shards"]:
        assert sha256_file(tmp_path / "d" / s["path"]) == s["sha256"]
    s3_files = [f"s3://{s3_bucket}/rel/{s['path']}" for s in release_manifest["shards"]]
    local_files = [str(release / s["path"]) for s in release_manifest["shards"]]
    assert _ids(ShardDataset(s3_files)) == _ids(ShardDataset(local_files))
