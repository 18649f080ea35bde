"""The shipped nginx site (etc/nginx/supervisor.conf), rendered for a test: everything as shipped
except what the test must change, each change counted so that a site this cannot edit fails."""

import re


def render(site, out, by, listen, address=None, servers=None, zone=None, connect_timeout=None, keepalive=None):
    """Replaces the one `listen` of the server block, and the upstream's one `server` line: only
    its address (address), or the whole line by one line per entry of servers. Optionally adds
    `zone` to the upstream, sets proxy_connect_timeout (replaced, or added to the server block)
    and the upstream's keepalive_timeout. Raises ValueError when the site does not fit."""
    with open(site) as f:
        lines = f.read().split("\n")
    block, result = [], []
    ups = lis = cto = 0
    for line in lines:
        code = line.split("#", 1)[0]
        m = re.match(r"^(\s*)(\w+)(\s+[^{;]*)?\{\s*$", code)
        if m:
            block.append(m.group(2))
            result.append(line)
            if block == ["upstream"] and zone:
                result.append(f"{m.group(1)}    zone {zone} 64k;   # added by {by}: fail state shared by the workers")
            continue
        if re.match(r"^\s*\}\s*$", code):
            if block == ["server"] and connect_timeout and cto == 0:
                result.append(f"    proxy_connect_timeout {connect_timeout};   # added by {by}")
                cto += 1
            block.pop()
            result.append(line)
            continue
        if block == ["upstream"]:
            m = re.match(r"^(\s*server\s+)(\S+?)((\s[^;]*)?;.*)$", line)
            if m:
                ups += 1
                if servers is not None:
                    result += [f"{m.group(1)}{s};" for s in servers]
                    continue
                line = m.group(1) + address + m.group(3)
            m = re.match(r"^(\s*keepalive_timeout\s+)([^;\s]+)(;.*)$", line)
            if m and keepalive:
                line = m.group(1) + keepalive + m.group(3)
                keepalive = None
        if block == ["server"]:
            m = re.match(r"^(\s*listen\s+)(\S+?)((\s[^;]*)?;.*)$", line)
            if m:
                line = m.group(1) + listen + m.group(3)
                lis += 1
        if connect_timeout and (not block or block[0] in ("server", "http", "upstream")):
            m = re.match(r"^(\s*proxy_connect_timeout\s+)(\S+?)(;.*)$", line)
            if m:
                line = f"{m.group(1)}{connect_timeout}{m.group(3)}   # {by} (the site says {m.group(2)})"
                cto += 1
        result.append(line)
    if block:
        raise ValueError("unbalanced braces in " + site)
    if keepalive:
        raise ValueError(f"no keepalive_timeout in the upstream block of {site}")
    if ups != 1 or lis != 1 or (connect_timeout and cto != 1):
        raise ValueError(f"{site} has {ups} upstream server lines, {lis} listen lines"
                         + (f" and {cto} proxy_connect_timeout lines" if connect_timeout else "")
                         + "; this test replaces exactly one of each")
    with open(out, "w") as f:
        f.write(f"# rendered by {by} from {site}\n" + "\n".join(result))


def upstream_keepalive_ms(site):
    """The upstream block's keepalive_timeout, in ms."""
    with open(site) as f:
        return upstream_keepalive_ms_text(f.read(), site)


def upstream_keepalive_ms_text(text, site="the site"):
    text = text.split("upstream", 1)[1].split("}", 1)[0]
    m = re.search(r"^\s*keepalive_timeout\s+(\d+)(ms|s|m)?\s*;", text, re.M)
    if not m:
        raise ValueError("no keepalive_timeout in the upstream block of " + site)
    return int(m.group(1)) * {"ms": 1, "s": 1000, None: 1000, "m": 60000}[m.group(2)]
