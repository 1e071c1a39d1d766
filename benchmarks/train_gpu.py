"""GPU throughput of the bundled trainer: tokens/s and model FLOPs utilisation (MFU) of a short run.

    python benchmarks/train_gpu.py                       # ~60 s on the visible GPU, sample-crawl data
    python benchmarks/train_gpu.py --data DIR            # a directory made by `corpus pull` instead
    python benchmarks/train_gpu.py --device cpu --seconds 5 --config tiny   # smoke test without a GPU

Self-contained on purpose: it runs with any python that has torch, numpy, pyarrow and tokenizers, plus this
repository (no venv, no warcio, no network). Without --data it builds its training text from the raw
records of tests/data/sample-crawl (gzip-decompressed WARC bytes, decoded as UTF-8: HTML and all), which
is fine for a throughput figure and needs no WARC library.

MFU = 6 × N × tokens/s / peak, N = parameters without the position embedding (the 6N rule of Kaplan et al.
2020; attention FLOPs not counted), peak = dense bf16 of the detected GPU from the vendor datasheet
(H100 SXM and H200: 989e12). Writes $OUT/train_gpu.json when OUT is set, and records a section in
benchmarks/RESULTS.md with --record.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from corpus_tools.train.model import GPT, TrainConfig, make_config, make_optimizer, train_tokenizer  # noqa: E402

# dense bf16 tensor-core peaks (no sparsity), vendor datasheets; matched against torch's device name
PEAK_BF16 = [("H200", 989e12), ("H100 NVL", 835e12), ("H100 PCIe", 756e12), ("H100", 989e12), ("A100", 312e12),
             ("L40S", 362e12), ("L4", 121e12)]

# the GPU config: GPT-2 small shape (124M parameters with its 50k vocabulary; 85M without embeddings)
GPU_CONFIG = dict(n_layer=12, n_head=12, n_embd=768, block_size=1024, vocab_size=16384, batch_size=32)


def peak_flops(name: str) -> float | None:
    for key, peak in PEAK_BF16:
        if key in name:
            return peak
    return None


def sample_text(max_bytes: int = 8_000_000) -> list[str]:
    texts, total = [], 0
    for f in sorted((ROOT / "tests" / "data" / "sample-crawl").glob("*.warc.gz")):
        with gzip.open(f, "rb") as fh:
            raw = fh.read()
        for chunk in raw.split(b"WARC/1.0")[1:]:
            t = chunk.decode("utf-8", errors="ignore")
            texts.append(t)
            total += len(t)
            if total > max_bytes:
                return texts
    return texts


def pulled_text(data_dir: str) -> list[str]:
    import pyarrow.parquet as pq

    texts = []
    for f in sorted(Path(data_dir).rglob("*.parquet")):
        t = pq.read_table(f, columns=["text", "train_eligible"])
        texts += [x for x, e in zip(t["text"].to_pylist(), t["train_eligible"].to_pylist()) if x and e is not False]
    return texts


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--seconds", type=float, default=60.0, help="timed training seconds (after warm-up)")
    ap.add_argument("--config", default="gpu", help="gpu (GPT-2 small shape, default), small or tiny")
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--data", default=None, help="a directory made by `corpus pull` (default: the sample crawl)")
    ap.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                    help="torch.compile the model (default: on for cuda)")
    ap.add_argument("--record", action="store_true", help="write a section to benchmarks/RESULTS.md")
    ap.add_argument("--from-json", default=None, help="only record the section from train_gpu.json files (comma-separated) written on the GPU machine")
    args = ap.parse_args(argv)
    if args.from_json:
        results = [json.loads(Path(p).read_text()) for p in args.from_json.split(",")]
        record(results, recorded_elsewhere=True)
        return results[0]

    cfg = TrainConfig(name="gpu", **GPU_CONFIG) if args.config == "gpu" else make_config(args.config)
    if args.batch_size:
        cfg.batch_size = args.batch_size
    device = args.device
    compile_ = args.compile if args.compile is not None else device == "cuda"
    torch.manual_seed(cfg.seed)
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True

    t0 = time.time()
    texts = pulled_text(args.data) if args.data else sample_text()
    tok = train_tokenizer(texts, cfg.vocab_size)
    ids = np.concatenate([np.array(e.ids, dtype=np.int64) for e in tok.encode_batch(texts)])
    tokens = torch.from_numpy(ids)
    print(f"data: {len(texts)} texts, {len(ids)} tokens, tokenizer {tok.get_vocab_size()} ({time.time() - t0:.1f} s)", flush=True)

    model = GPT(cfg).to(device)
    n_params = model.n_params(non_embedding=False)  # wte counted once (tied with the output layer), wpe not
    opt = make_optimizer(model, cfg)
    step_fn = torch.compile(model) if compile_ else model
    gen = torch.Generator().manual_seed(cfg.seed)
    T, B = cfg.block_size, cfg.batch_size

    def batch():
        ix = torch.randint(len(tokens) - T - 1, (B,), generator=gen)
        xy = torch.stack([tokens[i:i + T + 1] for i in ix.tolist()])
        return xy[:, :-1].to(device, non_blocking=True), xy[:, 1:].to(device, non_blocking=True)

    def step():
        x, y = batch()
        with torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda"):
            _, loss = step_fn(x, y)
            loss = loss.mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    t0 = time.time()
    for _ in range(3):  # warm-up: compilation, allocator, cuBLAS heuristics
        first_loss = float(step().detach())
    sync()
    warm = time.time() - t0
    print(f"warm-up (3 steps, compile={compile_}): {warm:.1f} s, loss {first_loss:.3f}", flush=True)
    steps, t0 = 0, time.time()
    while time.time() - t0 < args.seconds:
        loss = step()
        steps += 1
        if steps % 10 == 0:
            sync()
    sync()
    dt = time.time() - t0
    tok_s = steps * B * T / dt
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    peak = peak_flops(name) if device == "cuda" else None
    mfu = 6 * n_params * tok_s / peak if peak else None
    result = {"device": name, "torch": torch.__version__, "config": {k: getattr(cfg, k) for k in GPU_CONFIG},
              "params": n_params, "compile": compile_, "dtype": "bf16 autocast" if device == "cuda" else "fp32",
              "steps": steps, "seconds": round(dt, 2), "tokens_per_s": round(tok_s, 1),
              "ms_per_step": round(1000 * dt / max(steps, 1), 2), "final_loss": round(float(loss), 4),
              "peak_bf16_flops": peak, "mfu": round(mfu, 4) if mfu is not None else None,
              "max_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if device == "cuda" else None}
    print(json.dumps(result, indent=2))
    if os.environ.get("OUT"):
        Path(os.environ["OUT"]).mkdir(parents=True, exist_ok=True)
        (Path(os.environ["OUT"]) / "train_gpu.json").write_text(json.dumps(result, indent=2))
    if args.record:
        record([result])
    assert math.isfinite(float(loss))
    return result


def record(results: list[dict], recorded_elsewhere: bool = False) -> None:
    from benchmarks._results import write_section

    r0 = results[0]
    rows = []
    for r in results:
        c = r["config"]
        mfu = "n/a" if r["mfu"] is None else f"{100 * r['mfu']:.1f} %"
        rows.append(f"| {c['n_layer']}L × {c['n_embd']}d, vocab {c['vocab_size']} | {r['params'] / 1e6:.1f}M | {r['compile']} "
                    f"| {c['batch_size']} × {c['block_size']} | {r['steps']} in {r['seconds']} s | {r['tokens_per_s']:,.0f} "
                    f"| {r['ms_per_step']} | {mfu} | {r['max_memory_gib']} GiB |")
    body = (f"Short training runs of the bundled GPT (`benchmarks/train_gpu.py`) on {r0['device']}, torch {r0['torch']}, "
            f"{r0['dtype']}, random windows of the sample crawl's raw WARC records. MFU = 6 × params × tokens/s / {r0['peak_bf16_flops']:.3g} "
            "(dense bf16 peak of the datasheet; attention FLOPs not counted).\n\n"
            "| model | params | torch.compile | batch × context | steps | tokens/s | ms/step | MFU | peak memory |\n"
            "|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
    if recorded_elsewhere:
        body += ("\nMeasured on the GPU machine named in the text (its own python and torch); the _Run … on …_ line "
                 "names the machine that copied the JSON results into this file, not the one that ran them.\n")
    write_section("train_gpu", "Trainer throughput on a GPU", body)


if __name__ == "__main__":
    main()
