"""`CascadeLid` (annotator) and `LanguageRule` (rule): columns, flags, non-target exclusion with evidence, keep_other."""

import json

from datatrove.data import Document

from corpus_tools.core.document import EXCLUSION_KEY, is_excluded
from corpus_tools.stages.lid import CascadeLid, LanguageRule, spread

DE = ("Alle Menschen sind frei und gleich an Würde und Rechten geboren. Sie sind mit Vernunft und Gewissen "
      "begabt und sollen einander im Geist der Brüderlichkeit begegnen.")
FR = ("Tous les êtres humains naissent libres et égaux en dignité et en droits. Ils sont doués de raison et "
      "de conscience et doivent agir les uns envers les autres dans un esprit de fraternité.")
JA = "すべての人間は、生まれながらにして自由であり、かつ、尊厳と権利とについて平等である。人間は、理性と良心とを授けられており、互いに同胞の精神をもって行動しなければならない。"


def run(step, text, rule=None, **meta):
    doc = Document(text=text, id="d1", metadata=dict(meta))
    for s in (step, rule or LanguageRule()):
        s.process(doc)
    return doc


def test_target_document_gets_label_score_top3_and_no_flags():
    doc = run(CascadeLid(), DE)
    assert doc.metadata["lang"] == "deu_Latn" and not is_excluded(doc)
    assert len(doc.metadata["lang_top"]) == 3 and doc.metadata["lang_top"][0]["label"] == "deu_Latn"
    assert doc.metadata["lang_flags"] == []


def test_non_target_goes_to_the_ledger_with_scores_not_text():
    annotated = Document(text=JA, id="d0")
    CascadeLid().process(annotated)
    assert annotated.metadata["lang"] == "other" and not is_excluded(annotated)  # the annotator never excludes
    doc = run(CascadeLid(), JA)
    ex = doc.metadata[EXCLUSION_KEY]
    assert ex["stage"] == "lid" and ex["reason"] == "non_target_language" and ex["rule"] == "lid_cascade_v3"
    evidence = json.loads(ex["evidence"])
    assert evidence["score"] > 0.5 and evidence["top"] and evidence["backends"][0] == "lid176"
    # every backend that ran names its own top label in the evidence
    assert set(evidence["backend_top"]) == set(evidence["backends"])
    assert evidence["backend_top"]["lid176"][0] == "jpn_Jpan"
    assert JA[:10] not in ex["evidence"]


def test_keep_other_routes_to_other_partition():
    doc = run(CascadeLid(), JA, rule=LanguageRule(keep_other=True))
    assert doc.metadata["lang"] == "other" and not is_excluded(doc)
    assert "_lid_verdict" not in doc.metadata  # working state is consumed by the rule


def test_a_stored_other_document_is_excluded_from_its_columns():
    """A restage of a keep_other release with keep_other=false: the rule decides from the stored columns."""
    kept = run(CascadeLid(), JA, rule=LanguageRule(keep_other=True))
    LanguageRule().process(kept)
    ex = kept.metadata[EXCLUSION_KEY]
    assert ex["reason"] == "non_target_language" and json.loads(ex["evidence"])["label"] == "jpn_Jpan"


def test_short_and_mixed_flags_and_paragraph_mode():
    assert "short" in run(CascadeLid(), "Guten Tag!").metadata["lang_flags"]
    mixed = run(CascadeLid(paragraph_mode=True), "\n".join([DE, FR, FR]))
    assert "mixed" in mixed.metadata["lang_flags"]
    assert [p["label"] for p in mixed.metadata["lang_paragraphs"]] == ["deu_Latn", "fra_Latn", "fra_Latn"]
    assert "mixed" not in run(CascadeLid(), "\n".join([DE, DE])).metadata["lang_flags"]


def test_the_mixed_check_reads_paragraphs_spread_over_the_whole_page():
    """A page whose last third is French is mixed: the check samples MAX_CHECKED paragraphs from start to end
    (reading only the first 20 would never see the French part)."""
    page = "\n".join([DE] * 20 + [FR] * 10)
    doc = run(CascadeLid(), page)
    assert doc.metadata["lang"] == "deu_Latn" and "mixed" in doc.metadata["lang_flags"]
    assert spread(list(range(30)), 8) == [0, 4, 8, 12, 17, 21, 25, 29] and spread([1, 2], 8) == [1, 2]


def test_html_lang_prior_is_off_by_default_and_weak_when_on():
    step = CascadeLid(html_lang_prior=True)
    assert step.hints(Document(text="x", id="1", metadata={"html_lang": "de-CH"})) == ["deu"]
    assert CascadeLid().lid.prior_weight == 1.0
    # a weak prior does not overturn a clear text
    assert run(step, FR, html_lang="de").metadata["lang"] == "fra_Latn"


def test_html_lang_hint_reaches_every_script_of_the_language():
    lid = CascadeLid(html_lang_prior=True).lid
    prior = lid._log_prior(["srp"])
    hinted = {c for c, v in zip(lid.classes, prior) if v > 0}
    assert hinted == {"srp_Cyrl", "srp_Latn"}
