"""`corpus pull` and `corpus train`: the trainer's commands (the trainer itself, `corpus_tools.train.model`, imports
torch only when `corpus train` runs, so `corpus` starts without it)."""

from __future__ import annotations

import os

import click

from corpus_tools.core import s3fs_lite
from corpus_tools.core.errors import ConfigError
from corpus_tools.train.pull import parse_list, pull


@click.command("pull")
@click.argument("release")
@click.option("--to", "to", required=True, help="Local directory to pull into; re-running resumes.")
@click.option("--lang", default=None, help="Comma-separated languages, e.g. fin_Latn,est_Latn (default: all).")
@click.option("--redistribution", default=None, help="Comma-separated classes, e.g. open,attribution (default: all).")
@click.option("--s3-endpoint", default=None, help="Endpoint URL of an S3-compatible store (sets S3_ENDPOINT_URL).")
def pull_cmd(release, to, lang, redistribution, s3_endpoint):
    """Pull RELEASE's shards (a directory or s3:// prefix with release.json), verified by sha256."""
    s3fs_lite.set_s3_endpoint(s3_endpoint)
    out = pull(release, to, parse_list(lang), parse_list(redistribution),
               progress=lambda i, n: click.echo(f"  {i}/{n} shards", err=True))
    for note in out["notes"]:
        click.echo(f"note: {note}", err=True)
    c = out["counts"]
    rows = sum(s.get("rows") or 0 for s in out["shards"])
    click.echo(f"pulled {len(out['shards'])} shards ({rows} rows) of release {str(out['merkle_root'])[:16]} into {to}: "
               f"fetched {c['fetched']}, already verified {c['skipped_verified']}, re-fetched {c['refetched_bad']}")


@click.command("train", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("data_dir")
@click.option("--out", required=True, help="Checkpoint directory; an existing one resumes from its last step.")
@click.option("--config", "config_name", default="small", show_default=True, type=click.Choice(["tiny", "small"]),
              help="Named config in corpus_tools/train/model.py (model size, batch, schedule).")
@click.option("--steps", type=int, default=None, help="Total optimiser steps (default: the config's).")
@click.option("--device", default="auto", show_default=True, type=click.Choice(["auto", "cpu", "cuda"]))
@click.option("--alpha", type=float, default=None, help="Language sampling exponent, p ∝ n^alpha (default 0.3).")
@click.option("--dup-power", type=float, default=None, help="Document weight dup_cluster_size^x (default 0 = off).")
@click.option("--seed", type=int, default=None, help="Seed for init and batches (default 1337).")
@click.option("--include-unknown-eligibility", is_flag=True,
              help="Also train on rows whose train_eligible is null (a release made without the rights stage).")
@click.option("--export-int8", "int8", is_flag=True, help="After training, write an int8 model and report its bpb vs float.")
@click.option("--overwrite", is_flag=True, help="Start over instead of resuming.")
def train_cmd(data_dir, out, config_name, steps, device, alpha, dup_power, seed, include_unknown_eligibility, int8, overwrite):
    """Train the bundled small GPT on DATA_DIR (made by `corpus pull`); eval per language in bits per byte.

    The trainer lives in corpus_tools/train/model.py; this is its command-line skin (kept here so that other
    `corpus` commands start without importing torch)."""
    try:
        from corpus_tools.train import model as trainer
    except ImportError as e:
        raise ConfigError(f"training needs the train extra ({e}): pip install -e '.[train]'") from None
    cfg = trainer.make_config(config_name, steps=steps, alpha=alpha, dup_power=dup_power, seed=seed)
    result = trainer.train(data_dir, out, cfg, device=device, overwrite=overwrite,
                           unknown_eligible=include_unknown_eligibility, echo=click.echo)
    click.echo(f"step {result['step']}: eval in {os.path.join(out, 'eval.json')}, curves in {os.path.join(out, 'loss_curves.png')}")
    if int8:
        trainer.export_int8(data_dir, out, include_unknown_eligibility, echo=click.echo)
