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


def _mutations(obj, path=()):
    """Each value of a JSON object changed in the ways a forger or a bug would: dropped, retyped, a newline
    appended to a string (Python's `$` matches before a final newline, ECMA-262's does not)."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield path + (key,), None
            yield from _mutations(value, path + (key,))
    elif isinstance(obj, list) and obj:
        yield from _mutations(obj[0], path + (0,))
    elif isinstance(obj, str):
        yield path, obj + "\n"
        yield path, 7
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield path, "7"
        yield path, -1


def _apply(obj, path, value):
    import copy

    obj = copy.deepcopy(obj)
    parent = obj
    for key in path[:-1]:
        parent = parent[key]
    if value is None:
        parent.pop(path[-1]) if isinstance(parent, dict) else parent.__setitem__(path[-1], None)
    else:
        parent[path[-1]] = value
    return obj


def test_the_fast_schema_check_agrees_with_python_jsonschema_on_a_real_release(sample_run):
    """`layout.validate` asks jsonschema-rs first: on every JSON artefact of a real release, and on hundreds of
    mutations of them, it accepts exactly what python-jsonschema (the reference) accepts."""
    import json

    import jsonschema

    names = {"release.json": "release", "summary.json": "summary", "croissant.json": "croissant"}
    files = [(sample_run / f, n) for f, n in names.items()] + [(p, "shard-manifest") for p in sorted((sample_run / "manifests").glob("*.json"))[:3]]
    checked = rejected = 0
    for path, name in files:
        obj = json.loads(path.read_text())
        reference = jsonschema.Draft202012Validator(layout.load_schema(name))
        assert layout.validate(obj, name, path.name) is obj
        for where, value in _mutations(obj):
            changed = _apply(obj, where, value)
            valid = reference.is_valid(changed)
            try:
                layout.validate(changed, name, path.name)
                ours = True
            except VerificationError as e:
                ours = False
                assert f"{path.name} does not match {name}.schema.json at " in str(e)
            assert ours == valid, (path.name, where, value)
            checked += 1
            rejected += not valid
    assert checked > 200 and rejected > 50
