"""CPU training throughput of the bundled trainer: tokens/s of the default `small` config, against `tiny`.

    .venv/bin/python benchmarks/train_speed.py [--seconds 20] [--threads N]

Times full optimiser steps (forward, backward, clip, AdamW) of corpus_tools.train.model.GPT on random token
batches (throughput does not depend on the text), after two warm-up steps, for each config in the same
run, and records the table in benchmarks/RESULTS.md (section `train_speed`). The GPU figure comes from
benchmarks/train_gpu.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from corpus_tools.train.model import GPT, make_config, make_optimizer  # noqa: E402


def tokens_per_second(name: str, seconds: float) -> dict:
    cfg = make_config(name)
    torch.manual_seed(0)
    model = GPT(cfg)
    opt = make_optimizer(model, cfg)
    x = torch.randint(cfg.vocab_size, (cfg.batch_size, cfg.block_size))
    y = torch.randint(cfg.vocab_size, (cfg.batch_size, cfg.block_size))

    def step():
        _, loss = model(x, y)
        loss.mean().backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(2):
        step()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        step()
        n += 1
    dt = time.perf_counter() - t0
    tok_s = n * cfg.batch_size * cfg.block_size / dt
    return {"config": name, "params": model.n_params(non_embedding=False), "shape": f"{cfg.n_layer}L × {cfg.n_embd}d",
            "batch": f"{cfg.batch_size} × {cfg.block_size}", "steps": n, "seconds": dt, "tok_s": tok_s,
            "s_per_step": dt / n, "hours_for_run": cfg.steps * dt / n / 3600}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="timed seconds per config (default 20)")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch CPU threads")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    rows = [tokens_per_second(name, args.seconds) for name in ("small", "tiny")]
    small, tiny = rows
    for r in rows:
        print(f"{r['config']}: {r['tok_s']:.0f} tokens/s ({r['steps']} steps in {r['seconds']:.1f} s)")
    table = ["| config | params | shape | batch × context | steps timed | tokens/s | s/step | full run (config steps) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        table.append(f"| {r['config']} | {r['params'] / 1e6:.2f}M | {r['shape']} | {r['batch']} | {r['steps']} | "
                     f"{r['tok_s']:,.0f} | {r['s_per_step']:.3f} | {r['hours_for_run']:.2f} h |")
    body = (f"Full optimiser steps (fp32, forward + backward + AdamW) on random tokens, torch {torch.__version__}, "
            f"{args.threads} thread(s), {args.seconds:.0f} s per config. `small` (the default) runs at "
            f"{small['tok_s'] / tiny['tok_s']:.3f}× the tokens/s of `tiny` in the same run.\n\n" + "\n".join(table) +
            f"\n\nLoad average when it started: {load:.1f} on {os.cpu_count()} cores (other jobs slow it down).")
    from benchmarks._results import write_section

    write_section("train_speed", "Trainer throughput on CPU", body)


if __name__ == "__main__":
    main()
