#!/usr/bin/env python3
"""`hermesctl apply` -> served: how long after an operator applies a one-cluster change a managed
proxy serves it, with 10, 100 and 1,000 clusters in the config.

Starts, all on 127.0.0.1: two test upstreams ("a" and "b"), a control plane on a fresh SQLite
file, one managed proxy. For each size N it applies a config of N clusters (one endpoint each, a
prefix route /cK per cluster) and waits until it is served; then RUNS times it moves cluster
c{N/2}'s endpoint from one upstream to the other and measures, from the moment hermesctl starts,
until a request through the proxy to /c{N/2} is answered by the new upstream (polled over one
keep-alive connection, ~0.2 ms per poll). It does so two ways:

- merge: `hermesctl apply --merge -f FILE` where FILE holds only cluster c{N/2} (what an operator
  changing one cluster sends);
- whole: `hermesctl apply -f FILE` with the whole N-cluster document, one endpoint changed.

The hermesctl process's own start and exit are in the figures, as an operator sees them.

    bench/apply/served.py [--build build/release] [--runs 15] [--sizes 10,100,1000] [--ways merge,whole]

Prints one line per size and way: median and p90 in ms, the ratio of each median to the smallest
size's (same way), the median time hermesctl itself took (until its apply returned: the control
plane parsed, merged or read the document, validated, diffed, stored and pushed it) and the median
of what came after it returned until the proxy served the change (the data plane's part). Exits 1
when the merge's median at the largest size is more than 1.5x the smallest size's.
"""
import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout, what):
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        if pred():
            return
        time.sleep(0.02)
    sys.exit(f"served.py: timed out waiting for {what}")


def config(n, moved_to, upstream_ports, listen):
    lines = [f'listeners: [ {{ name: main, address: "127.0.0.1:{listen}" }} ]',
             "admin: { address: off }", "clusters:"]
    for k in range(n):
        port = upstream_ports[moved_to if k == n // 2 else "a"]
        lines.append(f'  - {{ name: c{k}, health_check: {{ enabled: false }}, '
                     f'endpoints: [ {{ address: "127.0.0.1:{port}" }} ] }}')
    lines.append("routes:")
    for k in range(n):
        lines.append(f"  - {{ name: r{k}, match: {{ prefix: /c{k}/ }}, cluster: c{k} }}")
    return "\n".join(lines) + "\n"


def one_cluster(n, moved_to, upstream_ports):
    """The merge document: only cluster c{n/2}, written as in config()."""
    port = upstream_ports[moved_to]
    return ("clusters:\n"
            f'  - {{ name: c{n // 2}, health_check: {{ enabled: false }}, '
            f'endpoints: [ {{ address: "127.0.0.1:{port}" }} ] }}\n')


class Poller:
    def __init__(self, port):
        self.port = port
        self.conn = None

    def get(self, path):
        for _ in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                self.conn.request("GET", path)
                r = self.conn.getresponse()
                return r.status, r.read().decode("latin-1")
            except (OSError, http.client.HTTPException):
                if self.conn:
                    self.conn.close()
                self.conn = None
        return 0, ""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--build", default=os.path.join(root, "build", "release"))
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--sizes", default="10,100,1000")
    ap.add_argument("--ways", default="merge,whole", help="merge, whole or both (comma-separated)")
    args = ap.parse_args()
    b = args.build
    binaries = {"hermes": f"{b}/dataplane/hermes", "cp": f"{b}/controlplane/hermes-controlplane",
                "ctl": f"{b}/ctl/hermesctl", "up": f"{b}/tests/support/hermes-test-upstream"}
    for path in binaries.values():
        if not os.access(path, os.X_OK):
            sys.exit(f"served.py: {path} is missing (cmake --build --preset release)")

    tmp = tempfile.mkdtemp(prefix="hermes-served-")
    procs = []
    try:
        ups = {}
        for name in ("a", "b"):
            ups[name] = free_port()
            procs.append(subprocess.Popen([binaries["up"], "--listen", f"127.0.0.1:{ups[name]}", "--name", name],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        cp_port, listen = free_port(), free_port()
        cp_out = open(os.path.join(tmp, "cp.out"), "w")
        procs.append(subprocess.Popen([binaries["cp"], "--listen", f"127.0.0.1:{cp_port}", "--db",
                                       os.path.join(tmp, "hermes.db"), "--log-level", "warn"],
                                      stdout=cp_out, stderr=subprocess.STDOUT))
        wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", cp_port)) == 0, 20, "the control plane")
        procs.append(subprocess.Popen([binaries["hermes"], "--control-plane", f"127.0.0.1:{cp_port}",
                                       "--node-id", "bench-1", "--cache-dir", os.path.join(tmp, "cache"),
                                       "--listen", f"127.0.0.1:{listen}", "--log-level", "warn"],
                                      stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "hermes.err"), "w")))
        env = dict(os.environ, HERMES_SERVER=f"127.0.0.1:{cp_port}")
        path = os.path.join(tmp, "config.yaml")
        poller = Poller(listen)
        ctl_ms = []

        def apply(n, moved_to, message, merge=False):
            with open(path, "w") as f:
                f.write(one_cluster(n, moved_to, ups) if merge else config(n, moved_to, ups, listen))
            argv = [binaries["ctl"], "apply", "-f", path, "-m", message] + (["--merge"] if merge else [])
            started = time.monotonic()
            r = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if r.returncode != 0:
                sys.exit(f"served.py: hermesctl apply failed: {r.stderr}")
            ctl_ms.append((time.monotonic() - started) * 1000)
            return started

        def served_by(n, name):
            status, body = poller.get(f"/c{n // 2}/")
            return status == 200 and f"upstream {name}" in body

        sizes = [int(s) for s in args.sizes.split(",")]
        base, last = {}, {}
        print(f"# {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {os.cpu_count()} CPUs, load average "
              f"{open('/proc/loadavg').read().split()[0:3]}, {args.runs} runs per size and way")
        print(f"{'clusters':>9} {'way':>6} {'median_ms':>10} {'p90_ms':>8} {'vs_first':>9} "
              f"{'hermesctl_ms':>13} {'after_ctl_ms':>13}")
        current = "a"
        for n in sizes:
            apply(n, current, f"bench {n} clusters")
            wait_for(lambda: served_by(n, current), 30, f"{n} clusters served")
            for way in args.ways.split(","):
                times = []
                ctl_ms.clear()
                after = []
                for i in range(args.runs):
                    current = "b" if current == "a" else "a"
                    started = apply(n, current, f"bench {n} {way} move {i}", merge=way == "merge")
                    until = started + 30
                    while not served_by(n, current):
                        if time.monotonic() > until:
                            sys.exit(f"served.py: {n} clusters ({way}): the change was not served in 30 s")
                    times.append((time.monotonic() - started) * 1000)
                    after.append(times[-1] - ctl_ms[-1])
                times.sort()
                median = statistics.median(times)
                p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
                base.setdefault(way, median)
                last[way] = median
                print(f"{n:>9} {way:>6} {median:>10.1f} {p90:>8.1f} {median / base[way]:>9.2f} "
                      f"{statistics.median(ctl_ms):>13.1f} {statistics.median(after):>13.2f}", flush=True)
        growth = last["merge"] / base["merge"] if "merge" in last else 1
        if growth > 1.5:
            print(f"served.py: the merge's median grows {growth:.2f}x from {sizes[0]} to {sizes[-1]} clusters "
                  f"(more than 1.5x: not flat)")
            sys.exit(1)
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    main()
