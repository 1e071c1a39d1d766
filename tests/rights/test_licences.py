"""Licence URL grammar and licence candidates on crafted minimal pages, including the §3.2 near-misses."""

from __future__ import annotations

import pytest
from selectolax.lexbor import LexborHTMLParser

from corpus_tools.rights.licences import identify, identify_text, licence_candidates

URL = "https://site.example.eu/post/1"


def cands(html: str, url: str = URL) -> list[dict]:
    return [c.to_json() for c in licence_candidates(LexborHTMLParser(html), url)]


@pytest.mark.parametrize("url, spdx, family", [
    ("https://creativecommons.org/licenses/by/4.0/", "CC-BY-4.0", "by"),
    ("http://creativecommons.org/licenses/by-sa/3.0/de/", "CC-BY-SA-3.0-DE", "by-sa"),
    ("//creativecommons.org/licenses/by-nc-nd/4.0/deed.fr", "CC-BY-NC-ND-4.0", "by-nc-nd"),
    ("https://creativecommons.org/licenses/by-nd-nc/1.0/", "CC-BY-NC-ND-1.0", "by-nc-nd"),
    ("https://creativecommons.org/licenses/by-nc-sa/2.5/it/legalcode", "CC-BY-NC-SA-2.5-IT", "by-nc-sa"),
    ("https://creativecommons.org/licenses/by-sa/4.0/deed.an", "CC-BY-SA-4.0", "by-sa"),
    ("https://creativecommons.org/publicdomain/zero/1.0/", "CC0-1.0", "public-domain"),
    ("https://creativecommons.org/publicdomain/mark/1.0/", "LicenseRef-PDM-1.0", "public-domain"),
    ("https://creativecommons.org/licenses/sampling+/1.0/", "LicenseRef-cc-unknown", "cc-unknown"),
    ("https://www.etalab.gouv.fr/wp-content/uploads/2017/04/ETALAB-Licence-Ouverte-v2.0.pdf", "etalab-2.0", "by"),
    ("https://www.govdata.de/dl-de/by-2-0", "DL-DE-BY-2.0", "by"),
    ("https://www.govdata.de/dl-de/zero-2-0", "DL-DE-ZERO-2.0", "public-domain"),
    ("http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/", "OGL-UK-3.0", "by"),
    ("https://www.gnu.org/licenses/fdl-1.3.html", "GFDL-1.3", "by-sa"),
])
def test_licence_urls(url, spdx, family):
    lid = identify(url)
    assert (lid.spdx, lid.family) == (spdx, family)


def test_not_licence_urls():
    assert identify("https://creativecommons.org/about/") is None
    assert identify("https://example.com/licenses/by/4.0/") is None
    assert identify_text("Creative Commons Attribution-ShareAlike 4.0").spdx == "CC-BY-SA-4.0"
    assert identify_text("some rights") is None


def test_head_link_and_meta_are_high():
    html = ('<html><head><link rel="license" href="https://creativecommons.org/licenses/by/4.0/">'
            '<meta name="license" content="https://creativecommons.org/publicdomain/zero/1.0/">'
            '<meta property="og:license" content="CC BY-SA 4.0"></head><body><p>x</p></body></html>')
    c = cands(html)
    assert [(x["location"], x["spdx"], x["confidence"], x.get("in_head")) for x in c] == [
        ("link_tag", "CC-BY-4.0", "high", True), ("meta_tag", "CC0-1.0", "high", True),
        ("meta_tag", "CC-BY-SA-4.0", "high", True)]


def test_jsonld_page_licence_and_imageobject_is_media():
    html = ('<script type="application/ld+json">{"@context":"https://schema.org","@graph":['
            '{"@type":"Article","license":{"@id":"https://creativecommons.org/licenses/by/4.0/"}},'
            '{"@type":"ImageObject","license":"https://creativecommons.org/licenses/by-nc/2.0/"}]}</script><p>x</p>')
    c = cands(html)
    assert [(x["spdx"], x["confidence"], x["scope"]) for x in c] == [
        ("CC-BY-4.0", "high", "page"), ("CC-BY-NC-2.0", "media", "media")]


def test_broken_jsonld_is_ignored():
    assert cands('<script type="application/ld+json">{"license": </script>') == []


def test_footer_rel_license_is_high():
    c = cands('<body><p>text</p><footer><a rel="license" href="https://creativecommons.org/licenses/by-sa/4.0/">'
              'CC BY-SA</a></footer></body>')
    assert c[0]["confidence"] == "high" and c[0]["in_footer"] and c[0]["rel_license"]


def test_footer_class_and_relative_licence_link():
    # creativecommons.org style: a relative link in a div.footer with a site-wide statement
    c = cands('<body><div class="site-footer"><p>Except where otherwise noted, content on this site is licensed '
              'under a <a href="/licenses/by/4.0/">CC BY 4.0</a> licence.</p></div></body>',
              "https://creativecommons.org/mission/")
    assert c[0]["spdx"] == "CC-BY-4.0" and c[0]["confidence"] == "high" and c[0]["site_statement"]


def test_near_miss_image_caption_is_media():
    c = cands('<body><article><p>Our story.</p><figure><img src="a.jpg"><figcaption>Photo by Someone, '
              '<a rel="license" href="https://creativecommons.org/licenses/by/2.0/">CC BY 2.0</a>'
              '</figcaption></figure></article></body>')
    assert c[0]["scope"] == "media" and c[0]["confidence"] == "media"


def test_near_miss_wp_caption_and_photo_credit_words():
    c = cands('<div class="wp-caption"><img src="x.jpg"><p class="wp-caption-text">'
              '<a href="https://creativecommons.org/licenses/by-sa/2.0/">CC BY-SA</a></p></div>'
              '<p>Image: harbour at dawn by a reader, <a href="https://creativecommons.org/licenses/by/3.0/">CC BY 3.0</a></p>')
    assert [x["scope"] for x in c] == ["media", "media"]


def test_body_mention_is_low_and_rel_license_in_body_is_medium():
    c = cands('<body><p>We compared <a href="https://creativecommons.org/licenses/by-nc/4.0/">BY-NC</a> with others.</p>'
              '<p><a rel="license" href="https://creativecommons.org/licenses/by/4.0/">licence</a></p></body>')
    assert [x["confidence"] for x in c] == ["low", "medium"]


def test_unrecognised_rel_license_is_recorded_without_id():
    c = cands('<footer><a rel="license" href="/wiki/Text_of_the_licence">licence</a></footer>')
    assert c == [{"location": "a_tag", "confidence": "low", "in_footer": True, "rel_license": True, "scope": "page",
                  "url": "https://site.example.eu/wiki/Text_of_the_licence"}]


def test_all_rights_reserved_only_in_footer():
    assert cands('<p>The band said "all rights reserved" on stage.</p>') == []
    c = cands('<p>text</p><div id="copyright">© 2024 Example. Tous droits réservés.</div>')
    assert c[0]["spdx"] == "LicenseRef-All-Rights-Reserved" and c[0]["location"] == "footer_text"


def test_microdata_licence():
    c = cands('<div itemscope itemtype="https://schema.org/CreativeWork">'
              '<a itemprop="license" href="https://creativecommons.org/licenses/by/4.0/">CC BY</a></div>')
    assert [x["location"] for x in c] == ["microdata", "a_tag"]
    assert c[0]["confidence"] == "high"


def test_ccrel_about_scopes_the_licence_to_another_resource():
    c = cands('<div about="/files/map.png"><a rel="license" href="https://creativecommons.org/licenses/by/4.0/">'
              'CC BY</a></div><footer><div about=""><a rel="license" '
              'href="https://creativecommons.org/licenses/by-sa/4.0/">CC BY-SA</a></div></footer>')
    assert [(x["spdx"], x["scope"]) for x in c] == [("CC-BY-4.0", "media"), ("CC-BY-SA-4.0", "page")]


def test_a_link_without_a_licence_hint_never_joins_to_a_licence_url():
    """`maybe_licence_link` lets licence_candidates skip the urljoin of most links: it may only say False
    where the joined URL is no licence. Random bases and links built from pieces of licence URLs cut at any
    point, path separators, dot segments and the characters urljoin drops."""
    import random
    from urllib.parse import urljoin

    from corpus_tools.rights.licences import maybe_licence_link

    licence_urls = ["https://creativecommons.org/licenses/by-sa/3.0/de/", "http://creativecommons.org/publicdomain/zero/1.0/",
                    "https://www.etalab.gouv.fr/licence-ouverte-open-licence", "https://www.govdata.de/dl-de/by-2-0",
                    "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
                    "https://www.open-parliament-licence.example/", "https://www.gnu.org/licenses/fdl-1.3.html"]
    rng = random.Random(22)
    pieces = ["/", "//", ".", "..", "./", "../", "?", "#", ";", ":", "\n", "\t", "\r", "http:", "https://", "x", "CREATIVE"]
    for u in licence_urls:
        for _ in range(6):
            i, j = sorted(rng.sample(range(len(u) + 1), 2))
            pieces.append(u[i:j])

    def random_url() -> str:
        return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 7)))

    skipped = matched = 0
    for _ in range(30000):
        base, href = random_url(), random_url()
        try:
            lid = identify(urljoin(base, href))
        except ValueError:
            continue
        matched += lid is not None
        if not maybe_licence_link(base, href):
            skipped += 1
            assert lid is None, (base, href)
    assert skipped > 1000 and matched > 100  # both sides of the test are exercised
    assert maybe_licence_link(URL, "/licenses/by/4.0/") is False
    broken = "https://creative\ncommons.org/licenses/by/4.0/"  # urljoin drops the newline
    assert maybe_licence_link(URL, broken) is True and identify(urljoin(URL, broken)).spdx == "CC-BY-4.0"
    assert maybe_licence_link("https://creativecommons.org/about", "/licenses/by/4.0/") is True
    assert identify(urljoin("https://creativecommons.org/about", "/licenses/by/4.0/")).spdx == "CC-BY-4.0"
