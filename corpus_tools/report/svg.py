"""Small inline-SVG charts for the run report: horizontal bars, stacked shares, histograms, strip plots, columns.

Written by hand rather than with matplotlib because a page of ~20 charts must render in well under a second
(matplotlib took ~0.5 s a figure on a loaded machine) and inline SVG stays sharp and searchable. Every chart has a
fixed `viewBox` and scales down with the page (`max-width: 100%`), so it never overflows. Labels longer than the
label column are cut with an ellipsis; the full label is the element's `<title>` (the browser's tooltip).
Counts that span more than two orders of magnitude get a log axis, said in the axis title.

    from corpus_tools.report import svg
    svg.hbar([("eng_Latn", 147), ("deu_Latn", 3)], xlabel="documents")
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

WIDTH = 1000
ROW = 18
CHAR_W = 6.6        # average width of an 11 px system-ui character, for laying out labels
FONT = 'font-family="system-ui, sans-serif" font-size="11"'
BLUE, GREEN, RED, GREY, ORANGE, PURPLE = "#3b6ea5", "#6a9f58", "#b5533c", "#9a9a9a", "#e08a00", "#7a5195"


def fmt(v: float) -> str:
    """A count or a measure, short: 1,234 / 12.3k / 4.5M; fractions with 2-3 significant digits."""
    if v is None:
        return "–"
    if float(v).is_integer():
        v = int(v)
        if abs(v) >= 1_000_000:
            return f"{v / 1e6:.1f}".removesuffix(".0") + "M"
        if abs(v) >= 10_000:
            return f"{v / 1e3:.1f}".removesuffix(".0") + "k"
        return f"{v:,}"
    return f"{v:.3g}"


def _cut(label: str, width_px: float) -> str:
    n = max(3, int(width_px / CHAR_W))
    return label if len(label) <= n else label[: n - 1] + "…"


def _text(x, y, s, anchor="start", extra="") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {extra}>{escape(str(s))}</text>'


def _svg(height: float, body: list[str], label: str, width: int = WIDTH) -> str:
    return (f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {width} {height:.0f}" '
            f'width="{width}" {FONT} xmlns="http://www.w3.org/2000/svg">' + "".join(body) + "</svg>")


def wants_log(values) -> bool:
    pos = [v for v in values if v and v > 0]
    return bool(pos) and max(pos) / min(pos) > 100


@dataclass
class Axis:
    """Maps values to pixels between x0 and x1; log10 when `log` (values <= 0 sit at the axis start)."""

    lo: float
    hi: float
    x0: float
    x1: float
    log: bool = False
    ticks: list[float] = field(default_factory=list)

    @classmethod
    def counts(cls, values, x0, x1, log=None) -> "Axis":
        vmax = max([v for v in values if v is not None] or [1]) or 1
        log = wants_log(values) if log is None else log
        if log:   # from half the smallest power of ten, so that the smallest value still gets a bar
            hi = max(10 ** math.ceil(math.log10(vmax) + 1e-9), 10)
            low = min(0, math.floor(math.log10(min([v for v in values if v and v > 0] or [1]))))
            return cls(0.5 * 10 ** low, hi, x0, x1, True, [10 ** k for k in range(low, round(math.log10(hi)) + 1)])
        step = _nice_step(vmax / 4)
        hi = step * math.ceil(vmax / step)
        return cls(0, hi, x0, x1, False, [step * k for k in range(int(round(hi / step)) + 1)])

    @classmethod
    def span(cls, lo, hi, x0, x1, log=False) -> "Axis":
        if log:
            lo, hi = max(lo, 1e-9), max(hi, lo * 10)
            ticks = [10 ** k for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)]
            return cls(ticks[0], ticks[-1], x0, x1, True, ticks)
        step = _nice_step((hi - lo) / 4 or 1)
        start = step * math.floor(lo / step)
        ticks = [start + step * k for k in range(int(math.ceil((hi - start) / step)) + 1)]
        return cls(ticks[0], ticks[-1], x0, x1, False, ticks)

    def __call__(self, v: float) -> float:
        if v is None:
            return self.x0
        if self.log:
            if v <= 0:
                return self.x0
            v = min(max(v, self.lo), self.hi)
            return self.x0 + (math.log10(v) - math.log10(self.lo)) / (math.log10(self.hi) - math.log10(self.lo)) * (self.x1 - self.x0)
        v = min(max(v, self.lo), self.hi)
        return self.x0 + (v - self.lo) / ((self.hi - self.lo) or 1) * (self.x1 - self.x0)


def _nice_step(raw: float) -> float:
    if raw <= 0:
        return 1
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)


def _x_axis(ax: Axis, y: float, title: str, grid_top: float | None = None) -> list[str]:
    out = [f'<line x1="{ax.x0}" y1="{y}" x2="{ax.x1}" y2="{y}" stroke="#888"/>']
    last = -1e9
    for t in ax.ticks:
        x = ax(t)
        if grid_top is not None:
            out.append(f'<line x1="{x:.1f}" y1="{grid_top}" x2="{x:.1f}" y2="{y}" stroke="#eee"/>')
        label = fmt(t)
        if x - last < len(label) * CHAR_W + 6:   # no two tick labels overlap
            continue
        out.append(_text(x, y + 13, label, "middle", 'fill="#555"'))
        last = x
    out.append(_text((ax.x0 + ax.x1) / 2, y + 28, title + (" (log scale)" if ax.log else ""), "middle", 'fill="#333"'))
    return out


def _label_width(labels, cap=330) -> float:
    return min(cap, max([len(s) for s in labels] or [4]) * CHAR_W + 12)


def hbar(rows: list[tuple[str, float]], xlabel: str, colour: str = BLUE, log: bool | None = None,
         title: str = "", empty: str = "(none in this run)") -> str:
    """One bar per row, its value written after it; a log axis when the values span > 100x (or `log`)."""
    rows = rows or [(empty, 0)]
    left = _label_width([r[0] for r in rows])
    right = WIDTH - 70
    ax = Axis.counts([r[1] for r in rows], left, right, log)
    top = 6
    body = []
    for i, (label, v) in enumerate(rows):
        y = top + i * ROW
        w = ax(v) - left if v else 0
        body.append(f'<g><title>{escape(label)}: {v:,}</title>'
                    f'<rect x="{left}" y="{y + 3}" width="{max(w, 0):.1f}" height="{ROW - 6}" fill="{colour}"/>'
                    + _text(left - 6, y + ROW - 5, _cut(label, left - 10), "end")
                    + _text(left + max(w, 0) + 4, y + ROW - 5, fmt(v), "start", 'fill="#333"') + "</g>")
    y_axis = top + len(rows) * ROW + 2
    body = _x_axis(ax, y_axis, xlabel, top) + body
    return _svg(y_axis + 36, body, title or xlabel)


def stacked(rows: list[tuple[str, list[float]]], parts: list[str], colours: list[str], xlabel: str,
            note: list[str] | None = None, title: str = "") -> str:
    """100 % bars: each row's parts as shares of its total, with a legend and the row's n at the right."""
    rows = rows or [("(none in this run)", [0] * len(parts))]
    left = _label_width([r[0] for r in rows])
    right = WIDTH - 90
    ax = Axis(0, 1, left, right, False, [0, 0.25, 0.5, 0.75, 1])
    top = 24
    body = []
    x = left
    for name, colour in zip(parts, colours):
        body.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{colour}"/>' + _text(x + 14, 13, name))
        x += 14 + len(name) * CHAR_W + 16
    for i, (label, values) in enumerate(rows):
        y = top + i * ROW
        total = sum(values)
        x = left
        segs = []
        for name, v, colour in zip(parts, values, colours):
            if total and v:
                w = v / total * (right - left)
                segs.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{ROW - 6}" fill="{colour}">'
                            f'<title>{escape(label)}: {name} {v:,} of {total:,} ({v / total:.0%})</title></rect>')
                x += w
        n_note = (note[i] if note else f"n = {total:,}")
        body.append("<g>" + "".join(segs) + _text(left - 6, y + ROW - 5, _cut(label, left - 10), "end")
                    + _text(right + 6, y + ROW - 5, n_note, "start", 'fill="#333"') + "</g>")
    y_axis = top + len(rows) * ROW + 2
    ax.ticks = [0, 0.25, 0.5, 0.75, 1]
    axis = _x_axis(ax, y_axis, xlabel, top)
    axis = [a.replace(">0.25<", ">25 %<").replace(">0.5<", ">50 %<").replace(">0.75<", ">75 %<")
            .replace(">1<", ">100 %<").replace(">0<", ">0 %<") for a in axis]
    return _svg(y_axis + 36, axis + body, title or xlabel)


@dataclass
class Panel:
    """One histogram: bin edges, kept and excluded counts per bin, threshold lines (value, label)."""

    title: str
    subtitle: str
    edges: list[float]
    kept: list[int]
    excluded: list[int]
    thresholds: list[tuple[float, str]]
    log_x: bool = False


def histograms(panels: list[Panel], columns: int = 4, title: str = "") -> str:
    """Small multiples: kept (blue) and excluded (red) stacked per bin, log y when counts span > 100x,
    each threshold a dashed line with its value; n in every panel's title."""
    pw, ph = WIDTH / columns, 150
    body = []
    for k, p in enumerate(panels):
        ox, oy = (k % columns) * pw, (k // columns) * ph
        x0, x1, y0, y1 = ox + 34, ox + pw - 12, oy + 124, oy + 34
        totals = [a + b for a, b in zip(p.kept, p.excluded)]
        xa = Axis(p.edges[0], p.edges[-1], x0, x1, p.log_x)
        if p.log_x:
            xa.ticks = [t for t in (1, 10, 100, 1000, 10_000, 100_000, 1_000_000) if p.edges[0] <= t <= p.edges[-1]]
        else:
            xa.ticks = [p.edges[0], (p.edges[0] + p.edges[-1]) / 2, p.edges[-1]]
        ya = Axis.counts(totals, y0, y1)
        body.append(_text(ox + 8, oy + 13, _cut(p.title, pw - 16), "start", 'font-weight="600"'))
        body.append(_text(ox + 8, oy + 26, _cut(p.subtitle, pw - 16), "start", 'fill="#555"'))
        for i, (lo, hi) in enumerate(zip(p.edges, p.edges[1:])):
            bx, bw = xa(lo), max(xa(hi) - xa(lo) - 0.5, 0.5)
            for v, base, colour, what in ((p.kept[i], 0, BLUE, "kept"), (p.excluded[i], p.kept[i], RED, "excluded")):
                if not v:
                    continue
                ytop, ybot = ya(base + v), ya(base) if base else y0
                body.append(f'<rect x="{bx:.1f}" y="{ytop:.1f}" width="{bw:.1f}" height="{max(ybot - ytop, 1):.1f}" '
                            f'fill="{colour}"><title>{fmt(lo)}–{fmt(hi)}: {v:,} {what}</title></rect>')
        body.append(f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#888"/>')
        last = -1e9
        for t in xa.ticks:
            if xa(t) - last >= len(fmt(t)) * CHAR_W + 4:   # thinned so that no two labels overlap
                body.append(_text(xa(t), y0 + 12, fmt(t), "middle", 'fill="#555"'))
                last = xa(t)
        body.append(_text(x0 - 3, y1 + 8, fmt(ya.hi), "end", 'fill="#555"'))
        if ya.log:
            body.append(_text(x0 - 3, y1 + 21, "log", "end", 'fill="#999"'))
        for j, (t, label) in enumerate(p.thresholds):
            tx = xa(t)
            body.append(f'<line x1="{tx:.1f}" y1="{y1 - 2}" x2="{tx:.1f}" y2="{y0}" stroke="#000" stroke-dasharray="3,2">'
                        f"<title>{escape(label)} = {t:g}</title></line>")
            anchor = "start" if tx < (x0 + x1) / 2 else "end"
            body.append(_text(tx + (3 if anchor == "start" else -3), y1 + 6 + 10 * j, fmt(t), anchor, 'fill="#000"'))
    rows = max(1, math.ceil(len(panels) / columns))
    return _svg(rows * ph + 6, body, title or "histograms")


def strips(rows: list[tuple[str, list[float], list[float], float | None]], xlabel: str, title: str = "") -> str:
    """Per row: kept values as dots (a box of the quartiles once n >= 5), excluded values as red crosses,
    the row's threshold as a black tick, n at the right. Values in [0, 1]."""
    rows = rows or [("(none in this run)", [], [], None)]
    left = _label_width([r[0] for r in rows])
    right = WIDTH - 150
    ax = Axis(0, 1, left, right, False, [0, 0.2, 0.4, 0.6, 0.8, 1])
    top, h = 6, ROW + 4
    body = []
    for i, (label, kept, excl, thr) in enumerate(rows):
        y = top + i * h
        cy = y + h / 2
        g = [_text(left - 6, cy + 4, _cut(label, left - 10), "end"),
             f'<line x1="{left}" y1="{cy}" x2="{right}" y2="{cy}" stroke="#f0f0f0"/>']
        if len(kept) >= 5:
            q = _quartiles(kept)
            g.append(f'<rect x="{ax(q[0]):.1f}" y="{cy - 6}" width="{max(ax(q[2]) - ax(q[0]), 1):.1f}" height="12" '
                     f'fill="#dbe6f3" stroke="{BLUE}"><title>quartiles {q[0]:.2f} / {q[1]:.2f} / {q[2]:.2f}</title></rect>'
                     f'<line x1="{ax(q[1]):.1f}" y1="{cy - 6}" x2="{ax(q[1]):.1f}" y2="{cy + 6}" stroke="{BLUE}" stroke-width="2"/>')
        for v in kept:
            g.append(f'<circle cx="{ax(v):.1f}" cy="{cy}" r="2.5" fill="{BLUE}" fill-opacity="0.6"/>')
        for v in excl:
            x = ax(v)
            g.append(f'<path d="M{x - 3:.1f},{cy - 3} l6,6 m0,-6 l-6,6" stroke="{RED}" stroke-width="1.5"/>')
        if thr is not None:
            g.append(f'<line x1="{ax(thr):.1f}" y1="{cy - 8}" x2="{ax(thr):.1f}" y2="{cy + 8}" stroke="#000" stroke-width="2">'
                     f"<title>threshold {thr:g}</title></line>")
        n = f"n = {len(kept):,}" + (f" + {len(excl):,} excluded" if excl else "")
        g.append(_text(right + 8, cy + 4, n, "start", 'fill="#333"'))
        body.append("<g>" + "".join(g) + "</g>")
    y_axis = top + len(rows) * h + 2
    return _svg(y_axis + 36, _x_axis(ax, y_axis, xlabel, top) + body, title or xlabel)


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    s = sorted(values)

    def q(p):
        k = (len(s) - 1) * p
        f = math.floor(k)
        return s[f] + (s[min(f + 1, len(s) - 1)] - s[f]) * (k - f)

    return q(0.25), q(0.5), q(0.75)


def columns(labels: list[str], series: list[tuple[str, list[float], str]], ylabel: str, title: str = "") -> str:
    """Vertical stacked columns (e.g. documents per month); tick labels thinned so none overlap."""
    labels = labels or ["(none)"]
    series = [(n, v or [0] * len(labels), c) for n, v, c in series]
    totals = [sum(s[1][i] for s in series) for i in range(len(labels))]
    x0, x1, y0, y1 = 60, WIDTH - 20, 190, 26
    ya = Axis.counts(totals, y0, y1)
    slot = (x1 - x0) / len(labels)
    body = []
    x = x0
    for name, _, colour in series:
        body.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{colour}"/>' + _text(x + 14, 13, name))
        x += 14 + len(name) * CHAR_W + 16
    for t in ya.ticks:
        body.append(f'<line x1="{x0}" y1="{ya(t):.1f}" x2="{x1}" y2="{ya(t):.1f}" stroke="#eee"/>'
                    + _text(x0 - 4, ya(t) + 4, fmt(t), "end", 'fill="#555"'))
    every = max(1, math.ceil(max(len(s) for s in labels) * CHAR_W / slot * 1.15))
    for i, label in enumerate(labels):
        bx = x0 + i * slot
        base = 0
        for name, values, colour in series:
            v = values[i]
            if v:
                ytop, ybot = ya(base + v), (ya(base) if base else y0)
                body.append(f'<rect x="{bx + slot * 0.1:.1f}" y="{ytop:.1f}" width="{slot * 0.8:.1f}" '
                            f'height="{max(ybot - ytop, 1):.1f}" fill="{colour}"><title>{escape(label)}: {v:,} {escape(name)}</title></rect>')
            base += v
        if i % every == 0:
            body.append(_text(bx + slot / 2, y0 + 13, label, "middle", 'fill="#555"'))
    body.append(f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#888"/>')
    body.append(_text(14, (y0 + y1) / 2, ylabel + (" (log)" if ya.log else ""), "middle",
                      f'transform="rotate(-90 14 {(y0 + y1) / 2:.0f})" fill="#333"'))
    return _svg(y0 + 22, body, title or ylabel)
