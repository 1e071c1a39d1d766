"""`corpus audit`: the auditor's commands, read-only over a release (an output directory or s3:// prefix).

    corpus audit verify out/sample [--expect-root ROOT] [--expect-release ID]   (ROOT: the published shards root)
    corpus audit trace out/sample https://example.org/page      (or a document id)
    corpus audit why out/sample https://example.org/excluded
    corpus audit query out/sample "SELECT lang, count(*) FROM documents GROUP BY 1" [--json | --csv] [--timeout 60s]
    corpus audit summary out/sample [--json]
    corpus audit takedown out/sample --url URL --output out/sample-v2 [--reason REF]
    corpus audit build out/sample          (re-write the release files of a run's output)

Exit codes: 0 ok, 1 a check failed (hash, root, conservation, WARC digest), 2 bad input. Errors are one line.
"""

from __future__ import annotations

import csv
import io
import json


import click

from corpus_tools.core.errors import VerificationError

RELEASE_HELP = "a run's output directory or its s3:// prefix"


def _s3(endpoint):
    from corpus_tools.core import s3fs_lite

    s3fs_lite.set_s3_endpoint(endpoint)


_endpoint = click.option("--s3-endpoint", default=None, help="Endpoint URL of an S3-compatible store (sets S3_ENDPOINT_URL).")


def _jsonable(v):
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    return str(v)


def _dump(obj) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, default=_jsonable)


def _text(obj, indent: int = 0) -> list[str]:
    """A readable indented form of nested dicts and lists (for terminals; --json gives the exact values)."""
    pad = "  " * indent
    lines = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, (dict, list)) and v:
                lines.append(f"{pad}{k}:")
                lines += _text(v, indent + 1)
            else:
                lines.append(f"{pad}{k}: {'' if v is None else json.dumps(v, ensure_ascii=False, default=_jsonable) if isinstance(v, (dict, list)) else v}")
    elif isinstance(obj, list):
        for item in obj:
            if isinstance(item, dict) and all(not isinstance(x, (dict, list)) for x in item.values()):
                lines.append(f"{pad}- " + ", ".join(f"{k}={v}" for k, v in item.items()))
            elif isinstance(item, (dict, list)):
                lines.append(f"{pad}-")
                lines += _text(item, indent + 1)
            else:
                lines.append(f"{pad}- {item}")
    else:
        lines.append(f"{pad}{obj}")
    return lines


@click.group("audit")
def audit():
    """Audit a release: trace, why, query, verify, summary, takedown (read-only except takedown and build)."""


@audit.command("verify")
@click.argument("release")
@click.option("--expect-root", default=None, metavar="ROOT",
              help="The shards Merkle root published by the release's maker (64 hex); exit 1 if RELEASE has another.")
@click.option("--expect-release", default=None, metavar="ID", help="The published release id (16 hex); exit 1 if it differs.")
@_endpoint
def verify_cmd(release, expect_root, expect_release, s3_endpoint):
    """Recompute every hash, both Merkle roots, the release id and the conservation check of RELEASE; exit 1 on
    the first mismatch. A consistent forgery passes these checks under a new id and new roots: compare the
    roots with the published ones (--expect-root)."""
    from corpus_tools.audit.verify import verify_release

    _s3(s3_endpoint)
    r = verify_release(release, expect_root=expect_root, expect_release=expect_release)
    click.echo(f"ok: release {r['release_id']} (version {r['version']}): {r['shards']} shards, {r['documents']} documents, "
               f"{r['ledger_files']} ledger files with {r['excluded']} exclusions; read {r['records_read']} = kept + excluded; "
               f"shards root {r['merkle_root']}; documents root {r['documents_root']}")
    if expect_root or expect_release:
        click.echo("matches the published " + " and ".join(
            n for n, v in (("root", expect_root), ("release id", expect_release)) if v))
    else:
        click.echo("not compared with a published root: check the shards root above against the publisher's, "
                   "or pass --expect-root ROOT")


@audit.command("trace")
@click.argument("release")
@click.argument("key", metavar="ID|URL")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--no-fetch", is_flag=True, help="Do not re-read the WARC record.")
@_endpoint
def trace_cmd(release, key, as_json, no_fetch, s3_endpoint):
    """Full provenance of a document (by id or URL) and every stage's decision; re-reads its WARC record and
    checks the payload digest (exit 1 if the record cannot be read or does not match)."""
    from corpus_tools.release.store import open_release
    from corpus_tools.audit.trace import trace

    _s3(s3_endpoint)
    with open_release(release) as rel:
        out = trace(rel, key, fetch=not no_fetch)
    click.echo(_dump(out) if as_json else "\n".join(_text(out)))
    bad = [o for o in out if o["warc_record"] is not None and o["warc_record"]["verified"] is False]
    if bad:
        w = bad[0]["warc_record"]
        raise VerificationError(f"WARC record of {bad[0]['id']} not verified: {w.get('error') or 'digest or record id mismatch'}")


@audit.command("why")
@click.argument("release")
@click.argument("url", metavar="URL|ID")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@_endpoint
def why_cmd(release, url, as_json, s3_endpoint):
    """Why an URL was excluded: stage, rule and its version, measured values and evidence."""
    from corpus_tools.release.store import open_release
    from corpus_tools.audit.trace import why

    _s3(s3_endpoint)
    with open_release(release) as rel:
        out = why(rel, url)
    if as_json:
        click.echo(_dump(out))
        return
    for o in out:
        click.echo(f"{o['url']} ({o['id']}): excluded by stage {o['stage']}, reason {o['reason']}, rule {o['rule']} "
                   f"(version {o['rule_version'] or '-'}, policy {o['policy_version'] or '-'})")
        click.echo(f"  evidence: {json.dumps(o['evidence'], ensure_ascii=False, sort_keys=True)}")
        if o["kept_id"]:
            click.echo(f"  kept instead: {o['kept_id']}")
        w = o["warc"]
        click.echo(f"  WARC record: {w['path']} offset {w['offset']} length {w['length']} ({w['record_id']}, {w['date']}); ledger {o['ledger_file']}")


@audit.command("query")
@click.argument("release")
@click.argument("sql")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of row objects.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV with a header row.")
@click.option("--memory-limit", default="2GB", show_default=True, help="DuckDB memory limit of the query, e.g. 512MB, 8GB.")
@click.option("--temp-limit", default="8GB", show_default=True,
              help="Most data the query may spill to its private temporary directory (removed on exit).")
@click.option("--timeout", default="60s", show_default=True, help="Stop the query after this long, e.g. 500ms, 60s, 10m.")
@_endpoint
def query_cmd(release, sql, as_json, as_csv, memory_limit, temp_limit, timeout, s3_endpoint):
    """One read-only SELECT over the views documents, exclusions and shards (no writes, ATTACH, COPY, several
    statements, or files outside the release), under a memory limit and a timeout."""
    from corpus_tools.release.store import Sandbox, connect, open_release, parse_duration, parse_size, run_query

    if as_json and as_csv:
        raise click.UsageError("give --json or --csv, not both")
    sandbox = Sandbox(memory_limit=parse_size(memory_limit, "--memory-limit"), temp_limit=parse_size(temp_limit, "--temp-limit"),
                      timeout_s=parse_duration(timeout, "--timeout"))
    _s3(s3_endpoint)
    with open_release(release) as rel:
        con = connect(rel, sandbox=sandbox)
        columns, rows = run_query(con, sql, sandbox)
        con.close()
    if as_json:
        click.echo(_dump([dict(zip(columns, r)) for r in rows]))
    elif as_csv:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        w.writerows([[json.dumps(v, default=_jsonable, ensure_ascii=False) if isinstance(v, (dict, list)) else v for v in r] for r in rows])
        click.echo(buf.getvalue(), nl=False)
    else:
        click.echo(_table(columns, rows))


def _cell(v, width: int) -> tuple[str, bool]:
    """A table cell and whether it was cut. Only free text (a value with whitespace) longer than `width` is cut,
    with a final `…`; a value without whitespace (a sha256, an id, a URL, a path) is printed whole, so that
    what an auditor copies from the table is the exact value."""
    s = "" if v is None else " ".join(str(v).split()) if isinstance(v, str) else \
        json.dumps(v, ensure_ascii=False, default=_jsonable) if isinstance(v, (dict, list)) else str(v)
    if len(s) > width and any(c.isspace() for c in s):
        return s[:width - 1] + "…", True
    return s, False


def _table(columns, rows, width: int = 60) -> str:
    cut = False
    cells = []
    for r in rows:
        row = []
        for v in r:
            text, was_cut = _cell(v, width)
            row.append(text)
            cut |= was_cut
        cells.append(row)
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = lambda vals: "  ".join(v.ljust(w) for v, w in zip(vals, widths)).rstrip()  # noqa: E731
    footer = f"({len(rows)} rows" + ("; free text cut at … — --json or --csv print every value whole)" if cut else ")")
    return "\n".join([line(columns), line(["-" * w for w in widths])] + [line(r) for r in cells] + [footer])


@audit.command("summary")
@click.argument("release")
@click.option("--json", "as_json", is_flag=True, help="Print the summary data as JSON instead of Markdown.")
@_endpoint
def summary_cmd(release, as_json, s3_endpoint):
    """The EU AI Act public summary of training content (AI Office template, July 2025), recounted from RELEASE."""
    from corpus_tools.release.store import connect, open_release
    from corpus_tools.release.summary import compute_summary, render_markdown

    _s3(s3_endpoint)
    with open_release(release) as rel:
        r = rel.release
        con = connect(rel)
        data = compute_summary(con, r["inputs"],
                               {k: r[k] for k in ("release_id", "version", "merkle_root", "documents_root")})
        con.close()
    click.echo(_dump(data) if as_json else render_markdown(data))


@audit.command("takedown")
@click.argument("release")
@click.option("--url", "urls", multiple=True, help="URL of a document to remove (exact match; repeatable).")
@click.option("--domain", "domains", multiple=True, help="Registered domain whose documents are removed (repeatable).")
@click.option("--id", "ids", multiple=True, help="Document id to remove (repeatable).")
@click.option("--reason", default="takedown request", show_default=True, help="Request reference stored in the ledger (no personal data).")
@click.option("--output", required=True, help="Directory or s3:// prefix of the new release (must be new or empty).")
@click.option("--json", "as_json", is_flag=True, help="Print the diff (takedown.json) as JSON.")
@_endpoint
def takedown_cmd(release, urls, domains, ids, reason, output, as_json, s3_endpoint):
    """Write a new release without the given documents (ledger reason `takedown`, new roots, a diff in
    takedown.json); RELEASE itself is not modified."""
    from corpus_tools.audit.takedown import takedown

    _s3(s3_endpoint)
    diff = takedown(release, output, urls=urls, domains=domains, ids=ids, reason=reason)
    if as_json:
        click.echo(_dump(diff))
        return
    o, n = diff["old_release"], diff["new_release"]
    click.echo(f"new release {n['release_id']} (version {n['version']}) at {output}: removed {len(diff['removed'])} documents; "
               f"{len(diff['shards_changed'])} shards rewritten, {len(diff['shards_removed'])} dropped; ledger {diff['ledger_file']}")
    click.echo(f"shards root {o['merkle_root']} -> {n['merkle_root']}")
    click.echo(f"documents root {o['documents_root']} -> {n['documents_root']}")


@audit.command("build")
@click.argument("output")
@_endpoint
def build_cmd(output, s3_endpoint):
    """(Re)write the release files (manifests/, summary.json, croissant.json, release.json) of a run's OUTPUT."""
    from corpus_tools.release import build_release

    _s3(s3_endpoint)
    r = build_release(output)
    c = r["conservation"]
    click.echo(f"release {r['release_id']} (version {r['version']}): {r['totals']['shards']} shards, {c['documents_kept']} documents, "
               f"{c['records_excluded']} exclusions, conservation {'ok' if c['ok'] else 'BROKEN'}; root {r['merkle_root']}")
    if not c["ok"]:
        raise VerificationError(f"conservation broken: read {c['records_read']} != kept {c['documents_kept']} + excluded {c['records_excluded']}")


