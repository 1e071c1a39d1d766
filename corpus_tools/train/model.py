"""The bundled trainer: a small GPT trained on pulled shards, evaluated per language in bits per byte.

    corpus pull RELEASE --lang fin_Latn,est_Latn --to data/fi-et
    corpus train data/fi-et --out ckpt/fi-et [--steps N] [--device auto|cpu|cuda] [--config tiny|small]
    corpus train data/fi-et --out ckpt/fi-et --export-int8

(the command-line skin is `train_cmd` in corpus_tools/cli/train.py, so `corpus` starts without importing torch)

Read top to bottom, in the spirit of nanoGPT: config -> data -> tokenizer -> model -> loop -> eval ->
checkpoint -> int8 export -> CLI.

- Data: only `train_eligible` documents (ShardDataset). Each language is split into train and held-out by a
  hash of the document id (deterministic, independent of order); a language whose hash leaves nothing
  held out gives up its smallest-hash document, and a one-document language is split inside the text
  (the last `holdout` fraction of its characters is held out), so every language present gets a score.
- Tokenizer: byte-level BPE (HF tokenizers) trained on the train split, saved as CKPT/tokenizer.json.
  Byte level means every UTF-8 input is encodable (no unknown tokens).
- Sampling: a sequence's language is drawn with p ∝ n^alpha (n = train bytes of the language; alpha 0.3 as
  in XLM-R / mT5-style temperature sampling), a document within it ∝ length × dup_cluster_size^dup_power
  (dup_power 0 = off; > 0 up-weights widely duplicated text, FineWeb-2's "rehydration"; < 0 down-weights it).
- Eval: bits per byte = sum of token NLL (nats) / ln 2 / UTF-8 bytes of the held-out text, which does not
  depend on the tokenizer. Printed as a table, saved as CKPT/eval.json `{"bpb": {LANG: v}, "step": N}`,
  and plotted with the train loss per language in CKPT/loss_curves.png.
- Checkpoints: CKPT/ckpt.pt (model, optimiser, step, history, config, lineage) every `ckpt_every` steps;
  re-running the same command resumes from the saved step and gives the same numbers as an uninterrupted
  run (batches are drawn from an RNG seeded by (seed, step)).
- Lineage: the release Merkle root, every shard's sha256, the sampling weights and the full config, in
  ckpt.pt and CKPT/lineage.json.
- Int8: dynamic quantisation of every Linear (PyTorch), saved as CKPT/model-int8.pt; the bpb of both
  models is reported and saved as CKPT/int8.json.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import time
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from corpus_tools.core.errors import ConfigError, InputError

logger = logging.getLogger(__name__)

EOT = "<|endoftext|>"


# --- config -----------------------------------------------------------------------------------------------

@dataclass
class TrainConfig:
    """Every number of a training run; stored in each checkpoint so a run is reproducible from it.

    Model: n_layer / n_head / n_embd (GPT-2 naming), block_size (context, tokens), vocab_size (BPE
    vocabulary incl. the one special token). Optimisation: batch_size (sequences per step), lr / min_lr
    (AdamW, cosine decay after `warmup` linear steps), weight_decay (on matrices only), grad_clip (global
    norm), steps (total; the schedule is defined over it). Data: alpha (language temperature exponent,
    default 0.3), dup_power (dup_cluster_size exponent, default 0 = off), holdout (fraction of each
    language held out, default 0.1), eval_bytes (held-out UTF-8 bytes scored per language). Cadence:
    eval_every, ckpt_every, log_every (steps). seed: everything random derives from it.
    """

    name: str = "small"
    n_layer: int = 6
    n_head: int = 6
    n_embd: int = 384
    block_size: int = 256
    vocab_size: int = 8192
    batch_size: int = 16
    lr: float = 1e-3
    min_lr: float = 1e-4
    warmup: int = 100
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    steps: int = 2000
    alpha: float = 0.3
    dup_power: float = 0.0
    holdout: float = 0.1
    eval_bytes: int = 32768
    eval_every: int = 250
    ckpt_every: int = 250
    log_every: int = 10
    seed: int = 1337


CONFIGS = {
    # the test config: trains in seconds on one CPU core
    "tiny": TrainConfig(name="tiny", n_layer=2, n_head=2, n_embd=64, block_size=64, vocab_size=384, batch_size=16,
                        lr=3e-3, min_lr=3e-4, warmup=5, steps=60, eval_bytes=2048, eval_every=30, ckpt_every=30,
                        log_every=5),
    # the default: ~11M non-embedding parameters, a few hours on a laptop CPU, minutes on a GPU
    "small": TrainConfig(),
}


def make_config(name: str = "small", **overrides) -> TrainConfig:
    if name not in CONFIGS:
        raise ConfigError(f"unknown --config {name!r}; choose one of {', '.join(CONFIGS)}")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    bad = [k for k in overrides if k not in {f.name for f in dataclasses.fields(TrainConfig)}]
    if bad:
        raise ConfigError(f"unknown config key(s) {', '.join(bad)}")
    cfg = dataclasses.replace(CONFIGS[name], **overrides)
    if cfg.n_embd % cfg.n_head:
        raise ConfigError(f"n_embd {cfg.n_embd} is not divisible by n_head {cfg.n_head}")
    return cfg


# --- data -------------------------------------------------------------------------------------------------

def id_hash(doc_id: str) -> float:
    """A document's position in [0, 1), from its id alone: the held-out split never depends on order."""
    return int(hashlib.sha256(doc_id.encode()).hexdigest()[:8], 16) / 2**32


def truncate_bytes(text: str, limit: int) -> str:
    return text.encode()[:limit].decode(errors="ignore")


@dataclass
class LanguageSplit:
    train: list[tuple[str, float]]   # (text, sampling weight from dup_cluster_size)
    heldout: list[str]               # held-out texts, truncated to eval_bytes in total


def read_documents(data_dir: str, unknown_eligible: bool = False) -> tuple[dict[str, list[dict]], dict]:
    """Train-eligible documents by language, and the lineage of what was read."""
    from corpus_tools.train.pull import PULL_MANIFEST, ShardDataset, load_pull, sha256_file, shard_files
    from corpus_tools.core import storage

    files = shard_files(data_dir)
    pulled = None
    if not storage.is_s3(data_dir) and os.path.exists(os.path.join(data_dir, PULL_MANIFEST)):
        pulled = load_pull(data_dir)
        shards = [{"path": s["path"], "sha256": s["sha256"]} for s in pulled["shards"]]
    else:
        shards = [{"path": f, "sha256": sha256_file(f) if not storage.is_s3(f) else None} for f in files]
    by_lang: dict[str, list[dict]] = {}
    total = 0
    for row in ShardDataset(files, columns=("id", "text", "lang", "dup_cluster_size", "train_eligible"), eligible_only=False):
        total += 1
        ok = row.get("train_eligible")
        if not (ok is True or (ok is None and unknown_eligible)) or not (row.get("text") or "").strip():
            continue
        by_lang.setdefault(row.get("lang") or "und", []).append(row)
    used = sum(len(v) for v in by_lang.values())
    if not used:
        raise InputError(f"no train_eligible documents in {data_dir} ({total} rows read); if the release was made "
                         "without the rights stage (train_eligible null), pass --include-unknown-eligibility")
    lineage = {"release": pulled["release"] if pulled else data_dir, "merkle_root": pulled.get("merkle_root") if pulled else None,
               "shards": shards, "rows_read": total, "documents_used": used, "unknown_eligible_included": unknown_eligible}
    return by_lang, lineage


def split_language(docs: list[dict], cfg: TrainConfig) -> LanguageSplit:
    docs = sorted(docs, key=lambda d: (id_hash(d["id"]), d["id"]))
    weight = lambda d: float(max(d.get("dup_cluster_size") or 1, 1)) ** cfg.dup_power  # noqa: E731
    held = [d for d in docs if id_hash(d["id"]) < cfg.holdout]
    train = [d for d in docs if id_hash(d["id"]) >= cfg.holdout]
    if len(docs) == 1:  # split inside the only document: train on the head, score the tail
        text = docs[0]["text"]
        cut = max(1, min(len(text) - 1, int(len(text) * (1 - cfg.holdout))))
        split = LanguageSplit([(text[:cut], weight(docs[0]))], [text[cut:]])
    else:
        if not held:
            held, train = docs[:1], docs[1:]
        if not train:
            held, train = held[:1], held[1:]
        split = LanguageSplit([(d["text"], weight(d)) for d in train], [d["text"] for d in held])
    budget, heldout = cfg.eval_bytes, []
    for t in split.heldout:
        if budget <= 0:
            break
        t = truncate_bytes(t, budget)
        budget -= len(t.encode())
        heldout.append(t)
    split.heldout = heldout
    return split


def train_tokenizer(texts: list[str], vocab_size: int):
    """Byte-level BPE (GPT-2 style): every byte is in the base alphabet, so nothing is ever unknown."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOT], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    return tok


class TrainingData:
    """Token streams per language, the language weights, and the held-out sets, built from one pull."""

    def __init__(self, splits: dict[str, LanguageSplit], tokenizer, cfg: TrainConfig):
        self.cfg = cfg
        self.tokenizer = tokenizer
        self.eot = tokenizer.token_to_id(EOT)
        self.langs = sorted(splits)
        self.streams, self.doc_start, self.doc_p, self.train_bytes, self.train_tokens = {}, {}, {}, {}, {}
        self.heldout, self.heldout_bytes = {}, {}
        for lang in self.langs:
            sp = splits[lang]
            enc = tokenizer.encode_batch([t for t, _ in sp.train])
            ids = [np.array(e.ids + [self.eot], dtype=np.int64) for e in enc]
            lens = np.array([len(a) for a in ids], dtype=np.float64)
            stream = np.concatenate(ids)
            self.doc_start[lang] = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
            w = lens * np.array([wt for _, wt in sp.train])
            self.doc_p[lang] = w / w.sum()
            reps = math.ceil((cfg.block_size + 2) / len(stream))  # a stream shorter than one window is tiled
            self.streams[lang] = np.tile(stream, reps) if reps > 1 else stream
            self.train_bytes[lang] = sum(len(t.encode()) for t, _ in sp.train)
            self.train_tokens[lang] = len(stream)
            held = [self.eot]
            for e in tokenizer.encode_batch(sp.heldout):
                held += e.ids + [self.eot]
            self.heldout[lang] = np.array(held, dtype=np.int64)
            self.heldout_bytes[lang] = sum(len(t.encode()) for t in sp.heldout)
        n = np.array([self.train_bytes[lang] for lang in self.langs], dtype=np.float64)
        p = n ** cfg.alpha
        self.lang_p = p / p.sum()

    def weights(self) -> dict[str, float]:
        return {lang: round(float(p), 6) for lang, p in zip(self.langs, self.lang_p)}

    def batch(self, step: int):
        """Batch `step`: (x, y, language index per row). Seeded by (seed, step), so a resumed run sees the
        same batches as an uninterrupted one."""
        rng = np.random.default_rng([self.cfg.seed, step])
        T = self.cfg.block_size
        li = rng.choice(len(self.langs), size=self.cfg.batch_size, p=self.lang_p)
        rows = []
        for i in li:
            lang = self.langs[i]
            d = rng.choice(len(self.doc_p[lang]), p=self.doc_p[lang])
            stream = self.streams[lang]
            nxt = self.doc_start[lang][d + 1] if d + 1 < len(self.doc_start[lang]) else len(stream)
            start = min(int(rng.integers(self.doc_start[lang][d], max(nxt, self.doc_start[lang][d] + 1))), len(stream) - T - 1)
            rows.append(stream[start:start + T + 1])
        arr = np.stack(rows)
        return arr[:, :-1], arr[:, 1:], li


def build_data(data_dir: str, cfg: TrainConfig, tokenizer=None, unknown_eligible: bool = False):
    by_lang, lineage = read_documents(data_dir, unknown_eligible)
    splits = {lang: split_language(docs, cfg) for lang, docs in by_lang.items()}
    lineage["documents"] = {lang: len(docs) for lang, docs in sorted(by_lang.items())}
    if tokenizer is None:
        tokenizer = train_tokenizer([t for lang in sorted(splits) for t, _ in splits[lang].train], cfg.vocab_size)
    return TrainingData(splits, tokenizer, cfg), lineage


# --- model (nanoGPT) --------------------------------------------------------------------------------------

class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: TrainConfig):
        super().__init__()
        self.n_head = cfg.n_head
        self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
        self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


class Block(nn.Module):
    def __init__(self, cfg: TrainConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd)
        self.mlp = nn.Sequential(nn.Linear(cfg.n_embd, 4 * cfg.n_embd), nn.GELU(), nn.Linear(4 * cfg.n_embd, cfg.n_embd))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """Pre-LayerNorm GPT-2 with learned positions and the output layer tied to the token embedding."""

    def __init__(self, cfg: TrainConfig):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight
        self.apply(self._init)
        for name, p in self.named_parameters():  # GPT-2: scale residual projections by depth
            if name.endswith("c_proj.weight") or name.endswith("mlp.2.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, 0.02)

    def n_params(self, non_embedding: bool = True) -> int:
        n = sum(p.numel() for p in self.parameters())
        return n - self.wpe.weight.numel() - (self.wte.weight.numel() if non_embedding else 0)

    def forward(self, idx, targets=None):
        """Logits, and the per-token loss (nats, shape B×T) when targets are given."""
        pos = torch.arange(idx.shape[1], device=idx.device)
        x = self.wte(idx) + self.wpe(pos)
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.reshape(-1), reduction="none")
        return logits, loss.view(targets.shape)


# --- evaluation -------------------------------------------------------------------------------------------

@torch.no_grad()
def evaluate(model, data: TrainingData, device: str = "cpu", batch: int = 128) -> dict[str, float]:
    """Bits per byte per language on the held-out split: sum NLL (nats) / ln 2 / UTF-8 bytes. The held-out
    stream is cut into non-overlapping windows of block_size; targets that are the document separator are
    not counted (they encode no bytes). Windows of all languages share batches."""
    was_training = model.training
    model.eval()
    T = data.cfg.block_size
    xs, ys, owner = [], [], []
    for li, lang in enumerate(data.langs):
        s = torch.from_numpy(data.heldout[lang])
        for w in range(math.ceil((len(s) - 1) / T)):
            seg = s[w * T: w * T + T + 1]
            x = torch.full((T,), data.eot, dtype=torch.long)
            y = torch.full((T,), -1, dtype=torch.long)
            x[:len(seg) - 1], y[:len(seg) - 1] = seg[:-1], seg[1:]
            xs.append(x), ys.append(y), owner.append(li)
    x, y, owner = torch.stack(xs), torch.stack(ys), torch.tensor(owner)
    mask = (y >= 0) & (y != data.eot)
    nll = torch.zeros(len(data.langs), dtype=torch.float64)
    for i in range(0, len(x), batch):
        with _autocast(device):
            _, loss = model(x[i:i + batch].to(device), y[i:i + batch].clamp(min=0).to(device))
        per_window = (loss.float().cpu() * mask[i:i + batch]).sum(dim=1).double()
        nll.index_add_(0, owner[i:i + batch], per_window)
    model.train(was_training)
    return {lang: round(float(nll[li]) / math.log(2) / max(data.heldout_bytes[lang], 1), 4)
            for li, lang in enumerate(data.langs)}


def format_table(rows: dict[str, dict], columns: list[str]) -> str:
    lines = [f"{'language':<12}" + "".join(f"{c:>14}" for c in columns)]
    for lang, vals in rows.items():
        lines.append(f"{lang:<12}" + "".join(f"{vals[c]:>14}" for c in columns))
    return "\n".join(lines)


def plot_curves(history: dict, path: str) -> None:
    """Train loss (nats/token, per language, averaged over each log interval) and held-out bpb per language."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(13, 5))
    langs = sorted({lang for h in history["train"] for lang in h["by_lang"]})
    for i, lang in enumerate(langs):
        style = dict(label=lang, lw=1, ls=("-", "--", ":", "-.")[i // 10 % 4])  # 10 colours per line style
        pts = [(h["step"], h["by_lang"][lang]) for h in history["train"] if lang in h["by_lang"]]
        a.plot(*zip(*pts), **style)
        ev = [(h["step"], h["bpb"][lang]) for h in history["eval"] if lang in h["bpb"]]
        if ev:
            b.plot(*zip(*ev), marker=".", **style)
    a.set(title="train loss per language", xlabel="step", ylabel="nats / token")
    b.set(title="held-out bits per byte", xlabel="step", ylabel="bpb")
    b.legend(fontsize=6, ncol=2 if len(langs) > 12 else 1, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# --- the loop ---------------------------------------------------------------------------------------------

def pick_device(device: str = "auto") -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda but no CUDA GPU is visible to PyTorch; use --device cpu or auto")
    if device not in ("cpu", "cuda"):
        raise ConfigError(f"unknown --device {device!r}; use auto, cpu or cuda")
    return device


def _autocast(device: str):
    if device == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    import contextlib

    return contextlib.nullcontext()


def lr_at(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    frac = min(1.0, (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))
    return cfg.min_lr + 0.5 * (1 + math.cos(math.pi * frac)) * (cfg.lr - cfg.min_lr)


def make_optimizer(model: GPT, cfg: TrainConfig):
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.95))


def save_checkpoint(path: str, state: dict) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    torch.save(state, tmp)
    os.replace(tmp, path)  # a killed run leaves the previous checkpoint intact


def _write_json(path: str, obj) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as fh:
        json.dump(obj, fh, indent=2, sort_keys=True)
    os.replace(tmp, path)


def train(data_dir: str, out: str, cfg: TrainConfig | None = None, device: str = "auto", overwrite: bool = False,
          unknown_eligible: bool = False, stop_at: int | None = None, echo=print) -> dict:
    """Train (or resume) into `out`. `cfg.steps` is the run's length; `stop_at` ends this call early (the
    next call resumes). Returns the final eval dict."""
    cfg = cfg or make_config()
    device = pick_device(device)
    os.makedirs(out, exist_ok=True)
    ckpt_path = os.path.join(out, "ckpt.pt")
    state = None
    if os.path.exists(ckpt_path) and not overwrite:
        state = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        saved = TrainConfig(**state["config"])
        diff = [f.name for f in dataclasses.fields(cfg)
                if f.name not in ("name", "steps") and getattr(cfg, f.name) != getattr(saved, f.name)]
        if diff:
            raise ConfigError(f"{out} holds a run with a different config ({', '.join(diff)}); "
                              "use the same flags to resume, or --overwrite / a new --out")
        cfg = dataclasses.replace(saved, steps=cfg.steps)

    torch.manual_seed(cfg.seed)
    tokenizer = None
    if state is not None:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_str(state["tokenizer"])
    t0 = time.time()
    data, lineage = build_data(data_dir, cfg, tokenizer, unknown_eligible)
    if state is not None and [s["sha256"] for s in state["lineage"]["shards"]] != [s["sha256"] for s in lineage["shards"]]:
        raise ConfigError(f"the shards in {data_dir} differ from those {out} was trained on; use --overwrite or a new --out")
    lineage.update(sampling={"alpha": cfg.alpha, "dup_power": cfg.dup_power, "weights": data.weights(),
                             "train_bytes": data.train_bytes, "heldout_bytes": data.heldout_bytes},
                   config=asdict(cfg), torch=torch.__version__)
    echo(f"data: {len(data.langs)} languages, {sum(data.train_bytes.values())} train bytes, "
         f"{sum(data.train_tokens.values())} train tokens ({time.time() - t0:.1f} s)")

    model = GPT(cfg).to(device)
    opt = make_optimizer(model, cfg)
    history = {"train": [], "eval": []}
    step = 0
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        step, history = state["step"], state["history"]
        echo(f"resuming {out} from step {step}")
    echo(f"model: {model.n_params() / 1e6:.2f}M non-embedding parameters, config {cfg.name}, device {device}")

    def checkpoint():
        save_checkpoint(ckpt_path, {"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                                    "config": asdict(cfg), "history": history, "lineage": lineage,
                                    "tokenizer": data.tokenizer.to_str()})
        _write_json(os.path.join(out, "lineage.json"), {"step": step, **lineage})
        data.tokenizer.save(os.path.join(out, "tokenizer.json"))

    def run_eval():
        bpb = evaluate(model, data, device)
        if not history["eval"] or history["eval"][-1]["step"] != step:
            history["eval"].append({"step": step, "bpb": bpb})
        return bpb

    if step == 0 and not history["eval"]:
        run_eval()
    end = min(cfg.steps, stop_at) if stop_at is not None else cfg.steps
    model.train()
    acc_loss, acc_n = np.zeros(len(data.langs)), np.zeros(len(data.langs))
    t_last, tok_last = time.time(), 0
    while step < end:
        for g in opt.param_groups:
            g["lr"] = lr_at(step, cfg)
        x, y, li = data.batch(step)
        xb, yb = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
        with _autocast(device):
            _, loss = model(xb, yb)
        per_row = loss.float().mean(dim=1)
        per_row.mean().backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        np.add.at(acc_loss, li, per_row.detach().cpu().numpy())
        np.add.at(acc_n, li, 1)
        step += 1
        tok_last += x.size
        if step % cfg.log_every == 0 or step == end:
            by_lang = {data.langs[i]: round(float(acc_loss[i] / acc_n[i]), 4) for i in np.nonzero(acc_n)[0]}
            mean = float(acc_loss.sum() / acc_n.sum())
            history["train"].append({"step": step, "loss": round(mean, 4), "by_lang": by_lang})
            dt = time.time() - t_last
            echo(f"step {step}/{cfg.steps}: loss {mean:.3f}, lr {lr_at(step - 1, cfg):.2e}, {tok_last / max(dt, 1e-9):.0f} tok/s")
            acc_loss[:], acc_n[:] = 0, 0
            t_last, tok_last = time.time(), 0
        if step % cfg.eval_every == 0 or step == cfg.steps:
            bpb = run_eval()
            echo(f"step {step}: mean held-out bpb {np.mean(list(bpb.values())):.3f}")
        if step % cfg.ckpt_every == 0 or step == end:
            checkpoint()
    if state is not None and step == state["step"]:
        echo(f"{out} is already at step {step}; nothing to train (raise --steps to continue)")
    bpb = run_eval()
    checkpoint()
    result = {"bpb": bpb, "step": step}
    _write_json(os.path.join(out, "eval.json"), result)
    plot_curves(history, os.path.join(out, "loss_curves.png"))
    echo(format_table({lang: {"heldout bytes": data.heldout_bytes[lang], "weight": data.weights()[lang], "bpb": v}
                       for lang, v in bpb.items()}, ["heldout bytes", "weight", "bpb"]))
    return result


# --- int8 export ------------------------------------------------------------------------------------------

def quantize_int8(model: GPT):
    """Dynamic int8 quantisation of every Linear (weights int8, activations quantised on the fly); CPU only."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization's deprecation notice (still shipped in 2.13)
        return torch.ao.quantization.quantize_dynamic(model.cpu().eval(), {nn.Linear}, dtype=torch.qint8)


def load_model(ckpt_dir: str, int8: bool = False):
    """(model, config, tokenizer) from CKPT_DIR: the float checkpoint, or model-int8.pt with int8=True."""
    from tokenizers import Tokenizer

    name = "model-int8.pt" if int8 else "ckpt.pt"
    path = os.path.join(ckpt_dir, name)
    if not os.path.exists(path):
        raise InputError(f"no {name} in {ckpt_dir}: run `corpus train DATA --out {ckpt_dir}`" + (" --export-int8" if int8 else ""))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # quantised tensors still go through the deprecated TypedStorage path
        state = torch.load(path, map_location="cpu", weights_only=False)
    cfg = TrainConfig(**state["config"])
    model = GPT(cfg)
    if int8:
        model = quantize_int8(model)
    model.load_state_dict(state["model"])
    return model.eval(), cfg, Tokenizer.from_str(state["tokenizer"])


def export_int8(data_dir: str, ckpt_dir: str, unknown_eligible: bool = False, echo=print) -> dict:
    """Write CKPT/model-int8.pt and CKPT/int8.json (bpb float vs int8 per language, sizes)."""
    fmodel, cfg, tokenizer = load_model(ckpt_dir)
    state = torch.load(os.path.join(ckpt_dir, "ckpt.pt"), map_location="cpu", weights_only=False)
    data, _ = build_data(data_dir, cfg, tokenizer, unknown_eligible)
    float_bpb = evaluate(fmodel, data, "cpu")
    qmodel = quantize_int8(fmodel)
    path = os.path.join(ckpt_dir, "model-int8.pt")
    save_checkpoint(path, {"model": qmodel.state_dict(), "config": asdict(cfg), "step": state["step"],
                           "lineage": state["lineage"], "tokenizer": tokenizer.to_str()})
    qmodel, _, _ = load_model(ckpt_dir, int8=True)  # evaluate what was saved, not what is in memory
    int8_bpb = evaluate(qmodel, data, "cpu")
    float_bytes = sum(t.numel() * t.element_size() for t in state["model"].values())
    report = {"step": state["step"], "float_bpb": float_bpb, "int8_bpb": int8_bpb,
              "diff": {k: round(int8_bpb[k] - float_bpb[k], 4) for k in float_bpb},
              "mean_diff": round(float(np.mean([int8_bpb[k] - float_bpb[k] for k in float_bpb])), 4),
              "float_bytes": float_bytes, "int8_file_bytes": os.path.getsize(path)}
    _write_json(os.path.join(ckpt_dir, "int8.json"), report)
    echo(format_table({k: {"float bpb": float_bpb[k], "int8 bpb": int8_bpb[k], "diff": report["diff"][k]} for k in float_bpb},
                      ["float bpb", "int8 bpb", "diff"]))
    echo(f"int8: mean bpb difference {report['mean_diff']:+.4f}; {path} is {report['int8_file_bytes']} bytes "
         f"(float weights {float_bytes} bytes)")
    return report
