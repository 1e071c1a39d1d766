"""The Serbo-Croatian discriminator (corpus_tools.lid.bcms) with the shipped n-gram table: it separates the
standards on texts that show their differences, keeps the group's share of the posterior, and does nothing
when another language is ahead."""

import numpy as np

from corpus_tools.core.languages import OTHER
from corpus_tools.lid.bcms import BcmsDiscriminator, ngrams
from corpus_tools.lid.combine import CombinedLid

SERBIAN = ("Pre nedelju dana smo videli lepo mesto na severu, gde deca uvek provode vreme posle škole. "
           "Niko nije znao šta da radi, ali je svako hteo da pomogne, pa su hiljadu dinara dali za lek.")
CROATIAN = ("Prije tjedan dana vidjeli smo lijepo mjesto na sjeveru, gdje djeca uvijek provode vrijeme poslije "
            "škole. Nitko nije znao što učiniti, ali je svatko htio pomoći, pa su tisuću kuna dali za lijek.")
SERBIAN_CYRL = ("Пре недељу дана смо видели лепо место на северу, где деца увек проводе време после школе. "
                "Нико није знао шта да ради, али је свако хтео да помогне.")


def group_post(lid: CombinedLid, shares: dict[str, float]) -> np.ndarray:
    post = np.zeros(len(lid.classes))
    for label, p in shares.items():
        post[lid.classes.index(label)] = p
    return post


def test_ngrams_are_of_words_in_latin_letters():
    assert ngrams("Ко") == ngrams("ko") == {" ": 2, "k": 1, "o": 1, " k": 1, "ko": 1, "o ": 1, " ko": 1,
                                            "ko ": 1, " ko ": 1}
    assert ngrams("2024") == {}


def test_the_standards_are_told_apart_and_the_group_keeps_its_share():
    lid = CombinedLid()
    disc = BcmsDiscriminator.default()
    even = {"hrv_Latn": 0.3, "srp_Latn": 0.3, "bos_Latn": 0.3, "deu_Latn": 0.1}
    for text, want in ((SERBIAN, "srp_Latn"), (CROATIAN, "hrv_Latn")):
        post = disc.refine(group_post(lid, even), lid.classes, text, "Latn")
        assert lid.classes[int(post.argmax())] == want
        assert np.isclose(post.sum(), 1.0) and np.isclose(post[lid.classes.index("deu_Latn")], 0.1)
    post = disc.refine(group_post(lid, {"srp_Cyrl": 0.5, "bos_Cyrl": 0.5}), lid.classes, SERBIAN_CYRL, "Cyrl")
    assert lid.classes[int(post.argmax())] == "srp_Cyrl"


def test_nothing_changes_when_another_language_is_ahead_or_the_script_has_no_standards():
    lid = CombinedLid()
    disc = BcmsDiscriminator.default()
    ahead = group_post(lid, {"slv_Latn": 0.6, "hrv_Latn": 0.2, "srp_Latn": 0.2})
    assert np.array_equal(disc.refine(ahead, lid.classes, SERBIAN, "Latn"), ahead)
    greek = group_post(lid, {"ell_Grek": 0.9, OTHER: 0.1})
    assert np.array_equal(disc.refine(greek, lid.classes, SERBIAN, "Grek"), greek)


def test_the_combined_identifier_names_each_standard():
    lid = CombinedLid()
    assert lid.identify(SERBIAN).label == "srp_Latn"
    assert lid.identify(CROATIAN).label == "hrv_Latn"
    assert lid.identify(SERBIAN_CYRL).label == "srp_Cyrl"
