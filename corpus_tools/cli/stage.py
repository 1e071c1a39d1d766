"""`corpus stages` (the stage table) and `corpus stage NAME[,NAME...]` (re-run stages over a release).

    corpus stages [--json]
    corpus stage quality --input out/sample --output out/strict --param min_stop_words=3 [--dry-run]
    corpus stage rights --input out/sample --output out/drop --param policy=manifests/my-policy.json
    corpus stage dedup --input out/crawl2 --output out/crawl2-vs-1 --param index=out/crawl1
    corpus stage lid --input out/sample --output out/lid --param keep_other=true --executor ray
"""

from __future__ import annotations

import json

import click


HELP = {
    "lid": "language ID again (CascadeLid + LanguageRule), e.g. with keep_other or the priors on",
    "rights": "re-apply a (changed) rights policy: signals re-read from the WARC record's HTML, no re-extraction",
    "quality": "re-decide the quality rules from the stored `quality` signals (recompute=true measures them again)",
    "pii": "re-decide the PII density rule from the stored pii_counts (the stored text is already masked)",
    "dedup": "deduplicate the parent's documents again, optionally against earlier releases (index=OUT[,OUT])",
    "release": "rebuild the release files (manifests, Merkle roots, croissant.json, summary.json); always last",
}


def describe(pipeline: str = "eu_web") -> list[dict]:
    """The table `corpus stages` prints (and `--json` dumps): every stage, its parameters and versions."""
    from corpus_tools.restage.stages import ORDER, recipe_steps, stage_params, stage_steps, versions

    steps = recipe_steps(pipeline)
    rows = []
    for stage in ORDER:
        try:
            vers = versions(steps, stage)
        except Exception as e:  # a missing data file must not hide the other stages
            vers = {"error": f"{type(e).__name__}: {e}"}
        params = [{"name": k, "type": p.type.__name__ if p.type is not tuple else "list", "default": p.default,
                   "help": p.help} for k, p in stage_params(steps, stage).items()]
        for s in stage_steps(steps, stage):
            if getattr(type(s), "param_key", None):
                params.append({"name": "COLUMN[.LANG]", "type": "float", "default": "the table's value",
                               "help": "override one threshold column for all languages, or one language with .LANG"})
        rows.append({"stage": stage, "help": HELP[stage], "versions": json.loads(json.dumps(vers, default=str)),
                     "params": params})
    return rows


@click.command("stages")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
def stages_cmd(as_json):
    """List the stages `corpus stage` can re-run, with their parameters (type, default, unit) and versions."""
    rows = describe()
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    for row in rows:
        versions = "; ".join(f"{k} {', '.join(v) if isinstance(v, list) else v}" for k, v in row["versions"].items())
        click.echo(f"{row['stage']}: {row['help']}")
        click.echo(f"  versions: {versions or '-'}")
        for p in row["params"]:
            click.echo(f"  --param {p['name']}=<{p['type']}>  default {p['default']!s}: {p['help']}")


@click.command("stage")
@click.argument("names")
@click.option("--input", "parent", required=True, help="The parent: a release or run output directory (or s3:// prefix).")
@click.option("--output", default=None, help="Directory (or s3:// prefix) of the new release (required unless --dry-run). An existing one resumes.")
@click.option("--param", "params", multiple=True, help="Stage parameter key=value, or STAGE.key=value (repeatable; see `corpus stages`).")
@click.option("--workers", default=1, show_default=True, help="Tasks run at the same time.")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True, help="datatrove executor.")
@click.option("--ray-address", default=None, help="Ray cluster address (default: RAY_ADDRESS, else a local Ray).")
@click.option("--s3-endpoint", default=None, help="Endpoint URL of an S3-compatible store (sets S3_ENDPOINT_URL).")
@click.option("--dry-run", is_flag=True, help="Print per language what each changed rule would keep and drop; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="With --dry-run: print the counts as JSON.")
@click.option("--overwrite", is_flag=True, help="Delete an existing output directory and start over.")
def stage_cmd(names, parent, output, params, workers, executor, ray_address, s3_endpoint, dry_run, as_json, overwrite):
    """Re-run stage NAMES (comma-separated: lid, rights, quality, pii, dedup, release) over an existing release.

    Kept documents are re-decided from their stored columns; ledger rows of the stage that may now be kept are
    re-hydrated from their WARC record; the output is a complete release with lineage to its parent."""
    from corpus_tools.core import s3fs_lite
    from corpus_tools.cli import format_summary, parse_params
    from corpus_tools.run.restage import dry_run as do_dry_run
    from corpus_tools.run.restage import format_dry_run, restage

    s3fs_lite.set_s3_endpoint(s3_endpoint)
    stages = [n for n in names.split(",") if n.strip()]
    if dry_run:
        report = do_dry_run(stages, parent, parse_params(params))
        click.echo(json.dumps(report, indent=2, default=str) if as_json else format_dry_run(report))
        return
    if not output:
        raise click.UsageError("--output is required (only --dry-run runs without one)")
    summary = restage(stages, parent, output, parse_params(params), workers=workers, executor=executor,
                      ray_address=ray_address, overwrite=overwrite)
    click.echo(format_summary(summary))
    lin = summary["lineage"]
    changed = ", ".join(f"{s}.{k} {v['old']} -> {v['new']}" for s, c in lin["params"].items() for k, v in c.items()) or "nothing"
    click.echo(f"parent {lin['parent']['path']} (merkle root {lin['parent']['merkle_root']}); changed: {changed}")
