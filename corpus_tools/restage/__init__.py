"""Re-run one stage (or a chain) over an existing release: re-filter, re-identify or re-dedup without re-extracting.

    corpus stages                                              # every stage, its parameters and versions
    corpus stage quality --input out/sample --output out/strict --param min_stop_words=3
    corpus stage rights --input out/sample --output out/drop --param policy=my-policy.json
    corpus stage dedup --input out/crawl2 --output out/crawl2-dedup --param index=out/crawl1
    corpus stage quality --input out/sample --output /tmp/x --param min_stop_words=3 --dry-run

Library: `restage(stages, parent, output, params)` runs through the same driver as `corpus run`
(`executors.run_phases`: local or Ray, completed tasks skipped on re-run):

    docs     ReleaseShardReader (parent shards + the parent ledger rows the stage may now keep)
             -> ReviveCandidates (re-fetch the WARC record, re-run the parent's steps before the stage)
             -> the stage's new steps -> the parent's later steps for revived documents only
             -> ShardWriter (revived documents of a deduplicated parent: a second writer) -> SupersededWriter
    dedup_*  the four dedup phases, when the chain includes `dedup`; else revived_dedup_* + merge_revived when
             the parent was deduplicated (revived documents against the parent's index)
    release  build_release + the lineage block in release.json

- `registry.py`: the stage table (parameters with type, default, unit; versions; how to build the steps).
- `reader.py`: Parquet rows -> datatrove Documents; ledger carry-over; re-hydration from the WARC pointer.
- `driver.py`: the phases, lineage (run.json, release.json), dry-run counts.
- `cli.py`: the `corpus stages` and `corpus stage` commands.
"""

from corpus_tools.restage.driver import dry_run, restage
from corpus_tools.restage.registry import STAGES

__all__ = ["STAGES", "dry_run", "restage"]
