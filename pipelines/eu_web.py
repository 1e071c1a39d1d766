"""The default EU web pipeline: WARC -> extract -> language ID -> Parquet shards + exclusions ledger.

Run it:
    corpus run pipelines/eu_web.py --input ../shared/data/warc/dev --output out/dev
    corpus run eu_web --input 's3://bucket/crawl/**/*.warc.gz' --output s3://bucket/out --executor ray

Recipe parameters (`--param key=value`): keep_other=true routes non-target languages to `lang=other`.
"""

from corpus_tools.readers.warc import WarcRecordReader
from corpus_tools.run import Phase, RunOptions
from corpus_tools.stages.extract import TrafilaturaExtractor
from corpus_tools.stages.lid import FastTextLid
from corpus_tools.stages.write import ShardWriter


def build(opts: RunOptions) -> list[Phase]:
    keep_other = opts.params.get("keep_other", "false").lower() == "true"
    docs = [
        WarcRecordReader(opts.files, limit=opts.limit),
        TrafilaturaExtractor(),
        FastTextLid(keep_other=keep_other),
        ShardWriter(opts.output, opts.run_id),
    ]
    return [Phase("docs", docs, tasks=opts.tasks)]
