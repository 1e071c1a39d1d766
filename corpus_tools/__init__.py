"""corpus-tools: WARC crawls -> curated, licence-aware, multilingual Parquet shards with audit evidence.

Use it through the `corpus` command (see README.md) or import the stages from `corpus_tools.stages`.
"""

__version__ = "0.1.0"
