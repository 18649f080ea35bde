"""The server's log: one logfmt event a line (`ts=... level=info msg="worker ready" pid=12`).

Read for the events `supervisor status --json` cannot show (a port once listening, how many
workers were recycled, an upgrade's new pid); state that status shows is read there instead."""

import re

_PAIR = re.compile(r'([^\s=]+)=("((?:[^"\\]|\\.)*)"|\S*)')
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def parse(line):
    """The fields of one line as a dict (quotes removed, escapes undone)."""
    fields = {}
    for m in _PAIR.finditer(line):
        if m.group(3) is not None:
            fields[m.group(1)] = re.sub(r"\\(.)", lambda e: _ESCAPES.get(e.group(1), e.group(1)), m.group(3))
        else:
            fields[m.group(1)] = m.group(2)
    return fields


def records(path, offset=0):
    """The events of the log at PATH from byte OFFSET on (a missing file has none)."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            text = f.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    return [parse(line) for line in text.splitlines() if line.strip()]


def matching(recs, msg, where=()):
    """The events with that msg whose fields equal every KEY=VALUE of `where`."""
    want = dict(where)
    return [r for r in recs if r.get("msg") == msg and all(r.get(k) == v for k, v in want.items())]


def listening_port(recs, host="127.0.0.1"):
    """The port of the first `msg=listening addr=HOST:PORT`, or None."""
    for r in matching(recs, "listening"):
        addr = r.get("addr", "")
        if addr.startswith(host + ":") and addr[len(host) + 1:].isdigit():
            return int(addr[len(host) + 1:])
    return None


def problems(recs, levels=("warn", "warning", "error", "critical")):
    """The events logged at a level worth a look."""
    return [r for r in recs if r.get("level") in levels]
