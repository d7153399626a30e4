#!/usr/bin/env python3
"""Helpers for bench/compare/run.sh: ports, /proc accounting, wrk parsing, the report.

Subcommands (all print to stdout):
  freeports [N]                 N distinct free TCP ports on 127.0.0.1
  cputicks PID                  utime+stime+cutime+cstime (clock ticks) of PID and all descendants
  tree PID                      PID and all its descendants
  servingpids PID               the processes that serve traffic: the children of PID if it has any
                                (nginx master -> worker), else PID itself
  mem FIELD PID...              sum of FIELD (VmRSS, VmHWM) in KiB over the PIDs
  parse-wrk FILE                "rps p50_us p99_us requests errors non2xx" from `wrk --latency` output
  seconds DURATION              "10s" / "2m" / "500ms" / "7" -> seconds (float)
  table RUNS MEM IDLE FAILED    the markdown report (see run.sh for the file formats)
"""
import os
import re
import socket
import statistics
import sys

CLK_TCK = os.sysconf("SC_CLK_TCK")


def freeports(n):
    """n distinct free ports (all bound at once, so they differ; released on return)."""
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _stat_fields(pid):
    """Fields after the ')' of /proc/PID/stat: [0]=state, [1]=ppid, [11]=utime, [12]=stime, ..."""
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    return data[data.rindex(")") + 2:].split()


def _children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            ppid = int(_stat_fields(d)[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    return kids


def descendants(pid):
    kids = _children_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cputicks(pid):
    total = 0
    for p in descendants(pid):
        try:
            f = _stat_fields(p)
        except OSError:
            continue
        # utime stime cutime cstime: a process' own threads are included in utime/stime;
        # cutime/cstime hold children that have been waited for.
        total += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
    return total


def servingpids(pid):
    kids = _children_map().get(pid, [])
    return kids if kids else [pid]


def mem(field, pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        total += int(line.split()[1])  # kB
        except OSError:
            pass
    return total


_UNITS_US = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}


def to_us(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(f"bad wrk latency {text!r}")
    return float(m.group(1)) * _UNITS_US[m.group(2)]


def seconds(text):
    m = re.fullmatch(r"([0-9.]+)(ms|s|m|h)?", text.strip())
    if not m:
        raise ValueError(f"bad duration {text!r}")
    mult = {"ms": 1e-3, "s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]
    return float(m.group(1)) * mult


def parse_wrk(path):
    with open(path) as f:
        text = f.read()
    rps = re.search(r"Requests/sec:\s+([0-9.]+)", text)
    reqs = re.search(r"(\d+) requests in", text)
    p50 = re.search(r"^\s+50(?:\.000)?%\s+(\S+)", text, re.M)
    p99 = re.search(r"^\s+99(?:\.000)?%\s+(\S+)", text, re.M)
    if not (rps and reqs and p50 and p99):
        raise ValueError(f"cannot parse wrk output {path}")
    errors = 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if sock:
        errors = sum(int(x) for x in sock.groups())
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return (float(rps.group(1)), to_us(p50.group(1)), to_us(p99.group(1)), int(reqs.group(1)),
            errors, int(non2xx.group(1)) if non2xx else 0)


# ---------------------------------------------------------------- report

def _fmt_lat(us):
    if us is None:
        return "–"
    if us >= 1e6:
        return f"{us / 1e6:.2f} s"
    if us >= 1e3:
        return f"{us / 1e3:.2f} ms"
    return f"{us:.0f} µs"


def _fmt(v, spec, dash="–"):
    return dash if v is None else format(v, spec)


def _read_rows(path):
    rows = []
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    rows.append(line.split("\t"))
    return rows


def table(runs_path, mem_path, idle_path, failed_path, order):
    """runs: proxy round wrk-output-file cpu_ticks wall_ns
    mem: proxy peak_rss_kib; idle: proxy n_ok rss_before_kib rss_after_kib n; failed: proxy reason"""
    runs = {}
    for r in _read_rows(runs_path):
        try:
            rps, p50, p99, reqs, errs, non2xx = parse_wrk(r[2])
        except (OSError, ValueError) as e:
            print(f"warning: {r[0]} round {r[1]}: {e}", file=sys.stderr)
            continue
        # normalized row: proxy round rps p50 p99 requests errors non2xx ticks wall_s
        runs.setdefault(r[0], []).append([r[0], r[1], rps, p50, p99, reqs, errs, non2xx,
                                           int(r[3]), int(r[4]) / 1e9])
    mem = {r[0]: int(r[1]) for r in _read_rows(mem_path)}
    idle = {r[0]: r[1:] for r in _read_rows(idle_path)}
    failed = {r[0]: r[1] if len(r) > 1 else "failed" for r in _read_rows(failed_path)}

    us_per_tick = 1e6 / CLK_TCK
    stats = {}
    for p in order:
        rs = runs.get(p)
        if not rs:
            continue
        rps = [float(r[2]) for r in rs]
        cpu = [int(r[8]) * us_per_tick / max(int(r[5]), 1) for r in rs]
        util = [int(r[8]) / CLK_TCK / float(r[9]) for r in rs]
        med_rps = statistics.median(rps)
        stats[p] = {
            "rps": med_rps,
            "p50": statistics.median(float(r[3]) for r in rs),
            "p99": statistics.median(float(r[4]) for r in rs),
            "cpu": statistics.median(cpu),
            "util": statistics.median(util),
            "spread": (max(rps) - min(rps)) / med_rps * 100 if med_rps else 0.0,
            "errors": sum(int(r[6]) for r in rs),
            "non2xx": sum(int(r[7]) for r in rs),
            "n": len(rs),
        }

    out = []
    out.append("| proxy | requests/s | p50 | p99 | CPU µs/req | peak RSS MiB | idle KiB/conn |")
    out.append("|---|---:|---:|---:|---:|---:|---:|")
    for p in order:
        s = stats.get(p)
        if p in failed and not s:
            out.append(f"| {p} | {failed[p]} | | | | | |")
            continue
        if not s:
            out.append(f"| {p} | no data | | | | | |")
            continue
        peak = mem.get(p)
        idle_cell = "–"
        if p in idle:
            n_ok, before, after = int(idle[p][0]), int(idle[p][1]), int(idle[p][2])
            if n_ok > 0:
                idle_cell = f"{(after - before) / n_ok:.1f}"
                if len(idle[p]) > 3 and int(idle[p][3]) != n_ok:
                    idle_cell += f" ({n_ok}/{idle[p][3]} conns)"
        out.append(f"| {p} | {s['rps']:.0f} | {_fmt_lat(s['p50'])} | {_fmt_lat(s['p99'])} | "
                   f"{s['cpu']:.1f} | {_fmt(peak / 1024 if peak else None, '.1f')} | {idle_cell} |")

    out.append("")
    out.append("Per-run detail (medians over rounds; spread = (max-min)/median of requests/s; "
               "proxy CPU = CPU time / wall time of the measured run, 100% = its one core saturated):")
    out.append("")
    out.append("| proxy | runs | rps spread | proxy CPU | socket errors | non-2xx |")
    out.append("|---|---:|---:|---:|---:|---:|")
    for p in order:
        s = stats.get(p)
        if s:
            out.append(f"| {p} | {s['n']} | {s['spread']:.1f}% | {s['util'] * 100:.0f}% | "
                       f"{s['errors']} | {s['non2xx']} |")

    h = stats.get("hermes")
    peers = [p for p in order if p != "hermes" and p in stats]
    if h and peers:
        out.append("")
        out.append("Hermes relative to each peer (rps ratio > 1 = Hermes serves more; "
                   "CPU and p99 ratios < 1 = Hermes uses less CPU per request / has a lower p99):")
        out.append("")
        out.append("| vs | rps ratio | CPU/req ratio | p99 ratio | idle KiB/conn ratio |")
        out.append("|---|---:|---:|---:|---:|")

        def idle_per(p):
            if p not in idle or int(idle[p][0]) <= 0:
                return None
            return (int(idle[p][2]) - int(idle[p][1])) / int(idle[p][0])

        for p in peers:
            s = stats[p]
            hi, pi = idle_per("hermes"), idle_per(p)
            idle_ratio = f"{hi / pi:.2f}" if hi is not None and pi and pi > 0 else "–"
            out.append(f"| {p} | {h['rps'] / s['rps']:.2f} | {h['cpu'] / s['cpu']:.2f} | "
                       f"{h['p99'] / s['p99']:.2f} | {idle_ratio} |")
    for p in order:
        if p in failed and p in stats:
            out.append(f"\nnote: {p}: {failed[p]}")
    return "\n".join(out)


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "freeports":
        print(" ".join(str(p) for p in freeports(int(argv[2]) if len(argv) > 2 else 1)))
    elif cmd == "cputicks":
        print(cputicks(int(argv[2])))
    elif cmd == "tree":
        print(" ".join(str(p) for p in descendants(int(argv[2]))))
    elif cmd == "servingpids":
        print(" ".join(str(p) for p in servingpids(int(argv[2]))))
    elif cmd == "mem":
        print(mem(argv[2], [int(p) for p in argv[3:]]))
    elif cmd == "parse-wrk":
        rps, p50, p99, reqs, errs, non2xx = parse_wrk(argv[2])
        print(f"{rps:.2f}\t{p50:.1f}\t{p99:.1f}\t{reqs}\t{errs}\t{non2xx}")
    elif cmd == "seconds":
        print(seconds(argv[2]))
    elif cmd == "table":
        print(table(argv[2], argv[3], argv[4], argv[5], argv[6].split()))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
