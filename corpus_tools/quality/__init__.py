"""Per-language quality filtering, annotate first, decide second.

- `signals.py`: `compute_signals(text, lang)` -> every measure once per document (the `quality` column).
- `thresholds.py`: the per-language table `language_ids/quality_thresholds.tsv` and `language_ids/stopwords/`.
- `rules.py`: named, versioned rules; `decide(quality, lang, thresholds)` re-derives every decision from the
  stored signals alone, so a later tool can re-decide with new thresholds without recomputing.

The pipeline steps that use them are in `corpus_tools/stages/quality.py`.
"""
