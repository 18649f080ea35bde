"""nginx's logs as the scripts configure them.

Access log: `$msec $status "$upstream_status" "$upstream_addr" $request_method "$request_uri"
$request_time` and, for scripts/nginx-e2e, more fields after those (ignored here).
Error log: the [warn]-or-worse lines, by kind."""

import re

LINE = re.compile(r'^(\S+) (\d+) "([^"]*)" "([^"]*)" (\S+) "([^"]*)" (\S+)( .*)?$')
WARN_OR_WORSE = re.compile(r"\[(warn|error|crit|alert|emerg)\]")


def read_from(path, offset):
    with open(path, "rb") as f:
        f.seek(int(offset))
        return f.read().decode("latin-1").splitlines()


def _last(field):
    # $upstream_addr / $upstream_status: "A, B" (tries) or "A : B" (internal redirect); the last answered.
    return field.replace(" : ", ", ").split(", ")[-1]


def access(lines, stop_ms=0, post_status=None):
    """Requests, non-2xx (a 499 within 100 ms before stop_ms or after excepted: the load closing its
    connections), retried (more than one upstream try), per-host counts. A POST passes only when
    the upstream's last status is post_status (when given: scripts/cluster's POSTs must reach a
    host's 405), else like any request."""
    r = {"requests": 0, "non2xx": 0, "stop499": 0, "retried": 0, "get": 0, "get_bad": 0, "post": 0,
         "post_bad": 0, "hosts": {}, "bad": [], "retries": []}
    for raw in lines:
        m = LINE.match(raw)
        if not m:
            r["non2xx"] += 1
            r["get_bad"] += 1
            r["bad"].append("unparsed: " + raw)
            continue
        r["requests"] += 1
        msec, status, ups, addr, method = float(m.group(1)), int(m.group(2)), m.group(3), m.group(4), m.group(5)
        host = _last(addr)
        r["hosts"][host] = r["hosts"].get(host, 0) + 1
        if "," in ups or ":" in ups:
            r["retried"] += 1
            r["retries"].append(raw)
        if status == 499 and stop_ms > 0 and msec * 1000 >= stop_ms - 100:
            r["stop499"] += 1
            continue
        if method == "POST" and post_status is not None:
            r["post"] += 1
            if not (status == post_status and _last(ups) == str(post_status)):
                r["post_bad"] += 1
                r["non2xx"] += 1
                r["bad"].append(raw)
            continue
        r["get"] += 1   # (any request but a judged POST: the scripts' loads send GETs)
        if not 200 <= status < 300:
            r["non2xx"] += 1
            r["get_bad"] += 1
            r["bad"].append(raw)
    return r


KINDS = [("premature", "upstream prematurely closed"), ("recv", "recv() failed"), ("reset", "reset by peer"),
         ("connect", "connect() failed"), ("ctimeout", None), ("nolive", "no live upstreams"),
         ("disabled", "upstream server temporarily disabled")]
CUT = ("premature", "recv", "reset")   # a host closed a connection nginx had sent a request on


def errors(lines):
    """The [warn]-or-worse lines: all of them, a count per kind, the others; `lines` shows cut
    requests and unknown kinds first, `connect_lines` a few connect failures apart."""
    r = {k: 0 for k, _ in KINDS}
    r.update({"other": 0, "total": 0, "all": [], "lines": [], "connect_lines": []})
    for raw in lines:
        if not WARN_OR_WORSE.search(raw):
            continue
        r["total"] += 1
        r["all"].append(raw)
        hit = [k for k, s in KINDS
               if (s and s in raw) or (k == "ctimeout" and "upstream timed out" in raw and "while connecting" in raw)]
        for k in hit:
            r[k] += 1
        if not hit:
            r["other"] += 1
        if hit and set(hit) <= {"connect", "ctimeout", "disabled"}:
            if len(r["connect_lines"]) < 3 and "disabled" not in hit:
                r["connect_lines"].append(raw)
        elif len(r["lines"]) < 12:
            r["lines"].append(raw)
    return r
