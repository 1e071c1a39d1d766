"""`corpus train` on the sample release with the tiny config, on CPU: the loss falls, every language gets a
held-out bits-per-byte score, resume continues from the saved step (and matches an uninterrupted run),
lineage names the release and shards, and the int8 model loads and evaluates."""

from __future__ import annotations

import json
import math

import pyarrow.parquet as pq
import pytest

from corpus_tools.core.errors import ConfigError
from corpus_tools.train.model import build_data, evaluate, id_hash, load_model, make_config, split_language, train
from tests.conftest import run_cli


def eligible_languages(pulled) -> set[str]:
    langs = set()
    for f in pulled.rglob("*.parquet"):
        t = pq.read_table(f, columns=["lang", "train_eligible", "text"])
        langs |= {l for l, e, x in zip(*(t[c].to_pylist() for c in ("lang", "train_eligible", "text"))) if e and x.strip()}
    return langs


@pytest.fixture(scope="module")
def trained(pulled, tmp_path_factory):
    out = tmp_path_factory.mktemp("ckpt") / "tiny"
    result = train(str(pulled), str(out), make_config("tiny"), device="cpu", echo=lambda *_: None)
    return out, result


def test_loss_decreases_and_every_language_is_scored(trained, pulled):
    out, result = trained
    saved = json.loads((out / "eval.json").read_text())
    assert saved == result and saved["step"] == 60 and set(saved) == {"bpb", "step"}
    assert set(saved["bpb"]) == eligible_languages(pulled)
    assert all(0 < v < 12 and math.isfinite(v) for v in saved["bpb"].values())
    ckpt = __import__("torch").load(out / "ckpt.pt", weights_only=False)
    train_curve = [h["loss"] for h in ckpt["history"]["train"]]
    assert train_curve[-1] < train_curve[0] - 0.5
    first, last = ckpt["history"]["eval"][0], ckpt["history"]["eval"][-1]
    assert first["step"] == 0 and last["step"] == 60
    mean = lambda d: sum(d.values()) / len(d)  # noqa: E731
    assert mean(last["bpb"]) < mean(first["bpb"]) - 0.5
    assert (out / "loss_curves.png").stat().st_size > 10_000 and (out / "tokenizer.json").exists()


def test_lineage_names_release_shards_weights_and_config(trained, pulled, release_manifest):
    out, _ = trained
    lineage = json.loads((out / "lineage.json").read_text())
    assert lineage["merkle_root"] == release_manifest["merkle_root"]
    pulled_shards = json.loads((pulled / "pull.json").read_text())["shards"]
    assert [s["sha256"] for s in lineage["shards"]] == [s["sha256"] for s in pulled_shards]
    assert lineage["config"] == {**make_config("tiny").__dict__}
    w, n = lineage["sampling"]["weights"], lineage["sampling"]["train_bytes"]
    assert abs(sum(w.values()) - 1) < 1e-4 and set(w) == set(n)
    big, small = max(n, key=n.get), min(n, key=n.get)  # p ∝ n^0.3
    assert w[big] / w[small] == pytest.approx((n[big] / n[small]) ** 0.3, rel=1e-3)


@pytest.mark.slow  # two more tiny trainings (~15 s on a loaded 2-core machine)
def test_resume_continues_from_the_saved_step_and_matches(trained, pulled, tmp_path):
    out, result = trained
    logs = []
    train(str(pulled), str(tmp_path), make_config("tiny"), device="cpu", stop_at=30, echo=lambda *_: None)
    assert __import__("torch").load(tmp_path / "ckpt.pt", weights_only=False)["step"] == 30
    resumed = train(str(pulled), str(tmp_path), make_config("tiny"), device="cpu", echo=logs.append)
    assert any("resuming" in line and "from step 30" in line for line in logs)
    assert not any(line.startswith("step 5/") for line in logs)  # no step before 30 ran again
    assert resumed == result  # deterministic: same seed, same batches, same numbers as the uninterrupted run
    with pytest.raises(ConfigError, match="different config"):
        train(str(pulled), str(tmp_path), make_config("tiny", alpha=1.0), device="cpu", echo=lambda *_: None)


def test_heldout_split_is_by_id_hash_and_covers_single_document_languages():
    cfg = make_config("tiny")
    docs = [{"id": f"doc{i}", "text": f"text number {i} " * 20, "dup_cluster_size": 1} for i in range(40)]
    split = split_language(docs, cfg)
    held = {d["id"] for d in docs if id_hash(d["id"]) < cfg.holdout}
    assert held and len(split.heldout) == len(held)
    assert split_language(list(reversed(docs)), cfg) == split  # order of reading does not matter
    one = split_language([{"id": "x", "text": "abcdefghij" * 10, "dup_cluster_size": 3}], cfg)
    assert one.train[0][0] + one.heldout[0] == "abcdefghij" * 10 and one.heldout[0]


@pytest.mark.slow  # a CLI training + export (~20 s on a loaded 2-core machine)
def test_int8_export_loads_and_evaluates_through_the_cli(pulled, tmp_path):
    out = tmp_path / "ck"
    result = run_cli("train", pulled, "--out", out, "--config", "tiny", "--steps", "30", "--device", "cpu", "--export-int8")
    assert result.exit_code == 0, result.output
    assert "int8: mean bpb difference" in result.output and "bpb" in result.output
    report = json.loads((out / "int8.json").read_text())
    assert set(report["int8_bpb"]) == set(report["float_bpb"]) == eligible_languages(pulled)
    assert abs(report["mean_diff"]) < 0.2 and report["int8_file_bytes"] < report["float_bytes"]
    model, cfg, tokenizer = load_model(str(out), int8=True)
    data, _ = build_data(str(pulled), cfg, tokenizer)
    assert evaluate(model, data) == report["int8_bpb"]


def test_train_errors_are_one_line(tmp_path):
    result = run_cli("train", tmp_path, "--out", tmp_path / "ck", "--config", "tiny")
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "corpus pull" in result.output


def test_dup_cluster_size_reweighting_is_optional():
    sizes = [1, 4, None, 9, 2]
    docs = [{"id": f"d{i}", "text": f"doc{i} " * 50, "dup_cluster_size": n} for i, n in enumerate(sizes)]
    size_of = {d["text"]: max(d["dup_cluster_size"] or 1, 1) for d in docs}
    off = split_language(docs, make_config("tiny"))
    on = split_language(docs, make_config("tiny", dup_power=1.0))
    assert len(on.train) >= 3 and [t for t, _ in on.train] == [t for t, _ in off.train]
    assert all(w == 1.0 for _, w in off.train)
    assert all(w == float(size_of[t]) for t, w in on.train) and len({w for _, w in on.train}) > 1
