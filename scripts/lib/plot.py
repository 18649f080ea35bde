#!/usr/bin/env python3
"""The scripts' plots, as self-contained SVG files written by hand (scripts/lib/svg.py).

  plot.py bench ROWS OUT.svg [--note TEXT]
        scripts/bench's table (benchplot.parse_rows's format) as bars: req/s, MB/s, p99 and
        requests per CPU-second, ours next to nginx
  plot.py timeline OUT.svg [--note TEXT] NAME=DIR...
        scripts/zero-downtime's scenarios (each DIR with timeline.txt, events.txt, server.log,
        wrk.txt) as requests/s over time with the actions marked

The title carries the date and the commit the plot was made from. OUT is written only once the
document parses as XML, through a rename: bad input leaves no file and exits 1 with the reason;
usage errors exit 3."""

import datetime
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchplot  # noqa: E402
import svg  # noqa: E402
import timelineplot  # noqa: E402

USAGE = "usage: plot.py bench ROWS OUT.svg [--note TEXT] | timeline OUT.svg [--note TEXT] NAME=DIR... (--help)"
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def provenance():
    """`2026-12-02 06:40 UTC, commit 1a2b3c4` (+ `with local changes`), for the subtitle."""
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    try:
        commit = subprocess.run(["git", "-C", TOP, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", TOP, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "", ""
    return f"{when}, commit {commit or 'unknown'}" + (" with local changes" if dirty else "")


def take_note(args):
    if "--note" not in args:
        return ""
    i = args.index("--note")
    if i + 1 >= len(args):
        raise benchplot.BadInput("--note needs a value")
    note = args[i + 1]
    del args[i:i + 2]
    return note


def main(argv):
    args = list(argv)
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if not args:
        print(USAGE, file=sys.stderr)
        return 3
    cmd, args = args[0], args[1:]
    try:
        note = take_note(args)
        subtitle = [provenance()] + ([note] if note else [])
        if cmd == "bench" and len(args) == 2:
            with open(args[0]) as f:
                cells, rows = benchplot.parse_rows(f.read())
            doc = benchplot.render(cells, rows, "supervisor next to nginx: scripts/bench", subtitle)
            out = args[1]
        elif cmd == "timeline" and len(args) >= 2:
            out, scenarios = args[0], []
            for spec in args[1:]:
                name, sep, directory = spec.partition("=")
                if not sep or not name:
                    raise benchplot.BadInput(f"want NAME=DIR, got {spec!r}")
                scenarios.append(timelineplot.load(name, directory))
            doc = timelineplot.render(scenarios, "requests/s under reloads, scaling, upgrade and kill -9: "
                                      "scripts/zero-downtime", subtitle)
        else:
            print(USAGE, file=sys.stderr)
            return 3
        svg.write(out, doc)
    except (benchplot.BadInput, timelineplot.BadInput, OSError) as e:
        print(f"plot: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
