"""Exact duplicates: one 64-bit hash of the normalised text.

`normalise_text` is also what MinHash shingles are cut from, so "exact" means "equal after normalisation":
NFKC, lower case, punctuation replaced by spaces, whitespace runs collapsed. Two pages that differ only in
casing, quotes or line breaks are exact duplicates. Used by `corpus_tools.dedup.minhash.MinhashSignatures`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Rule names land in the exclusions ledger; bump the version when the normalisation changes.
EXACT_RULE = "exact_v1"
NORMALISATION_VERSION = "nfkc-lower-nopunct-v1"

_PUNCT = re.compile(r"[^\w\s]+", re.UNICODE)


def normalise_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    return " ".join(_PUNCT.sub(" ", text).split())


def exact_hash(normalised: str) -> int:
    """First 8 bytes of sha1 as an unsigned int."""
    return int.from_bytes(hashlib.sha1(normalised.encode("utf-8")).digest()[:8], "little")
