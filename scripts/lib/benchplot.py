"""scripts/bench's table as a picture: for each cell (size x connections) ours next to nginx, in
four panels: requests/s, MB/s, p99 latency and requests per server CPU-second.

The panels are log-scaled: a 13 MB cell does a thousandth of a 13 B cell's requests/s, and on a
linear axis it would vanish. Every bar carries its figure, and each cell our ratio to nginx, so
the exact numbers stay readable."""

import math

import svg

SERVERS = ("nginx", "supervisor")
COLOURS = {"nginx": "#7f8ea3", "supervisor": "#e8710a"}
# (field, panel title)
PANELS = (("rps", "requests/s"),
          ("mbps", "MB/s (10^6 bytes/s, headers + bodies)"),
          ("p99_ms", "p99 latency, ms (lower is better)"),
          ("req_cpu_s", "requests per server CPU-second (user + system, whole process tree)"))
FIELDS = ("rps", "mbps", "p99_ms", "errors", "req_cpu_s")

BAR, GAP, CELL_PAD = 30, 2, 16
LEFT, RIGHT, PANEL_H, PANEL_GAP, TOP = 78, 24, 170, 78, 92


class BadInput(Exception):
    pass


def _value(text, what):
    if text in ("-", ""):
        return None
    try:
        v = float(text)
    except ValueError:
        raise BadInput(f"{what}: not a number: {text!r}")
    if not math.isfinite(v) or v < 0:
        raise BadInput(f"{what}: not a figure: {text!r}")
    return v


def parse_rows(text):
    """The rows bench writes, one a line: SIZE CONNS SERVER RPS MBPS P99_MS ERRORS REQ_CPU_S
    ("-" for a figure it has not got). Returns (cells in first-seen order, {(size, conns,
    server): {field: value or None}}). Lines starting with # are comments."""
    cells, rows = [], {}
    for n, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if len(words) != 3 + len(FIELDS):
            raise BadInput(f"line {n}: want {3 + len(FIELDS)} fields, got {len(words)}: {line!r}")
        size, conns, server = words[:3]
        if server not in SERVERS:
            raise BadInput(f"line {n}: unknown server {server!r} (want nginx or supervisor)")
        if (size, conns) not in cells:
            cells.append((size, conns))
        rows[(size, conns, server)] = {f: _value(v, f"line {n} {f}") for f, v in zip(FIELDS, words[3:])}
    return cells, rows


def ratio(ours, theirs):
    """ours / theirs, or None when either is missing or theirs is 0."""
    if ours is None or theirs is None or theirs <= 0:
        return None
    return ours / theirs


def render(cells, rows, title, subtitle):
    """The SVG document for CELLS [(size, conns)] and ROWS (parse_rows's) as text; SUBTITLE is
    a list of lines."""
    cell_w = len(SERVERS) * (BAR + GAP) + CELL_PAD
    width = max(LEFT + RIGHT + cell_w * max(len(cells), 1), 760)
    head = TOP + 17 * max(len(subtitle) - 1, 0)
    height = head + len(PANELS) * (PANEL_H + PANEL_GAP) + 20
    doc = svg.Svg(width, height)
    y = svg.heading(doc, LEFT, title, subtitle) + 14
    svg.legend(doc, LEFT, y, [(s, COLOURS[s]) for s in SERVERS])
    doc.text(width - RIGHT, y, "log scales; ratio = supervisor / nginx", size=10, anchor="end", fill="#555")
    if not cells:
        doc.text(width / 2, head + PANEL_H / 2, "no cells: the benchmark produced no results", size=14,
                 anchor="middle", cls="empty")
    for p, (field, label) in enumerate(PANELS):
        top = head + p * (PANEL_H + PANEL_GAP) + 16
        _panel(doc, cells, rows, field, label, top, width, cell_w)
    return doc.render()


def _panel(doc, cells, rows, field, label, top, width, cell_w):
    bottom = top + PANEL_H - 16
    values = [rows.get((s, c, srv), {}).get(field) for s, c in cells for srv in SERVERS]
    lo, hi = svg.log_decades(values)
    axis = svg.Axis(top + 26, bottom, lo, hi, log=True)  # room above for the ratios and figures
    doc.text(LEFT, top - 4, label, size=12, weight="bold", cls="panel-title")
    axis.draw(doc, LEFT, width - RIGHT, "")
    for i, (size, conns) in enumerate(cells):
        x0 = LEFT + CELL_PAD / 2 + i * cell_w
        for j, server in enumerate(SERVERS):
            row = rows.get((size, conns, server))
            v = row.get(field) if row else None
            x = x0 + j * (BAR + GAP)
            _bar(doc, axis, x, v, row, server, size, conns, label)
        r = ratio(*(rows.get((size, conns, s), {}).get(field) for s in ("supervisor", "nginx")))
        doc.text(x0 + (BAR + GAP), top + 8, f"{r:.2f}x" if r is not None else "-", size=10, anchor="middle",
                 fill=COLOURS["supervisor"], weight="bold", cls="ratio")
        mid = x0 + (BAR + GAP)
        doc.text(mid, bottom + 14, size, size=10, anchor="middle", cls="cell")
        doc.text(mid, bottom + 26, f"c={conns}", size=10, anchor="middle", fill="#555", cls="cell")


def _bar(doc, axis, x, v, row, server, size, conns, label):
    """One server's bar in a cell, its figure above it: n/a when missing or failed, no bar at 0."""
    what = f"{server} {size} c={conns}: {label}"
    errors = (row or {}).get("errors")
    flag = f", {errors:.0f} errors" if errors else ""
    if row is None or v is None:
        doc.text(x + BAR / 2, axis.bottom - 4, "n/a" if row else "failed", size=9, anchor="middle", fill="#b00",
                 cls="missing")
        return
    y = axis.bottom
    if v > 0:
        y = axis.y(v)
        doc.rect(x, y, BAR, axis.bottom - y, COLOURS[server], cls=f"bar {server}", title=f"{what} = {v:g}{flag}")
    text = svg.si(v) + ("!" if errors else "")
    doc.text(x + BAR / 2, y - 3, text, size=9, anchor="middle", fill="#b00" if errors else "#222", cls="value")
