"""scripts/cluster's helpers: the site rendered for N hosts, the POST load client, nginx's logs and
`status --json`, summarized.

  cluster_helper.py render SITE OUT LISTEN CONNECT-TIMEOUT ZONE SERVER...
  cluster_helper.py post HOST PORT CONNS STOPFILE OUT
  cluster_helper.py ngxlog LOG OFFSET STOP_MS OUT     (JSON to OUT)
  cluster_helper.py errlog LOG OFFSET OUT             (JSON to OUT)
  cluster_helper.py status JSON                       (pid phase in_rotation ready desired requests)
  cluster_helper.py field JSON KEY...
  cluster_helper.py freeport
"""

import json, os, random, select, socket, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nginxlog  # noqa: E402
import nginxsite  # noqa: E402
import status as status_mod  # noqa: E402
from rawhttp import read_response as _read_response  # noqa: E402


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def render(site, out, listen, connect_timeout, zone, *servers):
    """The shipped site: its one upstream `server` line replaced by `servers` (one line each),
    `zone` added to that upstream, proxy_connect_timeout set, its one `listen` replaced."""
    try:
        nginxsite.render(site, out, "scripts/cluster", listen, servers=servers, zone=zone, connect_timeout=connect_timeout)
    except ValueError as e:
        fail(f"render: {e}")


def read_response(s):
    status, headers, _, body = _read_response(s, keep=True)
    return status, headers, body

def post(host, port, conns, stopfile, out):
    """conns keep-alive connections looping POST /hello/post-I-N with a body, until stopfile exists.
    Answered: the host's 405 `method not allowed` (the app has no POST route). Anything else fails,
    including a connection closed under a request already sent."""
    lock = threading.Lock()
    st = {"sent": 0, "answered": 0, "failed": 0, "connects": 0, "stale": 0, "reasons": {}, "examples": []}
    def failed(reason, detail):
        with lock:
            st["failed"] += 1
            st["reasons"][reason] = st["reasons"].get(reason, 0) + 1
            if len(st["examples"]) < 10:
                st["examples"].append(f"{time.time():.3f} {detail}")
    def one(i):
        s, n, used = None, 0, 0
        rnd = random.Random(i)
        while not os.path.exists(stopfile):
            if s is not None and used and select.select([s], [], [], 0)[0]:
                # Readable while idle: nginx closed it (keepalive_timeout, a reload). Like urllib3
                # and browsers, check before reusing a connection and open a new one: not a failure.
                with lock: st["stale"] += 1
                s.close(); s = None
            if s is None:
                try:
                    s = socket.create_connection((host, port), timeout=10); used = 0
                    with lock: st["connects"] += 1
                except Exception as e:
                    failed("connect to nginx: " + type(e).__name__, f"conn {i}: connect: {e}")
                    time.sleep(0.05); continue
            n += 1
            body = bytes(rnd.randrange(97, 123) for _ in range(rnd.randrange(64, 2049)))
            req = (f"POST /hello/post-{i}-{n} HTTP/1.1\r\nHost: cluster\r\nUser-Agent: cluster-post\r\n"
                   f"Content-Type: application/octet-stream\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
            with lock: st["sent"] += 1
            try:
                s.sendall(req)
                status, headers, rbody = read_response(s)
            except Exception as e:
                where = "reused" if used else "new"
                failed(f"{type(e).__name__} on a {where} connection to nginx",
                       f"conn {i} POST {n} ({where} connection, {used} earlier requests on it): {e}")
                s.close(); s = None; continue
            used += 1
            if status == 405 and rbody == b"method not allowed\n":
                with lock: st["answered"] += 1
            else:
                failed(f"status {status}", f"conn {i} POST {n}: status {status}: {rbody[:120]!r}")
            if headers.get("connection", "").lower() == "close":
                s.close(); s = None
        if s is not None: s.close()
    ts = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(conns)]
    for t in ts: t.start()
    for t in ts: t.join(60)
    open(out, "w").write(json.dumps(st))

def ngxlog(path, offset, stop_ms, out):
    """nginx access log lines from offset: requests, GET and POST counts, failed ones (499 at or
    after stop_ms excepted; a POST must get the host's 405), retried (more than one upstream
    attempt), requests per host."""
    r = nginxlog.access(nginxlog.read_from(path, offset), stop_ms, post_status=405)
    r["bad"], r["retries"] = r["bad"][:10], r["retries"][:10]
    with open(out, "w") as f:
        json.dump(r, f)


def errlog(path, offset, out):
    """nginx error log lines from offset ([warn] and worse): per kind, and the others."""
    r = nginxlog.errors(nginxlog.read_from(path, offset))
    del r["all"]
    with open(out, "w") as f:
        json.dump(r, f)


def status(path):
    """`supervisor status --json` -> "pid phase in_rotation ready desired requests"."""
    with open(path) as f:
        s = status_mod.summary(json.load(f))
    print(s["pid"], s["phase"], s["in_rotation"], s["ready"], s["desired"], s["requests"])


def field(path, *keys):
    v = json.load(open(path))
    for k in keys: v = v[k]
    print(json.dumps(v) if isinstance(v, (list, dict)) else v)

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "render": render(*args)
elif cmd == "post": post(args[0], int(args[1]), int(args[2]), args[3], args[4])
elif cmd == "ngxlog": ngxlog(args[0], args[1], float(args[2]), args[3])
elif cmd == "errlog": errlog(*args)
elif cmd == "status": status(*args)
elif cmd == "field": field(*args)
elif cmd == "freeport":
    s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])
else: fail("unknown helper command " + cmd)