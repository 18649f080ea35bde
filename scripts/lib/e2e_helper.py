"""scripts/nginx-e2e's clients: an upload and a slow download that watch nginx's temp folders, idle
keep-alive connections, and the idle-close race made deterministic. Each prints one JSON object.

  e2e_helper.py put HOST PORT PATH SRC ROOT NGINX-MASTER BODY-TEMP
  e2e_helper.py slowget HOST PORT PATH NGINX-MASTER PROXY-TEMP
  e2e_helper.py idle HOST PORT N SPREAD TAG PAUSE...
  e2e_helper.py idlestop HOST PORT N NGINX-WORKERS TAG [DRAIN-MASTER]
  e2e_helper.py render SITE OUT UPSTREAM LISTEN [KEEPALIVE]
  e2e_helper.py keepalive SITE          (the upstream keepalive_timeout, ms)
  e2e_helper.py ngxlog LOG OFFSET STOP_MS BAD-OUT   (prints: requests non-2xx 499-at-stop retried)
"""

import glob, hashlib, json, os, signal, socket, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nginxlog  # noqa: E402
import procfs  # noqa: E402
import nginxsite as site_mod  # noqa: E402
from procfs import children  # noqa: E402
from rawhttp import read_response as _read_response  # noqa: E402


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def read_response(s, sink=None, pace=None, poll=None):
    """Status, headers, body length (body hashed into sink if given)."""
    status, headers, n, _ = _read_response(s, sink=sink, pace=pace, poll=poll)
    return status, headers, n


def temp_fds(master, d):
    """Files under d that nginx's workers hold open: nginx unlinks its temp files at once, so
    they are seen only this way (as `... (deleted)`)."""
    return procfs.open_files_under(children(master), d)

def put(host, port, path, src, root, master, body_temp):
    size = os.path.getsize(src)
    s = socket.create_connection((host, port), timeout=30)
    s.sendall((f"PUT {path} HTTP/1.1\r\nHost: e2e\r\nContent-Length: {size}\r\n"
               "User-Agent: nginx-e2e-upload\r\n\r\n").encode())
    sent, samples, spooled = 0, [], []
    with open(src, "rb") as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk: break
            s.sendall(chunk); sent += len(chunk)
            time.sleep(0.02)
            temps = [os.path.getsize(p) for p in glob.glob(os.path.join(root, ".upload-*.tmp")) if os.path.exists(p)]
            samples.append((sent, max(temps, default=0)))
            spooled += temp_fds(master, body_temp)
    status, _, _ = read_response(s)
    s.close()
    at80 = next(((c, t) for c, t in samples if c >= size * 0.8), (0, 0))
    print(json.dumps({"status": status, "size": size, "client_sent_at_check": at80[0],
                      "server_temp_at_check": at80[1], "spooled": sorted(set(spooled))[:5]}))

def slowget(host, port, path, master, proxy_temp):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.settimeout(30)
    s.connect((host, port))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: e2e\r\nUser-Agent: nginx-e2e-slow\r\nConnection: close\r\n\r\n".encode())
    h, spooled = hashlib.sha256(), []
    status, _, n = read_response(s, sink=h, pace=0.004, poll=lambda: spooled.extend(temp_fds(master, proxy_temp)))
    s.close()
    print(json.dumps({"status": status, "bytes": n, "sha256": h.hexdigest(), "spooled": sorted(set(spooled))[:5]}))

def idle(host, port, n, spread, tag, pauses):
    """n keep-alive connections, in rounds: all send a request at once, wait for every answer,
    then sit idle; connection i sends the next round's request pause + i*spread seconds after
    the last answer of the round. Every answer must be 200, on the same connection."""
    errors, done, marks = [], [0], [0.0]
    lock = threading.Lock()
    bar = threading.Barrier(n)
    socks = [None] * n
    def one(i):
        t0 = time.monotonic()
        try:
            socks[i] = socket.create_connection((host, port), timeout=10)
        except Exception as e:
            with lock: errors.append(f"conn {i}: connect: {e}")
        for k in range(len(pauses) + 1):
            bar.wait()
            if k > 0:
                target = marks[0] + pauses[k - 1] + i * spread
                if target - time.monotonic() > 0.003: time.sleep(target - time.monotonic() - 0.002)
                while time.monotonic() < target: pass  # the last 2 ms: to the 100 us
            if socks[i] is not None:
                try:
                    req = f"GET /hello/{tag}-{i}-{k} HTTP/1.1\r\nHost: e2e\r\nUser-Agent: nginx-e2e-idle\r\n\r\n"
                    socks[i].sendall(req.encode())
                    status, _, _ = read_response(socks[i])
                    with lock:
                        done[0] += 1
                        if status != 200:
                            errors.append(f"conn {i} request {k} at {time.monotonic() - t0:.3f}s: status {status}")
                except Exception as e:
                    with lock:
                        errors.append(f"conn {i} request {k} at {time.monotonic() - t0:.3f}s: {e}")
                    socks[i].close(); socks[i] = None
            if bar.wait() == 0:
                marks[0] = time.monotonic()
        if socks[i] is not None: socks[i].close()
    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in ts: t.start()
    for t in ts: t.join()
    print(json.dumps({"requests": done[0], "errors": errors}))

def idlestop(host, port, n, pids, tag, drain_master=0):
    """The race at the server's keep-alive close, made deterministic. 2n connections each send
    one request at once (GET /files/256KB: nginx opens 2n upstream connections, then caches them). After
    4.90 s of quiet, nginx's workers are stopped (SIGSTOP); at 4.93 s every connection sends
    again (n GET /hello, n PUT /files/ of 32 KiB), into nginx's socket buffers; at 5 s our
    server's keep-alive timeout closes its idle upstream connections, FINs nginx cannot see
    yet; at 5.25 s nginx resumes (SIGCONT) and finds the requests ready before the FINs. If it
    still holds those upstream connections (its keepalive_timeout > ours) it sends on them and
    logs `upstream prematurely closed connection` / `recv() failed (104...)`, retrying the GETs
    and answering 502 to the PUTs (an unbuffered body cannot be re-sent); with the shipped
    ordering it closed them at 4 s itself and nothing goes wrong.
    With drain_master (a supervisor master's pid): the same, except that the idle time is 0.5 s
    and, while nginx is stopped, the master gets HUP and its old workers drain (closing their
    idle connections) and exit before nginx resumes."""
    pids = [int(p) for p in pids.split(",") if p]
    body = os.urandom(32768)  # more than nginx reads with the head: streamed, not retriable
    socks = [socket.create_connection((host, port), timeout=15) for _ in range(2 * n)]
    # A 256 KB answer each, all at once: nginx relays them in parallel, one upstream connection each.
    # Our server's keep-alive clock for each starts between t_sent and t_done.
    t_sent = time.monotonic()
    for i, s in enumerate(socks):
        s.sendall(f"GET /files/256KB?{tag}-{i}-0 HTTP/1.1\r\nHost: e2e\r\nUser-Agent: nginx-e2e-idle\r\n\r\n".encode())
    first = [read_response(s)[0] for s in socks]
    t_done = time.monotonic()
    def until(t):
        d = t - time.monotonic()
        if d > 0: time.sleep(d)
    if drain_master:
        stop, send, cont = t_done + 0.5, t_done + 0.52, 0
    else:  # nginx stopped and the requests queued before our first close, resumed after the last
        stop, send, cont = t_sent + 4.90, t_sent + 4.93, t_done + 5.25
    until(stop)
    old, drained = [], ""
    try:
        for p in pids: os.kill(p, signal.SIGSTOP)
        until(send)
        for i, s in enumerate(socks):  # PUT, GET, PUT, ...: both meet a reused connection
            if i % 2:
                s.sendall(f"GET /hello/{tag}-{i}-1 HTTP/1.1\r\nHost: e2e\r\nUser-Agent: nginx-e2e-idle\r\n\r\n".encode())
            else:
                s.sendall(f"PUT /files/{tag}-{i} HTTP/1.1\r\nHost: e2e\r\nUser-Agent: nginx-e2e-idle\r\n"
                          f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        if drain_master:
            old = children(drain_master)
            os.kill(drain_master, signal.SIGHUP)
            end = time.monotonic() + 10
            while set(old) & set(children(drain_master)) and time.monotonic() < end: time.sleep(0.01)
            drained = f"old workers {old} gone {time.monotonic() - send:.2f} s after the HUP" if not set(old) & set(children(drain_master)) else "old workers still there after 10 s"
            time.sleep(0.05)
        else:
            until(cont)
    finally:
        for p in pids: os.kill(p, signal.SIGCONT)
    second, errors = [], []
    for i, s in enumerate(socks):
        try: second.append(read_response(s)[0])
        except Exception as e: second.append(0); errors.append(f"conn {i}: {e}")
        s.close()
    errors += [f"conn {i} request 0: status {st}" for i, st in enumerate(first) if st != 200]
    errors += [f"conn {i} ({'GET' if i % 2 else 'PUT'}) after the idle time: status {st}"
               for i, st in enumerate(second) if st not in ((200,) if i % 2 else (201, 204))]
    print(json.dumps({"requests": 4 * n, "get": second[1::2], "put": second[0::2], "errors": errors, "drain": drained,
                      "first_round_ms": round((t_done - t_sent) * 1000, 1)}))

def ngxlog(path, offset, stop_ms, bad_out):
    """nginx access log lines from offset: requests, non-2xx (499 after stop_ms excepted),
    499s at the stop, retried (more than one upstream attempt)."""
    r = nginxlog.access(nginxlog.read_from(path, offset), stop_ms)
    badlines = ["retried: " + line for line in r["retries"]] + r["bad"]
    with open(bad_out, "w") as f:
        f.write("\n".join(badlines) + ("\n" if badlines else ""))
    print(r["requests"], r["non2xx"], r["stop499"], r["retried"])


def render(site, out, upstream, listen, keepalive=None):
    """The shipped site with its one upstream `server` address and its one `listen` replaced
    (and, for the reference run only, the upstream's keepalive_timeout)."""
    try:
        site_mod.render(site, out, "scripts/nginx-e2e", listen, address=upstream, keepalive=keepalive)
    except ValueError as e:
        fail(f"render: {e}")


cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "render": render(*args)
elif cmd == "put": put(args[0], int(args[1]), args[2], args[3], args[4], int(args[5]), args[6])
elif cmd == "slowget": slowget(args[0], int(args[1]), args[2], int(args[3]), args[4])
elif cmd == "idle": idle(args[0], int(args[1]), int(args[2]), float(args[3]), args[4], [float(a) for a in args[5:]])
elif cmd == "idlestop": idlestop(args[0], int(args[1]), int(args[2]), args[3], args[4], int(args[5]) if len(args) > 5 else 0)
elif cmd == "ngxlog": ngxlog(args[0], args[1], float(args[2]), args[3])
elif cmd == "keepalive":  # the upstream keepalive_timeout of a site, in ms
    try:
        print(site_mod.upstream_keepalive_ms(args[0]))
    except ValueError as e:
        fail(str(e))
elif cmd == "freeport":
    s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])
else: fail("unknown helper command " + cmd)