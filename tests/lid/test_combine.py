"""The combined identifier: beats or ties the backends on a fixed real sample; Serbian scripts; `other`."""

import json
from pathlib import Path

import numpy as np
import pytest

from corpus_tools.core.errors import ConfigError
from corpus_tools.core.languages import OTHER, registry
from tools import lid_report as report
from corpus_tools.lid.backends import BACKENDS, get_backend
from corpus_tools.lid.bcms import BcmsDiscriminator
from corpus_tools.lid.combine import COMBINER_FILE, LONG, SAMPLE_CHARS, CombinedLid, load_combiner, sample_text
from tools.lid_fit import fit_trust
from corpus_tools.lid.evaluate import read_dev, score, to_eval_codes

SAMPLE = Path(__file__).parents[1] / "data" / "lid" / "udhr_sample.tsv"
SR_CYRL = "Сва људска бића рађају се слободна и једнака у достојанству и правима. Она су обдарена разумом и свешћу."
SR_LATN = "Sva ljudska bića rađaju se slobodna i jednaka u dostojanstvu i pravima. Ona su obdarena razumom i svešću."


def test_combined_is_within_a_point_of_every_backend_on_macro_f1_of_the_sample():
    """The shipped model on a fixed real sample (rows it was fitted on: a behaviour check; the out-of-source
    figures are language_ids/EVAL.md's)."""
    data = read_dev(SAMPLE)
    gold = [g for g, _ in data]
    lid = CombinedLid()
    combined = score(gold, to_eval_codes([lid.identify(t).label for _, t in data]), 1.0)
    for name in BACKENDS:
        be = get_backend(name)
        labels = [be.predict(t, k=1)[0][0] for _, t in data]
        single = score(gold, to_eval_codes([lab if lab in registry() else OTHER for lab in labels]), 1.0)
        assert combined["macro_eu24"]["f1"] >= single["macro_eu24"]["f1"] - 0.01, name
        assert combined["macro_all"]["f1"] >= single["macro_all"]["f1"] - 0.01, name


def test_serbian_script_is_part_of_the_label():
    lid = CombinedLid()
    # the same words are valid Serbian, Bosnian and Montenegrin (and Croatian in Latin script): the
    # standard is the identifier's call, the script must be measured
    assert lid.identify(SR_CYRL).label in {"srp_Cyrl", "bos_Cyrl", "cnr_Cyrl"}
    assert lid.identify(SR_LATN).label in {"srp_Latn", "hrv_Latn", "bos_Latn", "cnr_Latn"}


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


def test_sample_is_the_whole_short_text_or_three_windows_of_whole_words():
    assert sample_text("  Dobar   dan,\nkako ste? ") == "Dobar dan, kako ste?"
    words = [f"w{i:04d}" for i in range(400)]                     # 2,000 characters
    sample = sample_text(" ".join(words))
    got = sample.split()
    assert set(got) <= set(words) and len(sample) <= SAMPLE_CHARS
    assert got[0] == "w0000" and got[-1] == "w0399"              # the start and the end ...
    assert any("w0190" <= w <= "w0210" for w in got)              # ... and the middle
    assert len(sample_text("x" * 5000)) <= SAMPLE_CHARS + 2            # one long token: pieces stay whole


def test_batch_and_single_identification_agree():
    lid = CombinedLid()
    texts = [t for _, t in read_dev(SAMPLE)][::3] + ["", "Guten Tag!", "x" * 3000]
    batch = lid.identify_batch(texts)
    assert lid.identify_batch([]) == []
    for t, b in zip(texts, batch):
        one = lid.identify(t)
        assert (one.label, one.score, one.top, one.backends_run) == (b.label, b.score, b.top, b.backends_run)


def test_evaluation_simulates_the_runtime_cascade_exactly():
    """language_ids/EVAL.md scores the cascade with report.cascade on cached backend outputs: it must decide
    what CombinedLid decides, row for row, with the shipped weights."""
    rows = read_dev(SAMPLE)
    d = report._dataset("sample", rows, SAMPLE)
    model = load_combiner()
    weights = {**{k: {b: np.asarray(v) for b, v in w.items()} for k, w in model["weights"].items()},
               "train_share": np.asarray(model["train_share"])}
    labels, scores, runs = report.cascade(report.posteriors(d, weights), np.array(d["n_chars"]) >= LONG,
                                          load_combiner()["p_exit"], d["outs"], d["texts"], d["scripts"],
                                          BcmsDiscriminator.default())
    live = CombinedLid().identify_batch([t for _, t in rows])
    assert labels == [r.label for r in live]
    assert list(runs) == [len(r.backends_run) for r in live]
    assert np.allclose(scores, [r.score for r in live], atol=1e-4)


def test_a_label_is_kept_when_its_confusable_group_holds_the_posterior():
    lid = CombinedLid()
    post = np.zeros(len(lid.classes))
    i = {c: k for k, c in enumerate(lid.classes)}
    post[[i["hrv_Latn"], i["srp_Latn"], i["bos_Latn"]]] = 0.35, 0.3, 0.25    # unsure which standard
    post[i["deu_Latn"]] = 0.1
    assert lid.abstain.keeps(post, i["hrv_Latn"])
    post[:] = 0
    t = lid.abstain.min_score[i["eng_Latn"]]                                    # lid_thresholds.tsv
    post[[i["eng_Latn"], i["deu_Latn"], i["nld_Latn"]]] = t - 0.1, (1.1 - t) / 2, (1.1 - t) / 2  # unsure of everything
    assert not lid.abstain.keeps(post, i["eng_Latn"])
    r = lid.result(post, {"lid176": [("eng_Latn", 0.3)]})
    assert r.label == OTHER and r.below_threshold and r.top[0] == ("eng_Latn", round(t - 0.1, 4))


def test_trust_model_fit_is_deterministic_and_learns_which_backend_to_trust():
    """Two synthetic backends over three classes: backend 0 is right on class 0 only, backend 1 on the others;
    the fitted model follows each backend where it is right."""
    from corpus_tools.lid.trust import Encoder, TrustModel

    classes = ["deu_Latn", "fra_Latn", "ita_Latn", OTHER]
    rng = np.random.default_rng(0)
    raws, y = [], []
    for _ in range(600):
        gold = int(rng.integers(0, 3))
        wrong = classes[(gold + 1) % 3]
        good = [(classes[gold], 0.9)]
        raws.append({"a": good if gold == 0 else [(wrong, 0.9)], "b": good if gold else [(wrong, 0.9)]})
        y.append(gold)
    enc = Encoder(("a", "b"), classes, n_markers=6)
    x = enc.encode(raws, ["Latn"] * len(raws), [False] * len(raws), [None] * len(raws))
    W = fit_trust(x, np.array(y), 6, len(classes), 6, l2=1e-4, l2_dev=1e-3)
    pred = TrustModel(W).posterior(x).argmax(axis=1)
    assert (pred == np.array(y)).mean() > 0.98
    again = fit_trust(x, np.array(y), 6, len(classes), 6, l2=1e-4, l2_dev=1e-3)
    assert all(np.array_equal(W[k], again[k]) for k in W)


def test_a_backend_sure_of_a_non_target_language_is_not_below_threshold():
    """When lid.176 is sure of a non-target language the text is `other` for that reason (ledger reason
    non_target_language), even where the model's best class is a target it holds strongly."""
    lid = CombinedLid()
    post = np.zeros(len(lid.classes))
    i = {c: k for k, c in enumerate(lid.classes)}
    post[i["deu_Latn"]], post[i[OTHER]] = 0.9, 0.1
    r = lid.result(post, {"lid176": [("afr_Latn", 0.97)]})
    assert r.label == OTHER and not r.below_threshold and r.top[0] == ("deu_Latn", 0.9)
    r = lid.result(post, {"lid176": [("afr_Latn", 0.5)], "py3langid": [("deu_Latn", 0.95)]})
    assert r.label == "deu_Latn"                               # not sure of the non-target: the model decides


def test_a_combiner_fitted_for_other_marker_classes_is_refused_with_the_fix(tmp_path):
    model = json.loads(COMBINER_FILE.read_text(encoding="utf-8"))
    model["marker_classes"] = model["marker_classes"][:-1]
    stale = tmp_path / "lid_combiner.json"
    stale.write_text(json.dumps(model), encoding="utf-8")
    with pytest.raises(ConfigError, match="marker classes.*make lid-eval"):
        load_combiner(str(stale))


def test_without_lingua_on_short_texts_a_short_text_ends_after_py3langid():
    """The pipeline's setting (CascadeLid's default): a text of under 120 letters is not sent to lingua; a longer
    one still is, and the short one still gets its language."""
    short = "Dobar dan, kako ste danas?"
    assert "lingua" in CombinedLid().identify(short).backends_run   # the cascade would send it on
    cut = CombinedLid(lingua_short_texts=False)
    r = cut.identify(short)
    assert r.backends_run == ["lid176", "py3langid"] and r.label in {"hrv_Latn", "bos_Latn", "srp_Latn"}
    long = " ".join([short] * 7)   # 140 letters, a short sample (< LONG): not sure enough to exit early
    assert "lingua" in cut.identify(long).backends_run


def test_py3langid_sure_of_a_language_lid176_cannot_name_makes_the_text_other():
    """Faroese (UDHR, ../shared/data/lid/udhr.tsv): lid.176 has no Faroese and is sure of Icelandic; py3langid
    knows Faroese and is sure of it. lid.176's sureness says nothing about a language it cannot name."""
    faroese = ("Tað verður at viðurkenna, at menniskjuni er virðing íborin, og at allir limir mannaættarinnar "
               "eiga sama og ómissandi rætt, og er hetta grundarlagið undir frælsi, rættvísi og friði í heiminum.")
    r = CombinedLid().identify(faroese)
    assert r.label == OTHER and r.raw["py3langid"][0][0] == "fo_Latn", r
    assert r.raw["lid176"][0][0] == "isl_Latn" and r.raw["lid176"][0][1] >= 0.9
    lid = CombinedLid()
    post = np.zeros(len(lid.classes))
    post[lid.classes.index("isl_Latn")] = 1.0
    sure_is = [("isl_Latn", 0.97)]
    assert lid.result(post, {"lid176": sure_is, "py3langid": [("fo_Latn", 0.99)]}).label == OTHER
    # a non-target lid.176 can name (Danish is a target, so: Low German) leaves lid.176's sure target standing
    assert lid.result(post, {"lid176": sure_is, "py3langid": [("nds_Latn", 0.99)]}).label == "isl_Latn"


def test_lingua_alone_vouches_for_no_target_the_other_backends_do_not_rank():
    """lingua is built over the target languages only: its 1.0 for Swedish on a Romani text (UDHR) says which
    target the text is most like, not that it is one. It vouches when another backend ranks the target too."""
    lid = CombinedLid()
    post = np.zeros(len(lid.classes))
    post[lid.classes.index(OTHER)] = 1.0
    raw = {"lid176": [("hbs_Latn", 0.15), ("eng_Latn", 0.1)], "py3langid": [("sqi_Latn", 0.29), ("bos_Latn", 0.2)],
           "lingua": [("swe_Latn", 1.0)]}
    assert lid.result(post, raw).label == OTHER
    raw["py3langid"].append(("swe_Latn", 0.1))
    r = lid.result(post, raw)
    assert r.label == "swe_Latn" and r.rescued
