"""scripts/zero-downtime as a picture: completed requests/s over time, one panel per scenario,
with the operator's moves (HUP, TTIN/TTOU, USR2, kill -9, a recycle) as labelled vertical lines.

A dip at a reload would show as a notch in the line right after its mark; the table only says how
many requests failed in the whole run. The counts come from wrk itself (scripts/lib/
wrk-timeline.lua: a count of responses per bucket), the marks from the script (the moment it
sent a signal and the moment it saw the action complete) and from the server's log."""

import datetime
import os

import loadtools
import logfmt
import svg

LINE, BAD, SIGNAL, DONE = "#1f5fa8", "#c0392b", "#8e44ad", "#27ae60"
LEFT, RIGHT, TOP, PANEL_H, PANEL_GAP = 78, 24, 84, 190, 62
LABEL_ROWS = (9, 20, 31)  # y offsets in a panel of the rows of action labels


class BadInput(Exception):
    pass


def parse_timeline(text):
    """wrk-timeline.lua's file: `# bucket_ms N`, then `START_MS OK BAD` a line. Returns
    (bucket_ms, {start_ms: (ok, bad)})."""
    bucket_ms, counts = None, {}
    for n, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if not words:
            continue
        if words[0] == "#":
            if len(words) == 3 and words[1] == "bucket_ms":
                bucket_ms = _int(words[2], f"line {n} bucket_ms")
            continue
        if len(words) != 3:
            raise BadInput(f"line {n}: want START_MS OK BAD, got {line!r}")
        start, ok, bad = (_int(w, f"line {n}") for w in words)
        counts[start] = (ok, bad)
    if not bucket_ms or bucket_ms <= 0:
        raise BadInput("no `# bucket_ms N` line with N > 0")
    return bucket_ms, counts


def _int(text, what):
    try:
        v = int(text)
    except ValueError:
        raise BadInput(f"{what}: not a whole number: {text!r}")
    if v < 0:
        raise BadInput(f"{what}: negative: {text!r}")
    return v


def series(bucket_ms, counts):
    """[(start_ms, ok/s, bad/s)] for every bucket from the first to the last, empty ones as 0
    (a stall is a gap in wrk's responses), without the first and last (partly outside the load)."""
    if not counts:
        return []
    keys = sorted(counts)
    first, last = keys[0], keys[-1]
    out = []
    for start in range(first + bucket_ms, last, bucket_ms):
        ok, bad = counts.get(start, (0, 0))
        out.append((start, ok * 1000.0 / bucket_ms, bad * 1000.0 / bucket_ms))
    return out


def parse_events(text):
    """The script's marks: `EPOCH_MS KIND LABEL...` a line, KIND `signal` or `done`."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        words = line.split(None, 2)
        if not words:
            continue
        if len(words) < 2 or words[1] not in ("signal", "done"):
            raise BadInput(f"line {n}: want EPOCH_MS signal|done LABEL, got {line!r}")
        out.append((_int(words[0], f"line {n}"), words[1], words[2].strip() if len(words) > 2 else ""))
    return out


def epoch_ms(ts):
    """A log line's ts (2026-12-02T06:01:02.123Z) in ms since the epoch, or None."""
    try:
        t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    except (TypeError, ValueError):
        return None
    return round(t.timestamp() * 1000)


def log_events(path):
    """Marks from the server's log the script did not make itself: workers recycled by
    --max-requests (a missing or foreign log has none)."""
    out = []
    for r in logfmt.records(path):
        t = epoch_ms(r.get("ts"))
        if t is not None and r.get("msg") == "recycling worker":
            out.append((t, "signal", "recycle"))
    return out


class Scenario:
    """One panel's data: its name, series, marks, and the wrk summary line under the name."""

    def __init__(self, name, points, events, summary):
        self.name, self.points, self.events, self.summary = name, points, events, summary


def load(name, directory):
    """A scenario from the files zero-downtime leaves in DIRECTORY: timeline.txt, events.txt,
    server.log and wrk.txt. Without a timeline (the scenario failed before its load ended) the
    panel says so; a malformed file is an error."""
    try:
        with open(os.path.join(directory, "timeline.txt")) as f:
            bucket_ms, counts = parse_timeline(f.read())
    except FileNotFoundError:
        return Scenario(name, [], [], "no timeline.txt: the scenario's load did not run to its end")
    except BadInput as e:
        raise BadInput(f"{name}: timeline.txt: {e}")
    events = []
    try:
        with open(os.path.join(directory, "events.txt")) as f:
            events = parse_events(f.read())
    except FileNotFoundError:
        pass
    except BadInput as e:
        raise BadInput(f"{name}: events.txt: {e}")
    events += log_events(os.path.join(directory, "server.log"))
    return Scenario(name, series(bucket_ms, counts), sorted(events), _summary(directory, bucket_ms))


def _summary(directory, bucket_ms):
    try:
        with open(os.path.join(directory, "wrk.txt")) as f:
            r = loadtools.wrk(f.read())
    except OSError:
        return f"per {bucket_ms} ms"
    if r["requests"] is None:
        return f"per {bucket_ms} ms; wrk printed no summary"
    return (f"per {bucket_ms} ms; wrk: {r['requests']:,} requests, {loadtools.wrk_failed(r)} failed "
            f"(socket errors + non-2xx/3xx)")


def render(scenarios, title, subtitle):
    """The SVG document for SCENARIOS (a list of Scenario) as text; SUBTITLE is a list of lines."""
    width = 980
    head = TOP + 17 * max(len(subtitle) - 1, 0)
    height = head + max(len(scenarios), 1) * (PANEL_H + PANEL_GAP) + 10
    doc = svg.Svg(width, height)
    y = svg.heading(doc, LEFT, title, subtitle) + 14
    x = svg.legend(doc, LEFT, y, [("completed responses/s", LINE), ("non-2xx/3xx responses/s", BAD)])
    x = _legend_line(doc, x, y, SIGNAL, None, "operator action")
    _legend_line(doc, x, y, DONE, "3,3", "script saw it complete")
    if not scenarios:
        doc.text(width / 2, head + PANEL_H / 2, "no scenarios recorded", size=14, anchor="middle", cls="empty")
    for i, s in enumerate(scenarios):
        _panel(doc, s, head + i * (PANEL_H + PANEL_GAP) + 20, width)
    return doc.render()


def _legend_line(doc, x, y, colour, dash, name):
    doc.line(x, y - 10, x, y + 1, stroke=colour, width=2, dash=dash)
    doc.text(x + 6, y, name, size=11, cls="legend")
    return x + 18 + 7 * len(name)


def _panel(doc, s, top, width):
    bottom = top + PANEL_H - 30
    right = width - RIGHT
    doc.text(LEFT, top - 6, s.name, size=12, weight="bold", cls="panel-title")
    doc.text(LEFT + 12 + 8 * len(s.name), top - 6, s.summary, size=10, fill="#555", cls="panel-summary")
    peak = max([p[1] for p in s.points] + [p[2] for p in s.points] + [0])
    axis = svg.Axis(top + 34, bottom, 0, svg.linear_ticks(peak)[-1])
    axis.draw(doc, LEFT, right, "requests/s")
    if not s.points:
        doc.text((LEFT + right) / 2, (top + bottom) / 2, "no full bucket of load recorded", size=12,
                 anchor="middle", fill="#b00", cls="empty")
        return
    t0 = s.points[0][0]
    step = s.points[1][0] - t0 if len(s.points) > 1 else 1
    span = max(s.points[-1][0] + step - t0, 1)

    def x_of(t):
        return LEFT + (t - t0) / span * (right - LEFT)

    seconds = span / 1000.0
    for tick in svg.linear_ticks(seconds, count=10):
        if tick > seconds + 1e-9:
            break
        x = x_of(t0 + tick * 1000)
        doc.line(x, bottom, x, bottom + 4, stroke="#555")
        doc.text(x, bottom + 15, svg.si(tick), size=10, anchor="middle", cls="tick")
    doc.text((LEFT + right) / 2, bottom + 28, "seconds since the first full bucket of load", size=10,
             anchor="middle", fill="#555", cls="axis-label")
    for start, _, bad in s.points:
        if bad > 0:
            y = axis.y(bad)
            doc.rect(x_of(start), y, x_of(start + step) - x_of(start), bottom - y, BAD, cls="bad",
                     title=f"{bad:g} non-2xx/3xx per second")
    line = []
    for start, ok, _ in s.points:
        y = axis.y(ok)
        line += [(x_of(start), y), (x_of(start + step), y)]
    doc.polyline(line, LINE, cls="rate")
    row_ends = [float("-inf")] * len(LABEL_ROWS)
    shown = [e for e in s.events if t0 <= e[0] <= t0 + span]
    repeats = {}
    for _, kind, label in shown:
        if kind == "signal":
            repeats[label] = repeats.get(label, 0) + 1
    for t, kind, label in shown:
        x = x_of(t)
        if kind != "signal":
            doc.line(x, top + 34, x, bottom, stroke=DONE, width=1, dash="3,3", cls="done")
            continue
        # A label that repeats (every recycle) is written once, with its count, not over each line.
        if label not in repeats:
            doc.line(x, top + 34, x, bottom, stroke=SIGNAL, width=1.5, cls="mark")
            continue
        n = repeats.pop(label)
        if n > 1:
            label = f"{label} (x{n})"
        # Labels above the plot, each in the first of the rows where it does not overlap the last.
        row = next((i for i, end in enumerate(row_ends) if end < x), min(range(len(row_ends)), key=row_ends.__getitem__))
        row_ends[row] = x + 6 * len(label) + 6
        y = top + LABEL_ROWS[row]
        doc.line(x, y + 2, x, bottom, stroke=SIGNAL, width=1.5, cls="mark")
        # Near the right edge the label goes to the left of its line, inside the figure.
        fits = x + 6 * len(label) + 2 <= width
        doc.text(x + 2 if fits else x - 2, y, label, size=10, anchor="start" if fits else "end", fill=SIGNAL,
                 cls="mark-label")
