"""The scripts' HTTP/1.1 client side over a plain socket: one response read with its
Content-Length body, for load clients that must see every close (no retries, no pooling)."""

import socket
import time


def read_response(s, sink=None, pace=None, poll=None, keep=False):
    """(status, headers (lower-case names), body length, body (if keep, else b"")). The body is
    hashed into sink if given; with pace, sleeps that long after each read (a slow reader); poll()
    runs every 8 reads. IOError when the peer closes early."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        b = s.recv(65536)
        if not b:
            raise IOError("connection closed before the response head" + (f" (got {buf[:80]!r})" if buf else ""))
        buf += b
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    got, reads, body = len(rest), 0, [rest] if keep else []
    if sink:
        sink.update(rest)
    while got < n:
        b = s.recv(min(65536, n - got))
        if not b:
            raise IOError(f"connection closed after {got} of {n} body bytes")
        got += len(b)
        reads += 1
        if keep:
            body.append(b)
        if sink:
            sink.update(b)
        if pace:
            time.sleep(pace)
        if poll and reads % 8 == 0:
            poll()
    return status, headers, got, b"".join(body)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
