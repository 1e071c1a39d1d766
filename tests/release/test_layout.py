"""Paths inside a release: `..`, absolute paths and symlinks out are rejected; manifest names are unique."""

from __future__ import annotations

import pytest

from corpus_tools.core.errors import VerificationError
from corpus_tools.core import layout


@pytest.mark.parametrize("bad", ["../etc/passwd", "shards/../../x.parquet", "/etc/passwd", "shards\\x.parquet",
                                 "", "~/x", "C:/x", "s3://bucket/x"])
def test_unsafe_paths_are_rejected(tmp_path, bad):
    with pytest.raises(VerificationError, match="unsafe path"):
        layout.resolve_inside(tmp_path, bad)


def test_symlink_leaving_the_release_is_rejected(tmp_path):
    outside = tmp_path / "outside.parquet"
    outside.write_bytes(b"x")
    root = tmp_path / "release"
    (root / "shards").mkdir(parents=True)
    (root / "shards" / "link.parquet").symlink_to(outside)
    with pytest.raises(VerificationError, match="outside"):
        layout.resolve_inside(root, "shards/link.parquet")
    assert layout.resolve_inside(root, "shards/ok.parquet") == (root / "shards" / "ok.parquet").resolve()


def test_manifest_names_are_unique_across_partitions():
    shards = [f"shards/language={lang}/redistribution_class={red}/part-{n:05d}.parquet"
              for lang in ("deu_Latn", "srp_Cyrl", "other") for red in ("unknown", "open", "reserved") for n in (0, 1, 12)]
    names = [layout.manifest_path(s) for s in shards]
    assert len(set(names)) == len(names)
    assert layout.manifest_path("shards/language=deu_Latn/redistribution_class=unknown/part-00003.parquet") == \
        "manifests/part-deu_Latn-unknown-00003.json"
    with pytest.raises(VerificationError):
        layout.manifest_path("shards/language=de-x/redistribution_class=unknown/part-00003.parquet")
