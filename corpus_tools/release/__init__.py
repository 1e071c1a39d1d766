"""Releases: shard manifests, Merkle roots, release.json, croissant.json and the AI Act summary data.

    from corpus_tools.release import build_release
    build_release("out/sample")        # also the last phase of pipelines/eu_web.py (ReleaseStep)

Layout and naming: `corpus_tools.core.layout`; hashing: `corpus_tools.release.merkle`.
"""

from corpus_tools.release.build import ReleaseStep, build_release

__all__ = ["ReleaseStep", "build_release"]
