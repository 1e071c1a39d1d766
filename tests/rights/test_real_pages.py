"""Real pages (../shared/data/warc/real): the licence classes a careful reader gives them.

Every HTML response in the real crawls goes through the real reader, HtmlSignals and RightsDecision. The set
of pages that get a licence is asserted exactly, so a new false positive fails the test too.
"""

from __future__ import annotations

import glob
import json
from collections import defaultdict

import pytest

from corpus_tools.core.document import is_excluded
from corpus_tools.readers.warc import WarcRecordReader
from corpus_tools.rights.decision import decide
from corpus_tools.rights.policy import STRICT_POLICY
from corpus_tools.stages.rights import RightsDecision
from corpus_tools.stages.signals import SIGNALS_KEY, HtmlSignals
from tests.conftest import WARC_REAL

ARR = ("LicenseRef-All-Rights-Reserved", "reserved")

# url -> (licence, redistribution), with the reason a careful reader agrees
EXPECTED = {
    # footer <div class="license">: "content on this site is licensed under a CC BY 4.0 license" (relative link);
    # the CC licences in figure captions / the image-attribution panel only cover pictures
    "https://creativecommons.org/": ("CC-BY-4.0", "attribution"),
    "https://creativecommons.org/mission/": ("CC-BY-4.0", "attribution"),
    "https://creativecommons.org/2024/03/28/cc-joins-civil-society-letter-urging-u-s-to-support-openness-and-transparency-in-ai/": ("CC-BY-4.0", "attribution"),
    "https://creativecommons.org/2024/04/23/cc-at-wipo-slow-progress-on-copyright-exceptions-for-cultural-heritage-institutions/": ("CC-BY-4.0", "attribution"),
    # <div id="license">"This website is licensed under" <a rel="license"> CC BY 4.0 (CC chooser markup)
    "https://soldaini.net/": ("CC-BY-4.0", "attribution"),
    # <link rel="copyright"> in head + footer <a rel="license"> CC BY-SA 3.0 (2 captures)
    "http://en.wikipedia.org/wiki/Mona_Lisa": ("CC-BY-SA-3.0", "sharealike"),
    # <link rel="license"> in head + footer link, CC BY-SA 4.0
    "https://an.wikipedia.org/wiki/Escopete": ("CC-BY-SA-4.0", "sharealike"),
    # footer "All rights reserved" notices
    "https://allenai.org/": ARR,
    "https://prior.allenai.org/": ARR,
    "https://allenai.org/reviz": ARR,
    "http://localhost:8000/taylor.html": ARR,
    "http://037426.cn/": ARR,
    "http://0513mt.com/index.php/art/detail/id/8884.html": ARR,
    "http://05925.net/index.php/vod/type/id/53.html": ARR,
    "http://0755krk.com/76104/list_4_1.html": ARR,
}


@pytest.fixture(scope="module")
def decided():
    files = sorted(glob.glob(str(WARC_REAL / "**" / "*.warc*"), recursive=True))
    files = [f for f in files if not f.endswith(".wet.gz")]
    assert files, f"no real WARCs under {WARC_REAL}"
    signals, rights = HtmlSignals(), RightsDecision()
    docs = [d for d in rights.run(signals.run(WarcRecordReader(files).run())) if not is_excluded(d)]
    assert len(docs) > 150
    return docs


def test_strict_policy_makes_exactly_the_notice_pages_untrainable(decided):
    strict = RightsDecision(policy_path=str(STRICT_POLICY))
    notice = {u for u, v in EXPECTED.items() if v == ARR}
    for d in decided:
        out = decide(d.metadata[SIGNALS_KEY], d.metadata["url"], d.metadata["warc_date"], None, strict.policy)
        assert out["train_eligible"] == (d.metadata["url"] not in notice) and out["optout_reasons"] == []
        assert (out["redistribution"], out["licence"]) == (d.metadata["redistribution"], d.metadata["licence"])


def test_licensed_pages_are_exactly_the_expected_ones(decided):
    got = defaultdict(set)
    for d in decided:
        if d.metadata["licence"]:
            got[d.metadata["url"]].add((d.metadata["licence"], d.metadata["redistribution"]))
    assert {u: v.pop() if len(v) == 1 else v for u, v in got.items()} == EXPECTED


def test_image_only_and_dataset_licences_do_not_make_pages_open(decided):
    by_url = {d.metadata["url"]: d.metadata for d in decided}
    # data.gov.uk terms page: rel="license" OGL in the body, about the datasets -> medium, not enough
    meta = by_url["http://data.gov.uk/terms-and-conditions"]
    assert meta["redistribution"] == "unknown"
    ev = json.loads(meta["licence_evidence"])
    assert {c["confidence"] for c in ev["candidates"]} == {"medium"}
    # creativecommons.org home: the BY-NC-SA and PDM image credits are recorded as media, not disagreement
    ev = json.loads(by_url["https://creativecommons.org/"]["licence_evidence"])
    assert {c["spdx"] for c in ev["candidates"] if c["scope"] == "media"} >= {"CC-BY-NC-SA-4.0", "LicenseRef-PDM-1.0"}
    assert ev["disagreement"] is False


def test_no_real_page_is_opted_out_and_noindex_is_not_an_optout(decided):
    # no machine-readable opt-out on any real page; footer "All rights reserved" notices are reserved, trainable
    notice = {u for u, v in EXPECTED.items() if v == ARR}
    for d in decided:
        assert d.metadata["optout_reasons"] == [] and d.metadata["train_eligible"] is True
        assert d.metadata["copyright_notice"] == (d.metadata["url"] in notice)
    noindex = [d for d in decided if json.loads(d.metadata["optout_evidence"]).get("noindex")]
    assert noindex and all(d.metadata["redistribution"] != "reserved" or d.metadata["licence"] for d in noindex)
