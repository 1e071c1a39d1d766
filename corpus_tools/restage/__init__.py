"""Re-run one stage (or a chain) over an existing release: re-filter, re-identify or re-dedup without re-extracting.

    corpus stages                                              # every stage, its parameters and versions
    corpus stage quality --input out/sample --output out/strict --param min_stop_words=3
    corpus stage rights --input out/sample --output out/drop --param policy=my-policy.json
    corpus stage dedup --input out/crawl2 --output out/crawl2-dedup --param index=out/crawl1

This package keeps what a restage needs beyond the recipe: the stages read from the recipe's own steps
(`stages.py`), reading a parent release back and re-hydrating records from their WARC pointer (`reader.py`),
and the restage pipeline's own steps (`steps.py`: revival, wrappers, superseded rows, revived dedup). The
driver is `corpus_tools.run.restage`; lineage tracing is `corpus_tools.audit.trace`.
"""
