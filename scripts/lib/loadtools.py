"""What the load generators print: wrk, ab (apache2-utils) and scripts/echo-load.c, parsed, and
which runs count as failed."""

import re

_SCALE = {"B": 1, "KB": 1024, "MB": 1048576, "GB": 1073741824, "TB": 1099511627776}
_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}
SOCKET_ERRORS = ("connect", "read", "write", "timeout")


def _ms(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text)
    return float(m.group(1)) * _MS[m.group(2)] if m else None


def wrk(text):
    """wrk's output: requests, rps, mbps (10^6 bytes/s), p99_ms, max_latency (as printed),
    connect/read/write/timeout socket errors, non2xx; `None` for a figure wrk did not print."""
    r = {"requests": None, "rps": None, "mbps": None, "p99_ms": None, "max_latency": None,
         "connect": 0, "read": 0, "write": 0, "timeout": 0, "non2xx": 0, "socket_errors_line": None}
    for line in text.splitlines():
        words = line.split()
        if not words:
            continue
        if words[0] == "Requests/sec:" and len(words) > 1:
            r["rps"] = float(words[1])
        elif words[0] == "Transfer/sec:" and len(words) > 1:
            m = re.fullmatch(r"([0-9.]+)([KMGT]?B)", words[1])
            if m:
                r["mbps"] = float(m.group(1)) * _SCALE[m.group(2)] / 1e6
        elif words[0] == "99%" and len(words) > 1 and r["p99_ms"] is None:
            r["p99_ms"] = _ms(words[1])
        elif words[0] == "Latency" and len(words) > 3 and r["max_latency"] is None:
            r["max_latency"] = words[3]
        elif " requests in " in line and words[0].isdigit():
            r["requests"] = int(words[0])
        elif "Socket errors:" in line:
            r["socket_errors_line"] = line.split("Socket errors:", 1)[1].strip()
            for kind, n in re.findall(r"(connect|read|write|timeout) (\d+)", line):
                r[kind] = int(n)
        elif "Non-2xx or 3xx responses:" in line:
            r["non2xx"] = int(words[-1])
    return r


def wrk_failed(r):
    """Requests that failed: socket errors of every kind plus non-2xx/3xx answers."""
    return sum(r[k] for k in SOCKET_ERRORS) + r["non2xx"]


def ab(text):
    """ab's output: complete, failed, non2xx, rps (None when ab did not print it)."""
    r = {"complete": None, "failed": None, "non2xx": 0, "rps": None}
    for line in text.splitlines():
        words = line.split()
        if line.startswith("Complete requests:"):
            r["complete"] = int(words[2])
        elif line.startswith("Failed requests:"):
            r["failed"] = int(words[2])
        elif line.startswith("Non-2xx responses:"):
            r["non2xx"] = int(words[2])
        elif line.startswith("Requests per second:"):
            r["rps"] = float(words[3])
    return r


def ab_problem(r, want):
    """Why an ab round of WANT requests failed, or None."""
    if r["complete"] != want or r["failed"] != 0 or r["non2xx"]:
        return f"complete={r['complete']} failed={r['failed']} non2xx={r['non2xx']}"
    return None


def echo_load(line):
    """scripts/echo-load's one result line (`rps=... p50_us=... errors=N`) as a dict of strings."""
    return dict(re.findall(r"(\w+)=(\S+)", line))


def echo_load_problem(line):
    """Why an echo-load run failed (no rps, or errors), or None."""
    r = echo_load(line)
    if "rps" not in r:
        return "no rps= in its output"
    if r.get("errors") != "0":
        return f"errors={r.get('errors', '?')}"
    return None
