"""Offline tools of the project: fitting and report writing, run from a checkout, never by the pipeline.

    python -m tools.lid_report [--fit]      # language_ids/EVAL.md (and lid_combiner.json): `make lid-eval`
    python -m tools.quality_calibrate       # language_ids/quality_recalibrated.tsv and its threshold cells

The runtime package `corpus_tools` does not import this one (tests/lid/test_tools.py checks it); what they
need beyond the runtime's dependencies is in the `dev` extra of pyproject.toml (scipy, whose L-BFGS the fits
use, is a runtime dependency: dedup's connected components).
"""
