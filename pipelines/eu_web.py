"""The default EU web pipeline: WARC -> extract -> language ID -> Parquet shards + exclusions ledger.

Run it:
    corpus run pipelines/eu_web.py --input ../shared/data/warc/dev --output out/dev
    corpus run eu_web --input 's3://bucket/crawl/**/*.warc.gz' --output s3://bucket/out --executor ray

Recipe parameters (`--param key=value`): keep_other=true routes non-target languages to `lang=other`.
label_only=true computes quality signals and masks PII but excludes nothing for quality or PII density.
dedup=false skips deduplication; dedup_* parameters: see README "Deduplication" (corpus_tools/dedup/).
policy=PATH uses another rights policy (default manifests/policy-v2.json; manifests/policy-strict-v1.json
also keeps copyright-notice pages out of training); `--robots PATH` adds robots.txt
captures (README "Rights, licences and opt-outs").
max_payload_bytes=N skips larger records unread (reason `oversized`; default 5000000).
"""

from corpus_tools import storage
from corpus_tools.dedup import STAGING, dedup_phases
from corpus_tools.readers.warc import WarcRecordReader
from corpus_tools.release import ReleaseStep
from corpus_tools.run import Phase, RunOptions
from corpus_tools.stages.extract import TrafilaturaExtractor
from corpus_tools.stages.lid import CascadeLid
from corpus_tools.stages.pii import PiiMasker
from corpus_tools.stages.quality import QualityRules, QualitySignals
from corpus_tools.stages.rights import RightsDecision
from corpus_tools.stages.signals import HtmlSignals
from corpus_tools.stages.write import ShardWriter


def build(opts: RunOptions) -> list[Phase]:
    keep_other = opts.params.get("keep_other", "false").lower() == "true"
    label_only = opts.params.get("label_only", "false").lower() == "true"
    dedup = opts.params.get("dedup", "true").lower() == "true"
    policy = opts.params.get("policy") or None
    docs = [
        WarcRecordReader(opts.files, limit=opts.limit,
                         max_payload_bytes=int(opts.params.get("max_payload_bytes", 5_000_000))),
        HtmlSignals(policy_path=policy),
        TrafilaturaExtractor(),
        CascadeLid(keep_other=keep_other),
        RightsDecision(policy_path=policy, robots=storage.expand_inputs(opts.robots) if opts.robots else []),
        QualitySignals(),
        QualityRules(label_only=label_only),
        PiiMasker(label_only=label_only),
        # with dedup on, per-document output is staged; the dedup phases write the final shards/
        ShardWriter(opts.output, opts.run_id, shards_dir=STAGING if dedup else "shards"),
    ]
    phases = [Phase("docs", docs, tasks=opts.tasks)] + (dedup_phases(opts) if dedup else [])
    # last: manifests, Merkle roots, release.json, croissant.json, summary.json over the final shards/
    return phases + [Phase("release", [ReleaseStep(opts.output)], tasks=1)]
