#!/usr/bin/env python3
"""Memory cost of idle keep-alive client connections on a proxy.

Opens N connections to 127.0.0.1:PORT, sends one `GET / HTTP/1.1` on each and reads the whole
response, then leaves them all open and idle. Reads VmRSS (sum over --pids) before and after
(after a short settle), checks that the proxy kept the connections open, and prints one line:

    ok=<connections that completed a request and are still open> n=<N>
    rss_before_kib=<..> rss_after_kib=<..> kib_per_conn=<..>

Connections are opened in a bounded window (--batch in flight at once) with non-blocking
sockets and a selector, so 10,000 connections take a few seconds. RLIMIT_NOFILE is raised to
its hard limit. Only connects to 127.0.0.1.
"""
import argparse
import errno
import resource
import selectors
import socket
import sys
import time


def rss_kib(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def response_complete(buf):
    """True once `buf` holds one whole HTTP/1.1 response (Content-Length or chunked)."""
    head_end = buf.find(b"\r\n\r\n")
    if head_end < 0:
        return False
    head = buf[:head_end].decode("latin-1").lower()
    body = buf[head_end + 4:]
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if name == "content-length":
            return len(body) >= int(value)
        if name == "transfer-encoding" and "chunked" in value:
            return body.endswith(b"0\r\n\r\n")
    status = head.split(" ", 2)[1] if " " in head else ""
    return status in ("204", "304")  # no body framing: only complete for bodiless statuses


class Conn:
    __slots__ = ("sock", "state", "buf")

    def __init__(self, sock):
        self.sock, self.state, self.buf = sock, "connecting", b""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--batch", type=int, default=256, help="connections in flight at once")
    ap.add_argument("--pids", default="", help="comma-separated PIDs whose VmRSS is summed")
    ap.add_argument("--settle", type=float, default=1.0, help="seconds to wait before reading RSS")
    ap.add_argument("--timeout", type=float, default=60.0, help="give up opening after this long")
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.count + 64
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(want, soft)), hard))
        except (ValueError, OSError):
            pass
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    count = min(args.count, soft - 64)
    if count < args.count:
        print(f"idle_conns: RLIMIT_NOFILE {soft} allows only {count} connections", file=sys.stderr)

    pids = [int(p) for p in args.pids.split(",") if p]
    request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: hermes-idle-conns\r\n\r\n"
    sel = selectors.DefaultSelector()

    time.sleep(0.2)
    before = rss_kib(pids)

    done, failed, started, inflight = [], 0, 0, 0
    deadline = time.monotonic() + args.timeout
    while (started < count or inflight) and time.monotonic() < deadline:
        while started < count and inflight < args.batch:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            c = Conn(s)
            rc = s.connect_ex(("127.0.0.1", args.port))
            started += 1
            if rc not in (0, errno.EINPROGRESS):
                s.close()
                failed += 1
                continue
            sel.register(s, selectors.EVENT_WRITE, c)
            inflight += 1
        for key, _ in sel.select(timeout=0.5):
            c = key.data
            try:
                if c.state == "connecting":
                    err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise OSError(err, "connect")
                    c.sock.send(request)  # tiny: fits the socket buffer in one send
                    c.state = "reading"
                    sel.modify(c.sock, selectors.EVENT_READ, c)
                else:
                    chunk = c.sock.recv(65536)
                    if not chunk:
                        raise OSError("closed before the response completed")
                    c.buf += chunk
                    if response_complete(c.buf):
                        sel.unregister(c.sock)
                        c.buf = b""
                        c.state = "idle"
                        done.append(c)
                        inflight -= 1
            except OSError:
                sel.unregister(c.sock)
                c.sock.close()
                failed += 1
                inflight -= 1

    for key in list(sel.get_map().values()):  # timed out while opening
        key.fileobj.close()
        failed += 1
    sel.close()

    time.sleep(args.settle)
    after = rss_kib(pids)

    # Which connections did the proxy keep open? A readable socket here means EOF/RST or junk.
    sel = selectors.DefaultSelector()
    for c in done:
        sel.register(c.sock, selectors.EVENT_READ, c)
    closed = {key.data for key, _ in sel.select(timeout=0)}
    sel.close()
    alive = len(done) - len(closed)
    for c in done:
        c.sock.close()

    per = (after - before) / alive if alive else 0.0
    print(f"ok={alive} n={args.count} rss_before_kib={before} rss_after_kib={after} "
          f"kib_per_conn={per:.2f} failed={failed} closed_by_peer={len(closed)}")
    return 0 if alive else 1


if __name__ == "__main__":
    sys.exit(main())
