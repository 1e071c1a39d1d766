"""The `corpus` command: a thin skin over the library. Every error is one line and a non-zero exit code.

    corpus run PIPELINE --input PATH... --output DIR [--tasks N] [--workers N] [--limit N]
    corpus --help        (and `--help` on every command)
"""

from __future__ import annotations

import os
import sys

import click

from corpus_tools import __version__
from corpus_tools.core.errors import CorpusError


def _s3_where() -> str:
    from corpus_tools.core.s3fs_lite import s3_endpoint

    return s3_endpoint() or "AWS S3"


def environment_error(e: BaseException) -> str | None:
    """One line with the fix for an error of the user's environment rather than of corpus-tools: a path that
    cannot be read or written, an unreachable or refusing S3 store, a binary file where text is expected.
    None for anything else (a bug)."""
    try:
        from botocore import exceptions as bx
    except ImportError:  # the s3 extra is not installed: no S3 error can occur
        bx = None
    from corpus_tools.core import s3fs_lite

    if bx is not None and isinstance(e, (bx.NoCredentialsError, bx.PartialCredentialsError)):
        return s3fs_lite.s3_no_credentials()
    if bx is not None and isinstance(e, (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ConnectionClosedError)):
        return f"cannot reach the S3 endpoint {_s3_where()}: start it, or fix --s3-endpoint / S3_ENDPOINT_URL"
    if bx is not None and isinstance(e, bx.ClientError):
        err = e.response.get("Error", {})
        code = str(err.get("Code") or e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?"))
        if code in s3fs_lite.S3_REFUSED:
            return s3fs_lite.s3_refused(code)
        if code in ("NoSuchBucket", "NoSuchKey", "404"):
            return f"not found on S3 at {_s3_where()} ({code}): check the bucket name and the prefix"
        return f"S3 at {_s3_where()} answered {code}: {err.get('Message', '')}; check the URL and the credentials"
    if bx is not None and isinstance(e, bx.BotoCoreError):
        return f"S3 failure at {_s3_where()}: {e}; check --s3-endpoint and the credentials"
    if isinstance(e, OSError) and (e.filename is not None or e.strerror):
        where = e.filename if e.filename is not None else "input/output"
        fix = {FileNotFoundError: "check the path (its parent folders must exist)",
               NotADirectoryError: "a part of this path is a file, not a folder: choose another path",
               IsADirectoryError: "it is a folder: give a file",
               PermissionError: "permission denied: choose a path you may read and write"}.get(type(e))
        if fix is None:
            fix = "no space left: free some or choose another output" if e.errno == 28 else "check the path"
        return f"{where}: {e.strerror or e}: {fix}"
    if isinstance(e, UnicodeDecodeError):
        return (f"a file given is not UTF-8 text ({e.reason} at byte {e.start}, starting {e.object[:8]!r}): "
                "give a text file (TSV, JSON) where one is expected, not a binary file")
    return None


def _usage_line(e: click.UsageError) -> str:
    path = e.ctx.command_path if e.ctx is not None else "corpus"
    return f"error: {' '.join(e.format_message().split())} (see `{path} --help`)"


class CorpusGroup(click.Group):
    """Turns library errors into one line on stderr and their exit code; never a traceback.

    Exit codes: 2 bad input or an unusable environment (a path, S3, a usage error), 1 a failed check
    (a digest, a root, conservation) or a failed task."""

    def invoke(self, ctx):
        from corpus_tools.core.errors import RetryableError

        try:
            return super().invoke(ctx)
        except RetryableError as e:  # S3 or another service still unreachable after the retries: not a failed check
            click.echo(f"error: {e}", err=True)
            sys.exit(2)
        except CorpusError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(e.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted: re-run the same command to resume", err=True)
            sys.exit(130)
        except BrokenPipeError:  # the reader of our output went away (`| head`): nothing left to say
            sys.stdout = None
            sys.exit(0)
        except click.UsageError as e:
            click.echo(_usage_line(e), err=True)
            sys.exit(2)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except Exception as e:
            line = environment_error(e)
            if line is not None and not os.environ.get("CORPUS_DEBUG"):
                click.echo(f"error: {line}", err=True)
                sys.exit(2)
            # a bug: still one line, with what to do
            click.echo(f"internal error: {type(e).__name__}: {' '.join(str(e).split())} "
                       "(please report it; re-run with CORPUS_DEBUG=1 for details)", err=True)
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
    from corpus_tools.core.recipe import RunOptions
    from corpus_tools.core.s3fs_lite import set_s3_endpoint
    from corpus_tools.run.driver import execute

    set_s3_endpoint(s3_endpoint)
    opts = RunOptions(inputs=list(inputs), output=output, tasks=tasks, workers=workers, limit=limit,
                      executor=executor, ray_address=ray_address, params=parse_params(params), robots=list(robots))
    summary = execute(pipeline, opts, overwrite=overwrite)
    click.echo(format_summary(summary))
    if not no_report:
        from corpus_tools.report import build_report

        click.echo(f"report: {build_report(output)}")


@main.command("report")
@click.argument("output")
@click.option("--s3-endpoint", default=None, help="Endpoint URL of an S3-compatible store (sets S3_ENDPOINT_URL).")
def report_cmd(output, s3_endpoint):
    """Write OUTPUT/reports/index.html and the numbers behind it (reports/*.csv, reports/stats.json) for a
    finished run, a local directory or an s3:// prefix (runs automatically after `corpus run`)."""
    from corpus_tools.report import build_report
    from corpus_tools.core.s3fs_lite import set_s3_endpoint

    set_s3_endpoint(s3_endpoint)
    click.echo(str(build_report(output)))


def format_summary(s: dict) -> str:
    lines = [f"run {s['run_id']}: read {s['records_read']} records -> kept {s['documents_kept']}, "
             f"excluded {s['records_excluded']} (conservation {'ok' if s['conservation_ok'] else 'BROKEN'}) in {s['wall_s']} s"]
    if s["kept_by_lang"]:
        lines.append("kept by language: " + ", ".join(f"{k} {v}" for k, v in s["kept_by_lang"].items()))
    if s["excluded_by_reason"]:
        lines.append("excluded by reason: " + ", ".join(f"{k} {v}" for k, v in s["excluded_by_reason"].items()))
    return "\n".join(lines)


from corpus_tools.cli.readers import warc_group  # noqa: E402

main.add_command(warc_group)

from corpus_tools.cli.train import pull_cmd, train_cmd  # noqa: E402

main.add_command(pull_cmd)
main.add_command(train_cmd)

from corpus_tools.cli.audit import audit  # noqa: E402

main.add_command(audit)

from corpus_tools.cli.lid import lid_group  # noqa: E402

main.add_command(lid_group)

from corpus_tools.cli.stage import stage_cmd, stages_cmd  # noqa: E402

main.add_command(stages_cmd)
main.add_command(stage_cmd)

if __name__ == "__main__":
    main()
