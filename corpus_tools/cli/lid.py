"""`corpus lid ...`: evaluate language identification on a dev file.

    corpus lid eval ../shared/data/lid/ud_treebanks.tsv                  # the combined identifier
    corpus lid eval FILE.tsv --backend lingua --json
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from corpus_tools.core.languages import OTHER, registry
from corpus_tools.lid.backends import BACKENDS, clean, get_backend
from corpus_tools.lid.evaluate import file_uses_no, read_dev, score, to_eval_codes


@click.group("lid")
def lid_group():
    """Language identification: evaluation of the backends and the combined identifier."""


def predict_all(backend: str, texts: list[str]) -> tuple[list[str], float]:
    if backend == "combined":
        from corpus_tools.lid.combine import CombinedLid

        lid = CombinedLid()
        t0 = time.perf_counter()
        labels = [r.label for r in lid.identify_batch(texts)]
        return labels, time.perf_counter() - t0
    be = get_backend(backend)
    t0 = time.perf_counter()
    labels = [be.predict(t, k=1)[0][0] for t in texts]
    seconds = time.perf_counter() - t0
    return [lab if lab in registry() else OTHER for lab in labels], seconds


def check_dev_file(path: str) -> None:
    """InputError naming the fix if FILE is not UTF-8 `iso639_1<TAB>text` lines (an optional `iso639_1<TAB>text`
    header; blank lines are ignored): a malformed row is an error, never silently skipped."""
    import re

    from corpus_tools.core.errors import InputError

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path} not found: pass a TSV with lines `iso639_1<TAB>text`")
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path} is not UTF-8 text (byte {e.start}: {e.reason}): pass a TSV with lines `iso639_1<TAB>text`") from None
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip() or (i == 1 and line.startswith("iso639_1\t")):
            continue
        code, sep, body = line.partition("\t")
        if not sep or not re.fullmatch(r"[a-z]{2,3}", code) or not body.strip():
            raise InputError(f"{path} line {i} is not `iso639_1<TAB>text` ({line[:40]!r}): fix or remove that line")


@lid_group.command("eval")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--backend", default="combined", show_default=True,
              help=f"combined, {', '.join(BACKENDS)}, or fasttext:PATH (GlotLID / OpenLID-v2 labels)")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object instead of tables")
def eval_cmd(file: str, backend: str, as_json: bool):
    """Per-language precision/recall/F1 of a backend on FILE (`iso639_1<TAB>text` lines)."""
    check_dev_file(file)
    rows = read_dev(file)
    texts = [clean(t) for _, t in rows]
    labels, seconds = predict_all(backend, texts)
    res = score([g for g, _ in rows], to_eval_codes(labels), seconds, file_uses_no(file))
    if as_json:
        click.echo(json.dumps({k: res[k] for k in ("languages", "macro_eu24", "macro_all", "docs_per_s")}))
        return
    click.echo(f"{Path(file).name}: {res['n']} rows, backend {backend}, {res['docs_per_s']} docs/s")
    click.echo(f"{'lang':<6}{'P':>8}{'R':>8}{'F1':>8}{'support':>9}")
    for code, m in res["languages"].items():
        click.echo(f"{code:<6}{m['precision']:>8.4f}{m['recall']:>8.4f}{m['f1']:>8.4f}{m['support']:>9}")
    for key in ("macro_eu24", "macro_all"):
        m = res[key]
        if m["f1"] is not None:
            click.echo(f"{key:<11} P {m['precision']:.4f}  R {m['recall']:.4f}  F1 {m['f1']:.4f}")
    for g, c in res["confusion"].items():
        cells = "; ".join(f"{gold}→" + ", ".join(f"{p} {n}" for p, n in sorted(row.items(), key=lambda x: -x[1]))
                          for gold, row in c["matrix"].items())
        click.echo(f"group {g} (accuracy {c['group_accuracy']:.4f}): {cells}")


@lid_group.command("eval-web")
@click.argument("inputs", nargs=-1, type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True, help="print one JSON object (every page's labels) instead of a summary")
def eval_web_cmd(inputs: tuple[str, ...], as_json: bool):
    """Agreement of the combined identifier with its backends' consensus on real web pages: the extracted text
    of every HTML page in INPUTS (WARC files, folders of them or of .html.gz pages; default every page of
    ../shared/data/warc/ and the scrapinghub benchmark)."""
    from corpus_tools.cli.lid_web import agreement, agreement_markdown, extracted_pages

    paths = [Path(p) for p in inputs] or None
    if as_json:
        click.echo(json.dumps(agreement(extracted_pages(paths)), ensure_ascii=False))
        return
    click.echo("\n".join(agreement_markdown(paths)))
