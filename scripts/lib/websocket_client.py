"""websocket-check's client: the Python `websockets` library against a running server's /ws/echo.

    websocket_client.py PORT basics|sessions N|drain N PIDFILE SIGNAL

Each mode prints one line per check ("ok ..." or "FAIL ...") and exits 1 if any failed. Every wait
is bounded (a check that hangs fails with a timeout). Loopback only.
"""
import asyncio
import http.client
import json
import os
import signal
import subprocess
import sys
import time

import websockets

failed = False


def result(ok, text):
    global failed
    print(("ok   " if ok else "FAIL ") + text, flush=True)
    failed = failed or not ok


def url(port):
    return f"ws://127.0.0.1:{port}/ws/echo"


async def basics(port):
    async with websockets.connect(url(port), max_size=None, compression=None, open_timeout=10, close_timeout=10) as ws:
        await ws.send("hello, ünïcode ✓")
        result(await asyncio.wait_for(ws.recv(), 10) == "hello, ünïcode ✓", "text echo")
        payload = bytes(range(256))
        await ws.send(payload)
        result(await asyncio.wait_for(ws.recv(), 10) == payload, "binary echo")
        await ws.send(["frag", "men", "ted ✓"])
        result(await asyncio.wait_for(ws.recv(), 10) == "fragmented ✓", "fragmented text (3 frames) echoed as one message")
        await ws.send([b"\x00" * 70000, b"\x01" * 5])
        result(await asyncio.wait_for(ws.recv(), 10) == b"\x00" * 70000 + b"\x01" * 5, "fragmented binary (64-bit length) echo")
        started = time.monotonic()
        latency = await asyncio.wait_for(await ws.ping(b"are you there"), 10)
        result(True, f"ping answered with its pong ({latency * 1000:.2f} ms)")
        big = os.urandom(1 << 20)
        started = time.monotonic()
        await ws.send(big)
        back = await asyncio.wait_for(ws.recv(), 30)
        seconds = time.monotonic() - started
        result(back == big, f"1 MiB binary message echoed byte for byte in {seconds * 1000:.1f} ms")
        text = "é" * (1 << 19)
        started = time.monotonic()
        await ws.send(text)
        result(await asyncio.wait_for(ws.recv(), 30) == text, f"1 MiB text message echoed in {(time.monotonic() - started) * 1000:.1f} ms")
        await ws.close(1000, "bye")
    result(ws.close_code == 1000 and ws.close_reason == "", f"close handshake: the server answered 1000 (got {ws.close_code})")

    # Bad upgrades get an HTTP answer, never a session.
    def status(headers):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/ws/echo", headers=headers)
        response = conn.getresponse()
        response.read()
        conn.close()
        return response.status, response.getheader("Sec-WebSocket-Version")
    good = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"}
    result(status({})[0] == 426, "plain GET /ws/echo: 426 Upgrade Required")
    result(status({**good, "Sec-WebSocket-Key": "short"})[0] == 400, "bad Sec-WebSocket-Key: 400")
    result(status({**good, "Connection": "keep-alive"})[0] == 400, "no Connection: Upgrade: 400")
    result(status({**good, "Sec-WebSocket-Version": "8"}) == (426, "13"), "version 8: 426 with Sec-WebSocket-Version: 13")

    # A frame bomb: a header declaring 1 TiB (and one over the 16 MiB limit), then nothing. The
    # server refuses it from the declared length with 1009, without waiting for (or storing) it.
    for length in (1 << 40, (16 << 20) + 1):
        code = declared_length_close(port, length)
        result(code == 1009, f"a frame declaring {length} bytes: closed with 1009 at once (got {code})")


def declared_length_close(port, length):
    """Handshakes by hand, sends a masked binary frame header declaring `length` bytes and 4 of
    them, and returns the close code of the server's first frame."""
    import base64
    import socket
    import struct
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall((f"GET /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                return None
            head += chunk
        if not head.startswith(b"HTTP/1.1 101 "):
            return None
        sock.sendall(bytes([0x82, 0x80 | 127]) + struct.pack(">Q", length) + b"\x01\x02\x03\x04" + b"abcd")
        frame = head.split(b"\r\n\r\n", 1)[1]
        while len(frame) < 4:
            chunk = sock.recv(4096)
            if not chunk:
                return None
            frame += chunk
        if frame[0] != 0x88:
            return None
        return struct.unpack(">H", frame[2:4])[0]


async def open_sessions(port, count):
    sessions = []
    for _ in range(count):
        sessions.append(await websockets.connect(url(port), compression=None, open_timeout=20, close_timeout=10))
    return sessions


def worker_connections(pidfile):
    out = subprocess.run([os.environ["SUPERVISOR"], "status", "--pidfile", pidfile, "--json"],
                         capture_output=True, text=True, timeout=10)
    return [w["connections"] for w in json.loads(out.stdout)["workers"]]


async def sessions(port, count, pidfile):
    started = time.monotonic()
    opened = await open_sessions(port, count)
    opening = time.monotonic() - started
    started = time.monotonic()
    await asyncio.gather(*(ws.send(f"session {i}") for i, ws in enumerate(opened)))
    answers = await asyncio.wait_for(asyncio.gather(*(ws.recv() for ws in opened)), 60)
    echo = time.monotonic() - started
    result(answers == [f"session {i}" for i in range(count)],
           f"{count} concurrent sessions: opened in {opening * 1000:.0f} ms, all {count} echoed in {echo * 1000:.0f} ms")
    # Both workers hold sessions (their heartbeats carry their open connections).
    deadline = time.monotonic() + 40
    spread = []
    while time.monotonic() < deadline:
        spread = worker_connections(pidfile)
        if sum(spread) >= count and len(spread) >= 2 and all(c > 0 for c in spread):
            break
        await asyncio.sleep(0.2)
    result(sum(spread) >= count and all(c > 0 for c in spread), f"sessions across the workers: {spread}")
    await asyncio.gather(*(ws.close() for ws in opened))
    result(all(ws.close_code == 1000 for ws in opened), f"{count} sessions closed with 1000")


async def drain(port, count, pidfile, signame):
    opened = await open_sessions(port, count)
    await asyncio.gather(*(ws.send("before") for ws in opened))
    await asyncio.wait_for(asyncio.gather(*(ws.recv() for ws in opened)), 30)
    with open(pidfile) as f:
        master = int(f.read().strip())
    started = time.monotonic()
    os.kill(master, getattr(signal, "SIG" + signame))

    async def closed_code(ws):
        try:
            while True:
                await ws.recv()
        except websockets.ConnectionClosed:
            return ws.close_code
    codes = await asyncio.wait_for(asyncio.gather(*(closed_code(ws) for ws in opened)), 40)
    seconds = time.monotonic() - started
    result(codes == [1001] * count, f"{signame}: all {count} open sessions closed with 1001 in {seconds * 1000:.0f} ms "
           f"(codes: {sorted(set(codes))})")
    if signame == "HUP":
        async with websockets.connect(url(port), compression=None, open_timeout=20) as ws:
            await ws.send("after")
            result(await asyncio.wait_for(ws.recv(), 10) == "after", "HUP: the new workers echo")


def main():
    port, mode = int(sys.argv[1]), sys.argv[2]
    if mode == "basics":
        asyncio.run(basics(port))
    elif mode == "sessions":
        asyncio.run(sessions(port, int(sys.argv[3]), sys.argv[4]))
    elif mode == "drain":
        asyncio.run(drain(port, int(sys.argv[3]), sys.argv[4], sys.argv[5]))
    else:
        sys.exit(f"unknown mode {mode}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
