"""Pull curated shards from a release by language and licence, and stream them into PyTorch.

    corpus pull RELEASE --lang fin_Latn,est_Latn --redistribution open,attribution --to DIR

RELEASE is a release directory or `s3://` prefix holding `release.json` (its `merkle_root` and a `shards`
list of `{path, sha256, bytes, rows, lang, redistribution}`, paths relative to RELEASE). Each selected shard
is streamed to `DIR/<path>` while its sha256 is computed; a file whose digest differs from release.json is
never published. Re-running the same command resumes: files already in DIR with the right digest are
skipped, missing or bad ones are fetched again. `DIR/pull.json` records which release (and Merkle root) the
files came from, the filters, and every shard with its digest.

`ShardDataset` is a streaming `torch.utils.data.IterableDataset` over shard files (local or `s3://`), which
splits its work units (one Parquet row group each) across data-loader workers and distributed ranks so that
every document is read exactly once. It yields only `train_eligible` documents by default.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import io
import json
import logging
import os
from dataclasses import dataclass, field

import click

from corpus_tools import s3fs_lite, storage
from corpus_tools.errors import ConfigError, InputError, VerificationError

logger = logging.getLogger(__name__)

PULL_MANIFEST = "pull.json"
RELEASE_MANIFEST = "release.json"
CHUNK = 1 << 20  # bytes read per streamed chunk: 1 MiB keeps memory flat for any shard size


def load_release(release: str) -> dict:
    """Read RELEASE/release.json; InputError naming the fix if it is missing or malformed."""
    url = storage.join(release, RELEASE_MANIFEST)
    if not storage.exists(url):
        raise InputError(f"no {RELEASE_MANIFEST} in {release}: give a release directory written by `corpus run` (its release phase)")
    try:
        manifest = json.loads(storage.read_bytes(url))
        shards = manifest["shards"]
        for s in shards:
            s["path"], s["sha256"]  # noqa: B018 - the keys every shard must have
    except (ValueError, KeyError, TypeError) as e:
        raise InputError(f"{url} is not a release manifest ({type(e).__name__}: {e}); re-run the release step") from None
    return manifest


def parse_list(value: str | None) -> list[str] | None:
    """`a,b , c` -> ['a', 'b', 'c']; None or '' or 'all' -> None (no filter)."""
    if value is None or value.strip() in ("", "all", "*"):
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def select_shards(manifest: dict, langs: list[str] | None, redistribution: list[str] | None,
                  notes: list[str] | None = None) -> list[dict]:
    """The release's shards matching the filters, in release order. A valid language or class the release
    does not hold matches nothing (a line is added to `notes`); a value that is no language of the registry
    or no redistribution class (a misspelling) is a ConfigError listing what the release has."""
    from corpus_tools.languages import OTHER, registry
    from corpus_tools.rights.policy import CLASSES

    shards = manifest["shards"]
    for name, wanted, key, valid in (("--lang", langs, "lang", lambda: set(registry()) | {OTHER}),
                                     ("--redistribution", redistribution, "redistribution", lambda: set(CLASSES))):
        if wanted:
            present = sorted({s.get(key) for s in shards if s.get(key)})
            absent = [w for w in wanted if w not in present]
            unknown = [w for w in absent if w not in valid()]
            if unknown:
                what = "a language label of language_ids/registry.tsv" if key == "lang" else f"a class ({','.join(CLASSES)})"
                raise ConfigError(f"{name} {','.join(unknown)} is not in this release, nor {what}; "
                                  f"the release has: {','.join(present) or 'none'}")
            if absent and notes is not None:
                notes.append(f"{name} {','.join(absent)}: none in this release (it has {','.join(present) or 'none'}); matches nothing")
    return [s for s in shards
            if (not langs or s.get("lang") in langs) and (not redistribution or s.get("redistribution") in redistribution)]


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _safe_dest(to: str, rel: str) -> str:
    dest = os.path.normpath(os.path.join(to, rel))
    if not dest.startswith(os.path.normpath(to) + os.sep):
        raise InputError(f"release.json names a shard outside the release ({rel!r}); the manifest is corrupt")
    return dest


def fetch_verified(src: str, dest: str, sha256: str) -> int:
    """Stream src to dest, publishing dest only if its sha256 matches. Returns bytes written."""
    h = hashlib.sha256()
    n = 0
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    tmp = f"{dest}.tmp-{os.getpid()}"
    try:
        with contextlib.closing(storage.open_read(src)) as fin, open(tmp, "wb") as fout:
            while chunk := fin.read(CHUNK):
                h.update(chunk)
                fout.write(chunk)
                n += len(chunk)
        if h.hexdigest() != sha256:
            raise VerificationError(f"sha256 mismatch for {src}: release.json says {sha256[:12]}…, the file is "
                                    f"{h.hexdigest()[:12]}…; the release is damaged: re-publish it or pull another")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return n


def pull(release: str, to: str, langs: list[str] | None = None, redistribution: list[str] | None = None,
         progress=None) -> dict:
    """Copy the selected shards of `release` into `to`, verified; resumable. Returns the pull manifest."""
    if storage.is_s3(to):
        raise ConfigError("--to must be a local directory (training reads local files; S3 shards can be streamed directly)")
    os.makedirs(to, exist_ok=True)  # an unwritable --to fails before anything is read (the CLI prints one line)
    manifest = load_release(release)
    notes: list[str] = []
    shards = select_shards(manifest, langs, redistribution, notes)
    if not shards:
        raise ConfigError("no shard matches --lang/--redistribution in this release"
                          + (f" ({'; '.join(notes)})" if notes else "") + ": widen the filters")

    old_path = os.path.join(to, PULL_MANIFEST)
    if os.path.exists(old_path):
        old = json.load(open(old_path))
        if old.get("merkle_root") != manifest.get("merkle_root"):
            raise ConfigError(f"{to} holds a pull of another release (root {str(old.get('merkle_root'))[:12]}…); "
                              "pull into an empty directory")
    counts = {"fetched": 0, "skipped_verified": 0, "refetched_bad": 0, "bytes_fetched": 0}
    for i, s in enumerate(shards):
        dest = _safe_dest(to, s["path"])
        if os.path.exists(dest):
            if sha256_file(dest) == s["sha256"]:
                counts["skipped_verified"] += 1
                continue
            counts["refetched_bad"] += 1  # a partial or damaged file from an earlier pull
            os.remove(dest)
        else:
            counts["fetched"] += 1
        counts["bytes_fetched"] += storage.retry(lambda: fetch_verified(storage.join(release, s["path"]), dest, s["sha256"]))
        if progress:
            progress(i + 1, len(shards))
    out = {
        "release": release,
        "merkle_root": manifest.get("merkle_root"),
        "filters": {"lang": langs, "redistribution": redistribution},
        "pulled_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "shards": [{k: s.get(k) for k in ("path", "sha256", "bytes", "rows", "lang", "redistribution")} for s in shards],
        "counts": counts,
        "notes": notes,
    }
    with storage.atomic_write(old_path) as fh:
        fh.write(json.dumps(out, indent=2, sort_keys=True).encode())
    return out


def load_pull(data_dir: str) -> dict:
    """DATA_DIR/pull.json, every shard re-verified; InputError/VerificationError say the fix."""
    path = os.path.join(data_dir, PULL_MANIFEST)
    if not os.path.exists(path):
        raise InputError(f"no {PULL_MANIFEST} in {data_dir}: run `corpus pull RELEASE --to {data_dir}` first")
    manifest = json.load(open(path))
    for s in manifest["shards"]:
        p = os.path.join(data_dir, s["path"])
        if not os.path.exists(p) or sha256_file(p) != s["sha256"]:
            raise VerificationError(f"{p} is missing or differs from {PULL_MANIFEST}; re-run the same `corpus pull` to repair it")
    return manifest


# --- streaming dataset ------------------------------------------------------------------------------------

@dataclass
class ShardReader:
    """Documents from Parquet shards, streamed row group by row group (`ShardDataset` is the same as a torch
    IterableDataset).

    files: local paths or s3:// URLs. columns: columns yielded per row (default id, text, lang,
    dup_cluster_size). eligible_only: yield only rows with train_eligible == True (default True; DSM Art. 4
    opt-outs are never trained on). unknown_eligible: also yield rows whose train_eligible is null (a release
    made without the rights stage), default False. langs: keep only these languages (None = all).
    rank / world_size: the distributed split (default 0 / 1); data-loader workers split further inside it.
    """

    files: list[str]
    columns: tuple[str, ...] = ("id", "text", "lang", "dup_cluster_size")
    eligible_only: bool = True
    unknown_eligible: bool = False
    langs: list[str] | None = None
    rank: int = 0
    world_size: int = 1
    _units: list[tuple[str, int]] | None = field(default=None, repr=False)

    def units(self) -> list[tuple[str, int]]:
        """(file, row group) pairs in a fixed order: the unit of work split across workers."""
        if self._units is None:
            import pyarrow.parquet as pq

            self._units = []
            for f in self.files:
                with contextlib.closing(storage.open_read(f)) as fh:
                    n = pq.ParquetFile(_seekable(fh, f)).metadata.num_row_groups
                self._units.extend((f, g) for g in range(n))
        return self._units

    def my_units(self) -> list[tuple[str, int]]:
        info = _worker_info()
        workers, wid = (info.num_workers, info.id) if info else (1, 0)
        slot, slots = self.rank * workers + wid, self.world_size * workers
        return [u for i, u in enumerate(self.units()) if i % slots == slot]

    def __iter__(self):
        import pyarrow.parquet as pq

        cached = (None, None)  # an S3 shard is fetched once per worker: its units are adjacent in my_units()
        for f, g in self.my_units():
            if storage.is_s3(f):
                if cached[0] != f:
                    cached = (f, storage.read_bytes(f))
                pf = pq.ParquetFile(io.BytesIO(cached[1]))
            else:
                pf = pq.ParquetFile(f)
            have = set(pf.schema_arrow.names)
            cols = [c for c in dict.fromkeys((*self.columns, "train_eligible", "lang")) if c in have]
            table = pf.read_row_group(g, columns=cols)
            for row in table.to_pylist():
                ok = row.get("train_eligible")
                if self.eligible_only and not (ok is True or (ok is None and self.unknown_eligible)):
                    continue
                if self.langs and row.get("lang") not in self.langs:
                    continue
                yield {c: row.get(c) for c in self.columns}


def _worker_info():
    try:
        from torch.utils.data import get_worker_info
    except ImportError:  # torch is the `train` extra; reading shards works without it
        return None
    return get_worker_info()


def __getattr__(name: str):
    """`ShardDataset`: ShardReader as a torch IterableDataset, built on first use so that importing this
    module (every `corpus` command does) does not import torch (~4 s)."""
    if name == "ShardDataset":
        from torch.utils.data import IterableDataset

        cls = type("ShardDataset", (ShardReader, IterableDataset), {"__module__": __name__, "__doc__": ShardReader.__doc__})
        globals()["ShardDataset"] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _seekable(fh, url: str):
    """Parquet needs random access: S3 bodies are read into memory (one shard), local files are used as is."""
    if storage.is_s3(url):
        return io.BytesIO(fh.read())
    return fh


def shard_files(data_dir: str) -> list[str]:
    """The Parquet files of a pull (in pull.json order), or every *.parquet under a directory / s3 prefix."""
    if not storage.is_s3(data_dir) and os.path.exists(os.path.join(data_dir, PULL_MANIFEST)):
        return [os.path.join(data_dir, s["path"]) for s in load_pull(data_dir)["shards"]]
    files = storage.list_files(data_dir, ".parquet")
    if not files:
        raise InputError(f"no Parquet shards under {data_dir}: give a directory made by `corpus pull`")
    return files


# --- CLI --------------------------------------------------------------------------------------------------

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
              help="Named config in corpus_tools/train.py (model size, batch, schedule).")
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

    The trainer lives in corpus_tools/train.py; this is its command-line skin (kept here so that other
    `corpus` commands start without importing torch)."""
    try:
        from corpus_tools import train as trainer
    except ImportError as e:
        raise ConfigError(f"training needs the train extra ({e}): pip install -e '.[train]'") from None
    cfg = trainer.make_config(config_name, steps=steps, alpha=alpha, dup_power=dup_power, seed=seed)
    result = trainer.train(data_dir, out, cfg, device=device, overwrite=overwrite,
                           unknown_eligible=include_unknown_eligibility, echo=click.echo)
    click.echo(f"step {result['step']}: eval in {os.path.join(out, 'eval.json')}, curves in {os.path.join(out, 'loss_curves.png')}")
    if int8:
        trainer.export_int8(data_dir, out, include_unknown_eligibility, echo=click.echo)
