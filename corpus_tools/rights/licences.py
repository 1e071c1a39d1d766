"""Licence detection: licence URLs and names -> SPDX-style ids, and licence candidates found in an HTML page.

Recognised (specs/licensing.md §3.1): Creative Commons licences with type, version and jurisdiction port
(`/licenses/by-sa/3.0/de/`), CC0, the Public Domain Mark, the legacy PD certification, Etalab Licence
Ouverte, Datenlizenz Deutschland (dl-de), the UK Open Government Licence, the Open Parliament Licence and
the GFDL. Markup looked at: `<link rel="license">` (and `rel="copyright"` to a licence URL),
`<meta name="license">`, `og:license`, Dublin Core `dc.rights` / `dcterms.license`, JSON-LD `license`,
microdata `itemprop="license"`, `<a rel="license">` and plain `<a>` links to a licence URL, and footer
"all rights reserved" notices.

Every candidate keeps its location and a confidence (`high`, `medium`, `low`, or `media` when it only
covers an image, figure, caption or, by ccREL `about`, another resource). The false-positive traps of
§3.2 decide the confidence: a licence in a figure caption or on a JSON-LD ImageObject is `media` and
never makes the page open; a plain body link is only a mention (`low`).

Use: `licence_candidates(LexborHTMLParser(html), page_url)`; `identify(url)` -> `LicenceId | None`.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from urllib.parse import urljoin as _urljoin


def urljoin(base: str, url: str) -> str:
    """A link whose URL cannot be parsed (`http://[ccpa-preferences]`) is no licence: "" instead of ValueError."""
    try:
        return _urljoin(base, url)
    except ValueError:
        return ""

# ---------------------------------------------------------------------------------------------- URL -> id


@dataclass(frozen=True)
class LicenceId:
    """spdx: SPDX id or `LicenseRef-…`; family: the key the policy maps to a redistribution class."""

    spdx: str
    family: str
    version: str | None = None
    jurisdiction: str | None = None


_CC = re.compile(
    r"creativecommons\.org/(licenses|licences|publicdomain)/([a-z+-]+)(?:/(\d\.\d))?(?:/(?!deed|legalcode)([a-z]{2,3})(?=/|$|[?#]))?",
    re.I)
# CC 1.0 also had licences without BY and the `nd-nc` order; they map onto the modern families
_CC_FAMILY = {
    "by": "by", "by-sa": "by-sa", "by-nd": "by-nd", "by-nc": "by-nc", "by-nc-sa": "by-nc-sa",
    "by-nc-nd": "by-nc-nd", "by-nd-nc": "by-nc-nd", "sa": "by-sa", "nd": "by-nd", "nc": "by-nc",
    "nc-sa": "by-nc-sa", "nd-nc": "by-nc-nd",
}
_OTHER_URLS = [
    (re.compile(r"etalab\.gouv\.fr/.*licence-ouverte|etalab/licence-ouverte|ETALAB-Licence-Ouverte", re.I), "etalab"),
    (re.compile(r"govdata\.de/dl-de/(by|zero|by-nc)-(\d)-(\d)", re.I), "dl-de"),
    (re.compile(r"nationalarchives\.gov\.uk/doc/open-government-licence(?:/version/(\d))?", re.I), "ogl"),
    (re.compile(r"open-parliament-licen[cs]e", re.I), "opl"),
    (re.compile(r"gnu\.org/(?:licenses|copyleft)/fdl(?:-(\d\.\d))?", re.I), "gfdl"),
]
# A text every match of `_CC` or `_OTHER_URLS` contains, with no `/ ? # ; :` in it: urljoin only puts whole
# path segments, the host, the query or the fragment of its two arguments side by side (and drops tab, CR and
# LF), so a joined URL can match only if the base or the link holds one of these (`maybe_licence_link`).
_URL_HINT = re.compile(r"creativecommons\.org|etalab|govdata\.de|nationalarchives\.gov\.uk|open-parliament-licen"
                       r"|gnu\.org", re.I)
_JOIN_DROPS = str.maketrans("", "", "\t\r\n")


def maybe_licence_link(base: str, href: str) -> bool:
    """False when `identify(urljoin(base, href))` is certainly None, without joining: most links on a page are
    not licence links, and the join is the costly part of looking at them."""
    return any(_URL_HINT.search(s.translate(_JOIN_DROPS)) for s in (base, href) if s)


def identify(url: str | None) -> LicenceId | None:
    """The licence a URL points to, or None if it is not a licence URL we know."""
    if not url:
        return None
    m = _CC.search(url)
    if m:
        kind, code, version, juris = m.group(1).lower(), m.group(2).lower(), m.group(3), m.group(4)
        juris = juris.upper() if juris else None
        if kind == "publicdomain":
            if code == "zero":
                return LicenceId(f"CC0-{version or '1.0'}", "public-domain", version or "1.0")
            if code == "mark":
                return LicenceId("LicenseRef-PDM-1.0", "public-domain", version or "1.0")
            if code == "certification":
                return LicenceId("LicenseRef-CC-PD-Certification", "public-domain", version)
            return LicenceId("LicenseRef-cc-unknown", "cc-unknown")
        family = _CC_FAMILY.get(code)
        if family is None or version is None:
            return LicenceId("LicenseRef-cc-unknown", "cc-unknown", version)
        spdx = f"CC-{family.upper()}-{version}" + (f"-{juris}" if juris else "")
        return LicenceId(spdx, family, version, juris)
    for pattern, kind in _OTHER_URLS:
        m = pattern.search(url)
        if not m:
            continue
        if kind == "etalab":
            v2 = bool(re.search(r"2\.0|v2", url))
            return LicenceId("etalab-2.0" if v2 else "LicenseRef-etalab-1.0", "by", "2.0" if v2 else "1.0")
        if kind == "dl-de":
            code, version = m.group(1).lower(), f"{m.group(2)}.{m.group(3)}"
            family = {"by": "by", "zero": "public-domain", "by-nc": "by-nc"}[code]
            spdx = {"by": f"DL-DE-BY-{version}", "zero": f"DL-DE-ZERO-{version}"}.get(code, f"LicenseRef-dl-de-by-nc-{version}")
            return LicenceId(spdx, family, version, "DE")
        if kind == "ogl":
            version = f"{m.group(1)}.0" if m.group(1) else None
            return LicenceId(f"OGL-UK-{version}" if version else "LicenseRef-OGL-UK", "by", version, "GB")
        if kind == "opl":
            return LicenceId("LicenseRef-OPL-UK-3.0", "by", "3.0", "GB")
        if kind == "gfdl":
            version = m.group(1) or "1.3"
            return LicenceId(f"GFDL-{version}", "by-sa", version)
    return None


_CC_NAME = re.compile(
    r"\b(?:CC|Creative\s+Commons)[\s-]+(BY(?:[\s-](?:SA|NC|ND)){0,2})[\s-]+(\d\.\d)\b|\b(CC0|CC[\s-]?Zero)\b", re.I)


_CC_LONG = re.compile(
    r"Creative\s+Commons\s+Attribution((?:[\s-]+(?:Non-?Commercial|No-?Deriv(?:ative)?s|Share-?Alike))*)"
    r"(?:\s+\w+)?\s+(\d\.\d)", re.I)


def _long_name(m) -> LicenceId | None:
    parts = m.group(1).lower()
    code = "by" + ("-nc" if "commercial" in parts else "") + ("-nd" if "deriv" in parts else "") + (
        "-sa" if "share" in parts else "")
    family = _CC_FAMILY.get(code)
    return LicenceId(f"CC-{family.upper()}-{m.group(2)}", family, m.group(2)) if family else None


def identify_text(value: str | None) -> LicenceId | None:
    """A licence named in free text (meta content, JSON-LD string that is not a URL): `CC BY-SA 4.0`, `CC0`."""
    if not value:
        return None
    lid = identify(value)
    if lid:
        return lid
    m = _CC_NAME.search(value)
    if not m:
        long = _CC_LONG.search(value)
        return _long_name(long) if long else None
    if m.group(3):
        return LicenceId("CC0-1.0", "public-domain", "1.0")
    code = re.sub(r"[\s-]+", "-", m.group(1).lower())
    family = _CC_FAMILY.get(code)
    return LicenceId(f"CC-{family.upper()}-{m.group(2)}", family, m.group(2)) if family else None


# ------------------------------------------------------------------------------------------- candidates

CONFIDENCE_RANK = {"media": 0, "low": 1, "medium": 2, "high": 3}
ARR_ID = LicenceId("LicenseRef-All-Rights-Reserved", "all-rights-reserved")

# a statement that the licence covers the page or the site, not one item on it (AI2 labelling guidance)
_SITE_STATEMENT = re.compile(
    r"\b(?:this|the|all|our)\s+(?:web\s?site|site|blog|page|work|content|text|material|articles?|posts?)\b.{0,80}licen[sc]"
    r"|content\s+(?:on|of)\s+this\s+(?:web\s?)?site|text\s+is\s+available\s+under"
    r"|\b(?:ce|le|cette|la)\s+(?:site|contenu|texte|blog|page|œuvre)\b.{0,80}licence|sauf\s+mention\s+contraire"
    r"|\b(?:diese[rs]?|der|die|das)\s+(?:Web)?(?:seite|site|Inhalte?|Text|Blog|Werk)\b.{0,80}Lizenz|Inhalte?\s+dieser\s+(?:Web)?seite"
    r"|\b(?:este|el|esta|la)\s+(?:sitio|contenido|texto|blog|obra|página)\b.{0,80}licencia"
    r"|\b(?:questo|il|questa|la)\s+(?:sito|contenuto|testo|blog|opera|pagina)\b.{0,80}licenza"
    r"|\b(?:deze|de|dit|het)\s+(?:website|site|inhoud|tekst|blog|werk|pagina)\b.{0,80}licentie",
    re.I | re.S)
# words before a licence link that say it credits a picture, not the text
_MEDIA_WORDS = re.compile(r"\b(?:photos?|images?|pictures?|foto|fotos|bild|bilder|imagen|immagine|illustrations?|icons?|logo|video)\b", re.I)
_ARR = re.compile(
    r"all\s+rights\s+reserved|tous\s+droits\s+réservés|alle\s+rechte\s+vorbehalten|todos\s+los\s+derechos\s+reservados"
    r"|tutti\s+i\s+diritti\s+riservati|alle\s+rechten\s+voorbehouden|wszelkie\s+prawa\s+zastrzeżone|todos\s+os\s+direitos\s+reservados"
    r"|kaikki\s+oikeudet\s+pidätetään|alle\s+rettigheder\s+forbeholdes|alla\s+rättigheter\s+förbehållna|minden\s+jog\s+fenntartva"
    r"|všechna\s+práva\s+vyhrazena|toate\s+drepturile\s+rezervate", re.I)
_MEDIA_TAGS = {"figure", "figcaption", "picture", "video", "audio"}
_MEDIA_TYPES = {"imageobject", "videoobject", "audioobject", "mediaobject", "photograph", "3dmodel"}
_LICENCE_META = {"license", "licence", "dc.rights", "dcterms.license", "dc.license", "dcterms.rights", "copyright"}
_LICENCE_PROPS = {"og:license", "og:licence", "dc:rights", "dcterms:license", "cc:license", "license"}


@dataclass
class Candidate:
    """One licence signal on a page. location: link_tag, meta_tag, json_ld, microdata, a_tag, footer_text."""

    spdx: str | None
    family: str | None
    location: str
    confidence: str
    in_head: bool = False
    in_footer: bool = False
    rel_license: bool = False
    scope: str = "page"           # page | media
    site_statement: bool = False  # the surrounding text says the licence covers the page or site
    url: str | None = None        # the licence URL as written (resolved), no page text

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, False)}


def _classes(node) -> str:
    a = node.attributes
    return f"{a.get('id') or ''} {a.get('class') or ''}".lower()


def _context(node) -> dict:
    """Where a node sits: head, footer, a licence block, a media caption; walked once up to the root."""
    info = {"in_head": False, "in_footer": False, "licence_block": False, "media": False, "about": None}
    if "about" in node.attributes:
        info["about"] = node.attributes.get("about")
    p = node.parent
    while p is not None and p.tag not in ("html", "-undef", None):
        tag = p.tag
        if tag == "head":
            info["in_head"] = True
        elif tag == "footer":
            info["in_footer"] = True
        elif tag in _MEDIA_TAGS:
            info["media"] = True
        if info["about"] is None and "about" in p.attributes:
            info["about"] = p.attributes.get("about")   # ccREL: the licence covers this subject
        names = _classes(p) if tag not in ("body", "main") else ""  # body classes like 'has-footer' say nothing
        if names.strip():
            if "footer" in names or "copyright" in names:
                info["in_footer"] = True
            if "licen" in names:
                info["licence_block"] = True
            if "caption" in names:
                info["media"] = True
        p = p.parent
    return info


def _block_text(node, limit: int = 600) -> str:
    """Text of the nearest block around an inline node: enough to read a 'this site is licensed' sentence."""
    p = node.parent
    for _ in range(3):
        if p is None or p.tag in ("body", "html"):
            break
        text = p.text(separator=" ", strip=True)
        if len(text) > 40 or p.tag in ("p", "li", "div", "footer", "td", "section"):
            return text[:limit]
        p = p.parent
    return (node.text(strip=True) or "")[:limit]


def _left_of(block: str, anchor: str) -> str:
    i = block.find(anchor) if anchor else -1
    return block[max(0, i - 150):i] if i >= 0 else block[:150]


def licence_candidates(tree, page_url: str | None) -> list[Candidate]:
    """All licence candidates in a parsed page (selectolax LexborHTMLParser), in document order."""
    out: list[Candidate] = []
    base = page_url or ""
    for node in tree.css("link[rel]"):
        rel = (node.attributes.get("rel") or "").lower().split()
        href = urljoin(base, node.attributes.get("href") or "")
        lid = identify(href) if ("license" in rel or "copyright" in rel) else None
        if lid is None and "license" not in rel:
            continue
        ctx = _context(node)
        out.append(_cand(lid, "link_tag", "high" if lid else "low", ctx, rel_license="license" in rel, url=href))
    for node in tree.css("meta[content]"):
        a = node.attributes
        name, prop = (a.get("name") or "").lower(), (a.get("property") or "").lower()
        if name not in _LICENCE_META and prop not in _LICENCE_PROPS:
            continue
        content = a.get("content") or ""
        lid = identify_text(content) if name not in ("dc.rights", "dcterms.rights", "copyright") else (
            identify(content) or identify_text(content) or (ARR_ID if _ARR.search(content) else None))
        if lid is None:
            continue
        out.append(_cand(lid, "meta_tag", "high", _context(node), url=content if "://" in content else None))
    for node in tree.css('script[type="application/ld+json"]'):
        try:
            data = json.loads(node.text() or "")
        except (ValueError, RecursionError):  # broken, or nested deeper than the parser goes
            continue
        for lic, media in _jsonld_licences(data):
            lid = identify_text(lic)
            if lid:
                out.append(_cand(lid, "json_ld", "media" if media else "high", {"media": media},
                                 url=lic if "://" in lic else None))
    for node in tree.css("[itemprop]"):
        if "license" not in (node.attributes.get("itemprop") or "").lower().split():
            continue
        value = node.attributes.get("href") or node.attributes.get("content") or node.attributes.get("src")
        lid = identify_text(urljoin(base, value) if value and node.tag in ("a", "link") else value)
        if lid is None:
            continue
        scope = node.parent
        media = False
        while scope is not None and scope.tag not in ("html", "-undef"):
            if "itemscope" in scope.attributes:
                media = (scope.attributes.get("itemtype") or "").rsplit("/", 1)[-1].lower() in _MEDIA_TYPES
                break
            scope = scope.parent
        ctx = _context(node)
        ctx["media"] = ctx["media"] or media
        if "license" not in (node.attributes.get("rel") or "").lower().split():  # else counted as a link_tag
            out.append(_cand(lid, "microdata", "high", ctx, url=value))
    base_hint = maybe_licence_link(base, "")
    for node in tree.css("a[href], area[href]"):
        attrs = node.attributes  # a new dict on every access
        raw = attrs.get("href") or ""
        rel = "license" in (attrs.get("rel") or "").lower().split()
        if not rel and not base_hint and not maybe_licence_link("", raw):
            continue  # no licence id and no rel=license: the link says nothing
        href = urljoin(base, raw)
        lid = identify(href)
        if lid is None and not rel:
            continue
        ctx = _context(node)
        block = _block_text(node)
        statement = bool(_SITE_STATEMENT.search(block))
        if not ctx["media"] and _MEDIA_WORDS.search(_left_of(block, node.text(strip=True) or "")):
            ctx["media"] = True
        if ctx["about"] and urljoin(base, ctx["about"]).split("#")[0] not in (base.split("#")[0], ""):
            ctx["media"] = True   # ccREL `about` names another resource (an image, a file): not this page
        if lid is None:
            conf = "low"   # rel=license to an unrecognised page (often the site's own licence page): recorded only
        elif rel:
            conf = "high" if (ctx["in_footer"] or ctx["licence_block"] or ctx["in_head"] or statement) else "medium"
        elif ctx["in_footer"] or ctx["licence_block"]:
            conf = "high" if statement else "medium"
        else:
            conf = "medium" if statement else "low"
        out.append(_cand(lid, "a_tag", conf, ctx, rel_license=rel, statement=statement, url=href))
    out.extend(_arr_candidates(tree))
    return out


def _cand(lid, location, confidence, ctx, rel_license=False, statement=False, url=None) -> Candidate:
    media = ctx.get("media", False)
    return Candidate(
        spdx=lid.spdx if lid else None, family=lid.family if lid else None, location=location,
        confidence="media" if media else confidence, in_head=ctx.get("in_head", False),
        in_footer=ctx.get("in_footer", False), rel_license=rel_license, scope="media" if media else "page",
        site_statement=statement, url=url)


def _jsonld_licences(data, media: bool = False, depth: int = 0):
    """(licence string, is_media_object) pairs from a JSON-LD document, through @graph and nesting."""
    if depth > 8:
        return
    if isinstance(data, list):
        for item in data:
            yield from _jsonld_licences(item, media, depth + 1)
        return
    if not isinstance(data, dict):
        return
    types = data.get("@type") or []
    types = [types] if isinstance(types, str) else types
    here_media = media or any(str(t).lower() in _MEDIA_TYPES for t in types)
    for key in ("license", "licence", "schema:license", "http://schema.org/license"):
        value = data.get(key)
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, dict):
                v = v.get("@id") or v.get("url") or v.get("name")
            if isinstance(v, str) and v.strip():
                yield v.strip(), here_media
    for key, value in data.items():
        if key not in ("license", "licence") and isinstance(value, (dict, list)):
            yield from _jsonld_licences(value, here_media, depth + 1)


def _arr_candidates(tree) -> list[Candidate]:
    """'All rights reserved' (and its EU-language forms) in the page footer; body mentions are quotes."""
    found = []
    seen = set()
    for sel in ("footer", "[id*=footer]", "[class*=footer]", "[id*=copyright]", "[class*=copyright]"):
        for node in tree.css(sel):
            text = node.text(separator=" ", strip=True)
            if len(text) > 5000:   # a whole-page wrapper with 'footer' in its class: not a footer
                continue
            if _ARR.search(text) and id(node) not in seen:
                seen.add(id(node))
                found.append(Candidate(ARR_ID.spdx, ARR_ID.family, "footer_text", "high", in_footer=True))
                return found
    return found
