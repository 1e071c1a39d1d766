"""The combined identifier: beats or ties the backends on a fixed real sample; Serbian scripts; `other`."""

from pathlib import Path

from corpus_tools.languages import OTHER, registry
from corpus_tools.lid.backends import BACKENDS, get_backend
from corpus_tools.lid.combine import CombinedLid
from corpus_tools.lid.evaluate import read_dev, score, to_eval_codes

SAMPLE = Path(__file__).parents[1] / "data" / "lid" / "udhr_sample.tsv"
SR_CYRL = "Сва људска бића рађају се слободна и једнака у достојанству и правима. Она су обдарена разумом и свешћу."
SR_LATN = "Sva ljudska bića rađaju se slobodna i jednaka u dostojanstvu i pravima. Ona su obdarena razumom i svešću."


def test_combined_beats_every_backend_on_macro_f1_of_the_sample():
    data = read_dev(SAMPLE)
    gold = [g for g, _ in data]
    lid = CombinedLid()
    combined = score(gold, to_eval_codes([lid.identify(t).label for _, t in data]), 1.0)
    for name in BACKENDS:
        be = get_backend(name)
        labels = [be.predict(t, k=1)[0][0] for _, t in data]
        single = score(gold, to_eval_codes([lab if lab in registry() else OTHER for lab in labels]), 1.0)
        assert combined["macro_eu24"]["f1"] >= single["macro_eu24"]["f1"], name
        assert combined["macro_all"]["f1"] > single["macro_all"]["f1"], name


def test_serbian_script_is_part_of_the_label():
    lid = CombinedLid()
    assert lid.identify(SR_CYRL).label == "srp_Cyrl"
    latn = lid.identify(SR_LATN)
    assert latn.label in {"srp_Latn", "hrv_Latn", "bos_Latn"}   # the same words are valid in all three
    assert latn.label.endswith("_Latn")


def test_result_shape_and_cascade_order():
    lid = CombinedLid()
    r = lid.identify("Alle Menschen sind frei und gleich an Würde und Rechten geboren. Sie sind mit Vernunft "
                     "und Gewissen begabt und sollen einander im Geist der Brüderlichkeit begegnen.")
    assert r.label == "deu_Latn" and 0.5 < r.score <= 1
    assert len(r.top) == 3 and r.top[0] == ("deu_Latn", r.score)
    assert r.backends_run[0] == "lid176"                       # the cheap backend always runs first


def test_non_target_language_is_other():
    r = CombinedLid().identify("すべての人間は、生まれながらにして自由であり、かつ、尊厳と権利とについて平等である。")
    assert r.label == OTHER and r.top[0][0] == "jpn_Jpan"   # the evidence names the language
