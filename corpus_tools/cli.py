"""The `corpus` command: a thin skin over the library. Every error is one line and a non-zero exit code.

    corpus run PIPELINE --input PATH... --output DIR [--tasks N] [--workers N] [--limit N]
    corpus --help        (and `--help` on every command)
"""

from __future__ import annotations

import sys

import click

from corpus_tools import __version__
from corpus_tools.errors import CorpusError


class CorpusGroup(click.Group):
    """Turns library errors into one line on stderr and their exit code; never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CorpusError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(e.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted: re-run the same command to resume", err=True)
            sys.exit(130)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except Exception as e:  # a bug: still one line, with what to do
            click.echo(f"internal error: {type(e).__name__}: {e} (please report it; re-run with CORPUS_DEBUG=1 for details)", err=True)
            import os

            if os.environ.get("CORPUS_DEBUG"):
                raise
            sys.exit(1)


@click.group(cls=CorpusGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="corpus")
def main():
    """corpus-tools: curate WARC crawls into licence-aware multilingual Parquet shards."""


def parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not key=value", param_hint="--param")
        out[key.strip()] = value.strip()
    return out


@main.command("run")
@click.argument("pipeline")
@click.option("--input", "inputs", multiple=True, required=True, help="WARC file, directory, glob or s3:// URL (repeatable).")
@click.option("--output", required=True, help="Output directory or s3:// prefix. An existing one resumes.")
@click.option("--tasks", default=0, show_default=True, help="Parallel tasks (0 = one per input file).")
@click.option("--workers", default=1, show_default=True, help="Tasks run at the same time (with --executor ray: on the cluster; 0 = as many as its CPUs allow).")
@click.option("--limit", default=-1, show_default=True, help="Stop each task after N records (dry runs; -1 = all).")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True, help="datatrove executor.")
@click.option("--ray-address", default=None, help="Ray cluster address (default: RAY_ADDRESS, else a local Ray).")
@click.option("--s3-endpoint", default=None, help="Endpoint URL of an S3-compatible store (sets S3_ENDPOINT_URL).")
@click.option("--param", "params", multiple=True, help="Recipe parameter key=value (repeatable).")
@click.option("--overwrite", is_flag=True, help="Delete an existing output directory and start over.")
@click.option("--no-report", is_flag=True, help="Skip writing OUT/reports/index.html (write it later with `corpus report`).")
@click.option("--robots", "robots", multiple=True, help="WARC file, directory or glob of robots.txt (and tdmrep.json) captures of the crawl (repeatable).")
def run_cmd(pipeline, inputs, output, tasks, workers, limit, executor, ray_address, s3_endpoint, params, overwrite, robots, no_report):
    """Run PIPELINE (a recipe in pipelines/, by name or path) over WARC input."""
    from corpus_tools.run import RunOptions, execute
    from corpus_tools.storage import set_s3_endpoint

    set_s3_endpoint(s3_endpoint)
    opts = RunOptions(inputs=list(inputs), output=output, tasks=tasks, workers=workers, limit=limit,
                      executor=executor, ray_address=ray_address, params=parse_params(params), robots=list(robots))
    summary = execute(pipeline, opts, overwrite=overwrite)
    click.echo(format_summary(summary))
    if not no_report and not storage_is_s3(output):
        from corpus_tools.report import build_report

        click.echo(f"report: {build_report(output)}")


def storage_is_s3(url: str) -> bool:
    from corpus_tools.storage import is_s3

    return is_s3(url)


@main.command("report")
@click.argument("output", type=click.Path(exists=True, file_okay=False))
def report_cmd(output):
    """Write OUTPUT/reports/index.html: charts of a finished run (runs automatically after `corpus run`)."""
    from corpus_tools.report import build_report

    click.echo(str(build_report(output)))


def format_summary(s: dict) -> str:
    lines = [f"run {s['run_id']}: read {s['records_read']} records -> kept {s['documents_kept']}, "
             f"excluded {s['records_excluded']} (conservation {'ok' if s['conservation_ok'] else 'BROKEN'}) in {s['wall_s']} s"]
    if s["kept_by_lang"]:
        lines.append("kept by language: " + ", ".join(f"{k} {v}" for k, v in s["kept_by_lang"].items()))
    if s["excluded_by_reason"]:
        lines.append("excluded by reason: " + ", ".join(f"{k} {v}" for k, v in s["excluded_by_reason"].items()))
    return "\n".join(lines)


from corpus_tools.readers.cli import warc_group  # noqa: E402

main.add_command(warc_group)

from corpus_tools.pull import pull_cmd, train_cmd  # noqa: E402

main.add_command(pull_cmd)
main.add_command(train_cmd)

from corpus_tools.audit.cli import audit  # noqa: E402

main.add_command(audit)

from corpus_tools.lid.cli import lid_group  # noqa: E402

main.add_command(lid_group)

from corpus_tools.restage.cli import stage_cmd, stages_cmd  # noqa: E402

main.add_command(stages_cmd)
main.add_command(stage_cmd)

if __name__ == "__main__":
    main()
