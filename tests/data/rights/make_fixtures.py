"""Build the rights fixtures: `robots.warc.gz` (robots.txt and tdmrep.json captures) and `pages.warc.gz`
(crafted HTML responses with licence and opt-out signals on the same hosts).

The shared data has no robots.txt WARCs, so these are written here with warcio in the real WARC/1.0
response-record format Common Crawl's `robotstxt` subset uses. Record ids and dates are fixed so the files
are byte-stable. Run from the repository root: `.venv/bin/python tests/data/rights/make_fixtures.py`.
See SOURCES.md for where each robots.txt body comes from.
"""

from __future__ import annotations

import io
import uuid
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

HERE = Path(__file__).resolve().parent

# Modelled on the AI-crawler block lists large news publishers added in 2023-2024 (nytimes.com, theguardian.com)
NEWS_ROBOTS = """# robots.txt for a news site
User-agent: *
Disallow: /search
Disallow: /*?*query=
Allow: /ads/public/

User-agent: GPTBot
Disallow: /

User-agent: CCBot
Disallow: /

User-agent: Google-Extended
Disallow: /

User-agent: anthropic-ai
User-agent: ClaudeBot
Disallow: /

Sitemap: https://news.example.com/sitemaps/sitemap.xml
"""

# The Cloudflare managed robots.txt with Content Signals (2025): preamble abridged, directives verbatim in form
CLOUDFLARE_ROBOTS = """# As a condition of accessing this website, you agree to abide by the following
# content signals:
# (a)  If a content-signal = yes, you may collect content for the corresponding
#      use.
# (b)  If a content-signal = no, you may not collect content for the
#      corresponding use.
# The content signals and their meanings are:
# search:   building a search index and providing search results
# ai-input: inputting content into one or more AI models
# ai-train: training or fine-tuning AI models.
# ANY RESTRICTIONS EXPRESSED VIA CONTENT SIGNALS ARE EXPRESS RESERVATIONS OF
# RIGHTS UNDER ARTICLE 4 OF THE EUROPEAN UNION DIRECTIVE 2019/790 ON COPYRIGHT
# AND RELATED RIGHTS IN THE DIGITAL SINGLE MARKET.

User-Agent: *
Content-Signal: search=yes,ai-train=no
Allow: /
"""

# AIPREF attach draft (draft-ietf-aipref-attach) example form: a group-level Content-Usage rule plus a path rule
AIPREF_ROBOTS = """User-Agent: *
Allow: /
Content-Usage: train-ai=n
Content-Usage: /open/ train-ai=y
"""

REDIRECT_TARGET_ROBOTS = """User-agent: *
Disallow: /private/
"""

OLD_ROBOTS = """User-agent: *
Disallow:
"""

NEW_ROBOTS = """User-agent: *
Disallow:

User-agent: GPTBot
Disallow: /
"""

TDMREP_JSON = """[
  {"location": "/open/*", "tdm-reservation": 0},
  {"location": "/", "tdm-reservation": 1, "tdm-policy": "https://publisher.example.fr/policies/tdm-policy.json"}
]
"""


def _rid(name: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}>"


def response(writer, url: str, date: str, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
    http = StatusAndHeaders(status, headers + [("Content-Length", str(len(body)))], protocol="HTTP/1.1")
    record = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                       warc_headers_dict={"WARC-Record-ID": _rid(url + date), "WARC-Date": date})
    writer.write_record(record)


def write_robots(path: Path) -> None:
    text = [("Content-Type", "text/plain")]
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=True)
        response(w, "https://news.example.com/robots.txt", "2024-05-01T10:00:00Z", "200 OK", text, NEWS_ROBOTS.encode())
        response(w, "https://cf.example.net/robots.txt", "2025-10-01T10:00:00Z", "200 OK", text, CLOUDFLARE_ROBOTS.encode())
        response(w, "https://aipref.example.org/robots.txt", "2026-09-01T10:00:00Z", "200 OK", text, AIPREF_ROBOTS.encode())
        response(w, "https://gone.example.com/robots.txt", "2024-05-01T10:00:00Z", "404 Not Found",
                 [("Content-Type", "text/html")], b"<html><body>Not found</body></html>")
        response(w, "https://down.example.com/robots.txt", "2024-05-01T10:00:00Z", "503 Service Unavailable",
                 [("Content-Type", "text/html")], b"<html><body>Try later</body></html>")
        response(w, "http://redirect.example.com/robots.txt", "2024-05-01T10:00:00Z", "301 Moved Permanently",
                 [("Location", "https://www.redirect.example.com/robots.txt")], b"")
        response(w, "https://www.redirect.example.com/robots.txt", "2024-05-01T10:00:01Z", "200 OK", text,
                 REDIRECT_TARGET_ROBOTS.encode())
        response(w, "https://dated.example.com/robots.txt", "2023-01-01T00:00:00Z", "200 OK", text, OLD_ROBOTS.encode())
        response(w, "https://dated.example.com/robots.txt", "2025-06-01T00:00:00Z", "200 OK", text, NEW_ROBOTS.encode())
        response(w, "https://publisher.example.fr/.well-known/tdmrep.json", "2024-05-01T10:00:00Z", "200 OK",
                 [("Content-Type", "application/json")], TDMREP_JSON.encode())


PARA = ("{topic} The council met on Tuesday evening to discuss the new cycling lanes along the river, "
        "the repairs to the old library roof and the budget for next summer's music festival. Residents "
        "asked many questions about parking, noise and the timetable of the works, and the mayor promised "
        "a public meeting before any final decision is taken. A second report covered the school meals "
        "programme, which now serves fresh vegetables from local farms three days a week.")


def page(title: str, topic: str, head: str = "", body_extra: str = "", footer: str = "") -> bytes:
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>{head}</head>"
            f"<body><main><article><h1>{title}</h1><p>{PARA.format(topic=topic)}</p>{body_extra}</article></main>"
            f"<footer>{footer}</footer></body></html>").encode()


def write_pages(path: Path) -> None:
    html = [("Content-Type", "text/html; charset=utf-8")]
    date = "2024-06-01T12:00:00Z"
    cc_footer = ('<p>Except where otherwise noted, content on this site is licensed under '
                 '<a rel="license" href="https://creativecommons.org/licenses/by-sa/4.0/">CC BY-SA 4.0</a>.</p>')
    caption = ('<figure><img src="/bridge.jpg" alt="bridge"><figcaption>Photo: the old bridge, '
               '<a href="https://creativecommons.org/licenses/by/2.0/">CC BY 2.0</a></figcaption></figure>')
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=True)
        pages = [
            ("https://open.example.org/news/cycling", [], page("Cycling lanes", "Open licence.", footer=cc_footer)),
            ("https://open.example.org/news/bridge", [], page("The bridge", "Image caption only.", body_extra=caption)),
            ("https://open.example.org/news/header-tdm", [("tdm-reservation", "1"),
                                                          ("tdm-policy", "https://open.example.org/tdm.json")],
             page("Reserved by header", "TDM header.", footer=cc_footer)),
            ("https://open.example.org/news/invalid-tdm", [("tdm-reservation", "2")], page("Invalid value", "Invalid TDM.")),
            ("https://open.example.org/news/noai", [("X-Robots-Tag", "noai, noimageai")], page("No AI", "Header noai.")),
            ("https://open.example.org/news/noindex", [], page("Not indexed", "Noindex meta.",
                                                               head='<meta name="robots" content="noindex, nofollow">')),
            ("https://open.example.org/news/usage", [("Content-Usage", "train-ai=n, search=y")], page("Usage", "Content usage.")),
            ("https://news.example.com/2024/06/council", [], page("News", "Robots AI block.")),
            ("https://cf.example.net/blog/post", [], page("Blog", "Content signal.")),
            ("https://aipref.example.org/open/essay", [], page("Essay", "AIPREF open path.")),
            ("https://aipref.example.org/closed/essay", [], page("Closed essay", "AIPREF default.")),
            ("https://gone.example.com/page", [], page("Gone robots", "Robots 404.")),
            ("https://down.example.com/page", [], page("Down robots", "Robots 503.")),
            ("http://redirect.example.com/private/page", [], page("Redirected robots", "Robots redirect.")),
            ("https://dated.example.com/article", [], page("Dated robots", "Robots dates.")),
            ("https://publisher.example.fr/open/report", [], page("Open report", "TDM file open.")),
            ("https://publisher.example.fr/books/chapter", [], page("Chapter", "TDM file reserved.")),
            ("https://publisher.example.fr/books/meta-zero", [], page("Meta zero", "TDM meta zero.",
                                                                      head='<meta name="tdm-reservation" content="0">')),
        ]
        for url, extra, body in pages:
            response(w, url, date, "200 OK", html + extra, body)


if __name__ == "__main__":
    write_robots(HERE / "robots.warc.gz")
    write_pages(HERE / "pages.warc.gz")
    print("wrote", HERE / "robots.warc.gz", HERE / "pages.warc.gz")
