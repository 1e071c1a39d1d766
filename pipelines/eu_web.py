"""The default EU web pipeline: WARC -> extract -> language ID -> rights -> quality -> PII -> Parquet shards +
exclusions ledger -> dedup -> release. Annotators add columns; rules (`LanguageRule`, `RightsRule`,
`QualityRules`, `PiiDensityRule`, dedup) decide.

Run it:
    corpus run pipelines/eu_web.py --input ../shared/data/warc/dev --output out/dev
    corpus run eu_web --input 's3://bucket/crawl/**/*.warc.gz' --output s3://bucket/out --executor ray

Recipe parameters (`--param key=value`): extractor=cascade extracts with resiliparse and leaves to trafilatura
only the pages where resiliparse's output looks unreliable (~2x less extraction CPU, lower F1 on held-out pages:
benchmarks/RESULTS.md "Extraction quality"; default `trafilatura`). keep_other=true routes non-target languages
to `lang=other`.
label_only=true computes quality signals and masks PII but excludes nothing for quality or PII density.
dedup=false skips deduplication; dedup_* parameters: see README "Deduplication" (corpus_tools/dedup/).
policy=PATH uses another rights policy (default manifests/policy-v2.json; manifests/policy-strict-v1.json
also keeps copyright-notice pages out of training); `--robots PATH` adds robots.txt
captures (README "Rights, licences and opt-outs").
max_payload_bytes=N skips larger records unread (reason `oversized`; default: WarcRecordReader's, 5,000,000).
"""

from corpus_tools.core import storage
from corpus_tools.dedup import DEDUP_PARAMS, STAGING, dedup_phases
from corpus_tools.readers.warc import WarcRecordReader
from corpus_tools.release import ReleaseStep
from corpus_tools.core.recipe import Param, Phase, RunOptions, check_params
from corpus_tools.stages.extract import EXTRACTORS, make_extractor
from corpus_tools.stages.lid import CascadeLid, LanguageRule
from corpus_tools.stages.pii import PiiDensityRule, PiiMasker
from corpus_tools.stages.quality import QualityRules, QualitySignals
from corpus_tools.stages.rights import RightsDecision, RightsRule
from corpus_tools.stages.signals import HtmlSignals
from corpus_tools.stages.write import ShardWriter


# every `--param` this recipe takes; `corpus run` refuses any other key, or a value of the wrong type
PARAMS = {
    "extractor": Param(str, "trafilatura", f"main-text extractor: {' or '.join(EXTRACTORS)} (corpus_tools/stages/extract.py)"),
    "keep_other": Param.of(LanguageRule, "keep_other", "route non-target languages to lang=other instead of the ledger"),
    "label_only": Param.of(QualityRules, "label_only", "compute quality signals and mask PII, exclude nothing for quality or PII"),
    "dedup": Param(bool, True, "deduplicate (false: the docs phase writes shards/ directly)"),
    "policy": Param(str, "", "rights policy file (default: the policy corpus_tools.rights.policy loads)"),
    "max_payload_bytes": Param.of(WarcRecordReader, "max_payload_bytes", "records larger than this are skipped unread (`oversized`)"),
    **DEDUP_PARAMS,  # dedup_tasks, dedup_ranges, dedup_partition_edges, dedup_threshold/ngram/bands/rows, dedup_index
}


def build(opts: RunOptions) -> list[Phase]:
    p = check_params(PARAMS, opts.params)
    keep_other, label_only, dedup, policy = p["keep_other"], p["label_only"], p["dedup"], p["policy"] or None
    docs = [
        WarcRecordReader(opts.files, limit=opts.limit, max_payload_bytes=p["max_payload_bytes"]),
        HtmlSignals(policy_path=policy),
        make_extractor(p["extractor"]),
        CascadeLid(),
        LanguageRule(keep_other=keep_other),
        RightsDecision(policy_path=policy, robots=storage.expand_inputs(opts.robots) if opts.robots else []),
        RightsRule(policy_path=policy),
        QualitySignals(),
        QualityRules(label_only=label_only),
        PiiMasker(),
        PiiDensityRule(label_only=label_only),
        # with dedup on, per-document output is staged; the dedup phases write the final shards/
        ShardWriter(opts.output, opts.run_id, shards_dir=STAGING if dedup else "shards"),
    ]
    phases = [Phase("docs", docs, tasks=opts.tasks)] + (dedup_phases(opts) if dedup else [])
    # last: manifests, Merkle roots, release.json, croissant.json, summary.json over the final shards/
    return phases + [Phase("release", [ReleaseStep(opts.output)], tasks=1)]
