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
from corpus_tools.run import Param, Phase, RunOptions, check_params
from corpus_tools.stages.extract import TrafilaturaExtractor
from corpus_tools.stages.lid import CascadeLid
from corpus_tools.stages.pii import PiiMasker
from corpus_tools.stages.quality import QualityRules, QualitySignals
from corpus_tools.stages.rights import RightsDecision
from corpus_tools.stages.signals import HtmlSignals
from corpus_tools.stages.write import ShardWriter


# every `--param` this recipe takes; `corpus run` refuses any other key, or a value of the wrong type
PARAMS = {
    "keep_other": Param(bool, False, "route non-target languages to lang=other instead of the ledger"),
    "label_only": Param(bool, False, "compute quality signals and mask PII, exclude nothing for quality or PII"),
    "dedup": Param(bool, True, "deduplicate (false: the docs phase writes shards/ directly)"),
    "policy": Param(str, "", "rights policy file (default: the policy corpus_tools.rights.policy loads)"),
    "max_payload_bytes": Param(int, 5_000_000, "records larger than this are skipped unread (`oversized`)"),
    "dedup_tasks": Param(int, 4, "tasks per dedup phase"),
    "dedup_ranges": Param(int, 1, "hash ranges per band"),
    "dedup_partition_edges": Param(int, 1_000_000, "duplicate edges per clustering partition (memory per task)"),
    "dedup_threshold": Param(float, 0.8, "estimated Jaccard for a near-duplicate"),
    "dedup_ngram": Param(int, 5, "word n-gram shingles"),
    "dedup_bands": Param(int, 32, "LSH bands"),
    "dedup_rows": Param(int, 8, "rows per band"),
    "dedup_index": Param(str, "", "earlier release(s) to deduplicate against, comma-separated"),
}


def build(opts: RunOptions) -> list[Phase]:
    p = check_params(PARAMS, opts.params)
    keep_other, label_only, dedup, policy = p["keep_other"], p["label_only"], p["dedup"], p["policy"] or None
    docs = [
        WarcRecordReader(opts.files, limit=opts.limit, max_payload_bytes=p["max_payload_bytes"]),
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
