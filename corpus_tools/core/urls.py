"""URL helpers: the registered domain (eTLD+1) from the Public Suffix List snapshot tldextract ships.

No network: the extractor is built with `suffix_list_urls=()` so it never fetches a fresh list at run time.
"""

from __future__ import annotations

from functools import lru_cache

import tldextract

_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@lru_cache(maxsize=65536)
def registered_domain(url: str | None) -> str | None:
    if not url:
        return None
    parts = _EXTRACT(url)
    if parts.ipv4 or parts.ipv6:
        return parts.ipv4 or parts.ipv6
    if parts.domain and parts.suffix:
        return f"{parts.domain}.{parts.suffix}".lower()
    # no public suffix (IP addresses, reserved TLDs such as .invalid): the last two host labels
    host = ".".join(x for x in (parts.subdomain, parts.domain) if x)
    return ".".join(host.split(".")[-2:]).lower() or None
