"""A small hand-written SVG writer for the scripts' plots: shapes, text, axes with ticks.

Why by hand: the product and its scripts take no packages (no matplotlib), and gnuplot would
be one more install. An SVG is text; a few shapes and an axis are all the plots need. The
output is self-contained (no external fonts, styles or scripts) and every string written
into it is escaped, so a size or label from the command line cannot break the document."""

import math
import os
import xml.etree.ElementTree as ET

FONT = "DejaVu Sans, Verdana, Arial, sans-serif"


def esc(text):
    """TEXT made safe for an SVG text node or attribute value."""
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def num(v):
    """A coordinate, short: 12.5, not 12.500000001."""
    return f"{v:.1f}".rstrip("0").rstrip(".")


def si(v):
    """A figure as people read it on an axis: 950, 1.2k, 34k, 1.5M; None as n/a."""
    if v is None:
        return "n/a"
    a = abs(v)
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= scale:
            return _trim(v / scale) + suffix
    return _trim(v)


def _trim(v):
    a = abs(v)
    if a >= 100 or a == 0:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}".rstrip("0").rstrip(".")
    if a >= 0.01:
        return f"{v:.2f}".rstrip("0").rstrip(".")
    return f"{v:.1g}"


class Svg:
    """An SVG document being built, element by element."""

    def __init__(self, width, height):
        self.width, self.height = width, height
        self.parts = []

    def rect(self, x, y, w, h, fill, cls=None, title=None, **attrs):
        extra = _attrs(attrs)
        c = f' class="{esc(cls)}"' if cls else ""
        shape = f'<rect x="{num(x)}" y="{num(y)}" width="{num(max(w, 0))}" height="{num(max(h, 0))}" fill="{esc(fill)}"{c}{extra}'
        self.parts.append(f"{shape}><title>{esc(title)}</title></rect>" if title else shape + "/>")

    def line(self, x1, y1, x2, y2, stroke="#000", width=1, dash=None, cls=None):
        d = f' stroke-dasharray="{esc(dash)}"' if dash else ""
        c = f' class="{esc(cls)}"' if cls else ""
        self.parts.append(f'<line x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}" '
                          f'stroke="{esc(stroke)}" stroke-width="{num(width)}"{d}{c}/>')

    def polyline(self, points, stroke, width=1.5, cls=None):
        if not points:
            return
        c = f' class="{esc(cls)}"' if cls else ""
        pts = " ".join(f"{num(x)},{num(y)}" for x, y in points)
        self.parts.append(f'<polyline points="{pts}" fill="none" stroke="{esc(stroke)}" '
                          f'stroke-width="{num(width)}" stroke-linejoin="round"{c}/>')

    def text(self, x, y, s, size=11, anchor="start", weight=None, fill="#222", rotate=None, cls=None):
        w = f' font-weight="{esc(weight)}"' if weight else ""
        r = f' transform="rotate({num(rotate)} {num(x)} {num(y)})"' if rotate is not None else ""
        c = f' class="{esc(cls)}"' if cls else ""
        self.parts.append(f'<text x="{num(x)}" y="{num(y)}" font-size="{num(size)}" text-anchor="{anchor}" '
                          f'fill="{esc(fill)}"{w}{r}{c}>{esc(s)}</text>')

    def render(self):
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" height="{self.height}" '
                f'viewBox="0 0 {self.width} {self.height}" font-family="{FONT}">')
        return "\n".join([head, f'<rect width="{self.width}" height="{self.height}" fill="#fff"/>',
                          *self.parts, "</svg>"]) + "\n"


def _attrs(attrs):
    return "".join(f' {k.replace("_", "-")}="{esc(v)}"' for k, v in attrs.items())


def linear_ticks(hi, count=5):
    """Round tick values from 0 up to at least HI (HI <= 0 gives 0..1)."""
    if not hi or hi <= 0 or not math.isfinite(hi):
        hi = 1.0
    raw = hi / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    n = math.ceil(hi / step - 1e-9)
    return [i * step for i in range(n + 1)]


def log_decades(values):
    """(lo, hi) powers of ten around the positive VALUES; (1, 10) when there are none."""
    pos = [v for v in values if v is not None and v > 0 and math.isfinite(v)]
    if not pos:
        return 1.0, 10.0
    # The lowest figure sits above the floor (a bar of 10 on a 10..1000 axis would not show).
    lo = 10.0 ** math.floor(math.log10(min(pos)) - 1e-9)
    hi = 10.0 ** math.ceil(math.log10(max(pos)))
    if hi <= lo:
        hi = lo * 10
    return lo, hi


class Axis:
    """A value axis: maps a value to a y pixel between BOTTOM and TOP, linear or log."""

    def __init__(self, top, bottom, lo, hi, log=False):
        self.top, self.bottom, self.lo, self.hi, self.log = top, bottom, lo, hi, log

    def y(self, v):
        if self.log:
            if v <= 0:
                return self.bottom
            f = (math.log10(v) - math.log10(self.lo)) / (math.log10(self.hi) - math.log10(self.lo))
        else:
            f = (v - self.lo) / (self.hi - self.lo) if self.hi > self.lo else 0.0
        f = min(max(f, 0.0), 1.0)
        return self.bottom - f * (self.bottom - self.top)

    def ticks(self):
        if not self.log:
            return linear_ticks(self.hi)
        out, v = [], self.lo
        while v <= self.hi * 1.0001:
            out.append(v)
            v *= 10
        return out

    def draw(self, svg, left, right, label):
        """Grid lines, tick labels at LEFT, the axis line, and LABEL rotated along it."""
        for t in self.ticks():
            y = self.y(t)
            svg.line(left, y, right, y, stroke="#e3e3e3", cls="grid")
            svg.text(left - 6, y + 4, si(t), size=10, anchor="end", cls="tick")
        svg.line(left, self.top, left, self.bottom, stroke="#555")
        svg.line(left, self.bottom, right, self.bottom, stroke="#555")
        mid = (self.top + self.bottom) / 2
        svg.text(left - 48, mid, label, size=11, anchor="middle", rotate=-90, cls="axis-label")


def heading(svg, x, title, lines):
    """The figure's title and its subtitle LINES (where, when, how) from the top; returns the y
    below them."""
    svg.text(x, 26, title, size=16, weight="bold", cls="title")
    y = 26
    for line in lines:
        y += 17
        svg.text(x, y, line, size=11, fill="#555", cls="subtitle")
    return y + 8


def legend(svg, x, y, entries):
    """Coloured swatches with names, left to right from (X, Y); returns the x after them."""
    for name, colour in entries:
        svg.rect(x, y - 9, 12, 10, colour, cls="legend-swatch")
        svg.text(x + 16, y, name, size=11, cls="legend")
        x += 24 + 7 * len(name)
    return x


def write(path, document):
    """Writes DOCUMENT to PATH only if it parses as XML, through a temp file and a rename, so
    a failure never leaves a half-written plot behind."""
    ET.fromstring(document)
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(document)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
