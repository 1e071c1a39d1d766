"""The registry and each LID backend on real dev paragraphs (tests/data/lid/udhr_sample.tsv)."""

from pathlib import Path

import pytest

from corpus_tools.core.languages import registry
from corpus_tools.lid.backends import get_backend
from corpus_tools.lid.evaluate import read_dev

SAMPLE = Path(__file__).parents[1] / "data" / "lid" / "udhr_sample.tsv"
ISSUE_LANGUAGES = ("bg hr cs da nl en et fi fr de el hu ga it lv lt mt pl pt ro sk sl es sv "
                   "sq bs sr cnr mk tr uk ka hy be ru nb nn is ca eu gl cy lb").split()


def test_registry_covers_the_issue_languages_with_backend_labels():
    reg = registry()
    codes = {x.iso639_1 or x.iso639_3 for x in reg.values()}
    assert set(ISSUE_LANGUAGES) <= codes
    assert {"srp_Cyrl", "srp_Latn"} <= set(reg)
    assert sum(x.status == "eu_official" for x in reg.values()) == 24
    assert reg["nob_Latn"].py3langid == "no" and reg["nob_Latn"].lingua == "BOKMAL"
    # lingua has no Maltese, Galician, Luxembourgish or Montenegrin: the registry must say so
    assert {x.iso639_3 for x in reg.values() if x.lingua is None} == {"mlt", "glg", "ltz", "cnr"}


def rows(code):
    return [t for c, t in read_dev(SAMPLE) if c == code]


@pytest.mark.parametrize("name", ["lid176", "py3langid", "lingua"])
def test_backend_identifies_real_paragraphs(name):
    backend = get_backend(name)
    for code, label in (("de", "deu_Latn"), ("pl", "pol_Latn"), ("el", "ell_Grek"), ("uk", "ukr_Cyrl")):
        for text in rows(code)[:2]:
            top = backend.predict(text, k=3)
            assert top[0][0] == label, (name, code, top)
            assert len(top) == 3 and 0 <= top[0][1] <= 1 and top[0][1] >= top[1][1]


def test_script_is_measured_from_the_text():
    backend = get_backend("py3langid")
    assert backend.predict("Сва људска бића рађају се слободна и једнака у достојанству и правима.")[0][0] == "srp_Cyrl"
    assert backend.predict("Sva ljudska bića rađaju se slobodna i jednaka u dostojanstvu i pravima.")[0][0].endswith("_Latn")


def test_unknown_backend_is_a_config_error():
    from corpus_tools.core.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown LID backend"):
        get_backend("nope")
    with pytest.raises(ConfigError, match="not found"):
        get_backend("fasttext:/nonexistent/model.bin")


LINGUA_MEMORY = """
import sys
from corpus_tools.lid.backends import LinguaBackend, _lingua_detector

def rss():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1]) // 1024

text = sys.argv[1]
detector, before = _lingua_detector(), rss()
for n in (LinguaBackend.FULL_MODELS_BELOW, LinguaBackend.FULL_MODELS_BELOW - 1):
    cut = text[:next(i for i in range(len(text) + 1) if sum(c.isalpha() for c in text[:i]) == n)]
    assert LinguaBackend.needs_full_models(cut) == (n < LinguaBackend.FULL_MODELS_BELOW)
    detector.compute_language_confidence_values(cut)
    print(rss() - before)
    before = rss()
"""


@pytest.mark.slow
def test_lingua_loads_its_full_models_only_for_texts_under_120_letters():
    """What `CombinedLid(lingua_short_texts=False)` relies on: lingua reads a text of 120 letters with its trigram
    models (tens of MB), one of 119 with all its n-gram models (hundreds of MB). A lingua release that moves the
    boundary fails here instead of silently bringing the memory back."""
    import subprocess
    import sys

    text = " ".join(rows("de"))
    out = subprocess.run([sys.executable, "-c", LINGUA_MEMORY, text], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parents[2])
    trigrams, full = map(int, out.stdout.split())
    assert trigrams < 150 and full > 400, (trigrams, full)
