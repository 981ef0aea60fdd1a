#!/usr/bin/env python3
"""Costs noise does not move: stampede against wrk, plain HTTP and TLS keep-alive, 50 connections.

- User-space instructions per request, counted by valgrind --tool=callgrind (instruction counts
  repeat for the same binary and input whatever else the machine does). Stampede runs a fixed
  count (--requests) on a stripped copy (valgrind 3.19 cannot read this toolchain's DWARF 5);
  wrk runs a fixed duration and its own count is used. Each is the difference between a long and
  a short run, divided by the difference in requests, so start-up cancels out.
- System calls per request by kind (read, write, epoll_wait, epoll_ctl, and the total of every
  kind), from perf stat on the syscall tracepoints, the same way.
- A callgrind profile of stampede's own code (a `strip --strip-debug` copy keeps the symbol
  table): the top functions by self instructions, OpenSSL, libc and the kernel left out, names
  demangled.

Usage: Perf/costs.py STAMPEDE_BINARY [--markdown FILE] [--profile FILE] [--summary ROWS]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import start_nginx, stop_nginx, write_results  # noqa: E402

KINDS = ["read", "write", "epoll_wait", "epoll_ctl"]
# callgrind runs about 50 times slower than native: its counts come from shorter runs than the
# system-call counts, whose per-run extras (start-up, the end of a run) vary by a few hundred calls.
SHORT, LONG = 20_000, 60_000
SYSCALL_SHORT, SYSCALL_LONG = 100_000, 500_000


def stampede_argv(binary, url, requests):
    return [binary, "bench", url, "--connections", "50", "--threads", "1", "--requests", str(requests), "--insecure", "--json"]


def wrk_argv(url, seconds):
    return ["wrk", "-t1", "-c50", f"-d{seconds}s", url]


def wrk_requests(output):
    return int(re.search(r"(\d+) requests in", output).group(1))


def callgrind(argv, out_file=None):
    """(instructions, stdout) of one run under callgrind."""
    with tempfile.TemporaryDirectory() as scratch:
        out = out_file or os.path.join(scratch, "cg.out")
        run = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"] + argv,
                             capture_output=True, text=True, timeout=1200)
        total = re.search(r"Collected\s*:\s*(\d+)", run.stderr)
        if not total:
            sys.exit(f"callgrind gave no total for {argv[0]}:\n{run.stderr[-2000:]}")
        return int(total.group(1)), run.stdout


def syscalls(argv):
    """({kind: count, 'all': count}, stdout) of one run under perf stat."""
    events = ["raw_syscalls:sys_enter"] + [f"syscalls:sys_enter_{k}" for k in KINDS]
    with tempfile.NamedTemporaryFile("r", suffix=".perf") as stat:
        run = subprocess.run(["perf", "stat", "-x", ",", "-o", stat.name, "-e", ",".join(events)] + argv,
                             capture_output=True, text=True, timeout=600)
        counts = {}
        for line in open(stat.name):
            parts = line.strip().split(",")
            if len(parts) > 2 and parts[0].isdigit():
                name = parts[2].split(":")[-1].removeprefix("sys_enter_")
                counts["all" if name == "sys_enter" else name] = int(parts[0])
    return counts, run.stdout


def per_request(short, long, requests_short, requests_long):
    return (long - short) / (requests_long - requests_short)


def profile(binary, url, out_md, top=15):
    """Top functions of stampede's own code by self instructions (a 60,000-request run)."""
    named = binary + "-named"
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "cg.out")
        callgrind(stampede_argv(named, url, LONG), out)
        text = subprocess.run(["callgrind_annotate", "--threshold=100", out], capture_output=True, text=True).stdout
    total = int(re.search(r"([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", text).group(1).replace(",", ""))
    entries = []
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+) \(\s*([\d.]+)%\)\s+(\S+):(\S.*?)(?: \[(.+)\])?$", line)
        if not m or "PROGRAM TOTALS" in line:
            continue
        cost, fn, obj = int(m.group(1).replace(",", "")), m.group(4), m.group(5) or m.group(3)
        if any(x in obj for x in ("libssl", "libcrypto", "libc.so", "ld-linux", "libz")) or fn.startswith(("0x", "???")):
            continue
        entries.append((cost, fn, obj))
    entries = entries[:top]
    demangled = subprocess.run(["swift", "demangle", "--simplified"], input="\n".join(e[1] for e in entries),
                               capture_output=True, text=True).stdout.splitlines() if shutil.which("swift") else []
    lines = [f"Top {top} functions of stampede's own code by self instructions (callgrind, {LONG:,} requests, plain HTTP, "
             f"50 connections; OpenSSL, libc and the kernel left out; {total:,} instructions in all):", "",
             "| instructions | % of all | function |", "|---|---|---|"]
    for i, (cost, fn, obj) in enumerate(entries):
        name = demangled[i] if i < len(demangled) else fn
        name = name.replace("|", "\\|")
        if len(name) > 140:
            name = name[:137] + "..."
        lines.append(f"| {cost:,} | {cost / total * 100:.1f} | `{name}` ({os.path.basename(obj)}) |")
    with open(out_md, "w") as f:
        f.write("\n".join(lines) + "\n")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--markdown", help="write the table here too")
    ap.add_argument("--profile", help="write the callgrind profile (markdown) here")
    ap.add_argument("--summary", help="append the rows as JSON lines")
    ap.add_argument("--no-callgrind", action="store_true", help="system calls only (minutes instead of tens)")
    args = ap.parse_args()
    for tool in ("valgrind", "perf", "wrk", "strip"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing")
    work = tempfile.mkdtemp(prefix="stampede-costs-")
    stripped = os.path.join(work, "stampede")
    shutil.copy(args.binary, stripped)
    subprocess.run(["strip", stripped], check=True)
    shutil.copy(args.binary, stripped + "-named")
    subprocess.run(["strip", "--strip-debug", stripped + "-named"], check=True)
    port, tls_port = 18970, 18971
    nginx = start_nginx(work, port, tls_port, key="ec")
    lines = ["Costs noise does not move (same binary, same input, same counts whatever the machine does): per request, "
             f"the difference between a long and a short run; instructions: stampede {SHORT:,} and {LONG:,} requests, wrk 2 s "
             f"and 6 s; system calls: stampede {SYSCALL_SHORT:,} and {SYSCALL_LONG:,}, wrk 2 s and 8 s (wrk's own counts); "
             "50 connections, one thread each.", "",
             "| workload | figure | stampede | wrk | stampede / wrk |", "|---|---|---|---|---|"]
    rows = []
    try:
        for name, url in (("HTTP keep-alive", f"http://127.0.0.1:{port}/"), ("TLS keep-alive", f"https://127.0.0.1:{tls_port}/")):
            if not args.no_callgrind:
                s_short, _ = callgrind(stampede_argv(stripped, url, SHORT))
                s_long, _ = callgrind(stampede_argv(stripped, url, LONG))
                s_instr = per_request(s_short, s_long, SHORT, LONG)
                w_short, out_short = callgrind(wrk_argv(url, 2))
                w_long, out_long = callgrind(wrk_argv(url, 6))
                w_instr = per_request(w_short, w_long, wrk_requests(out_short), wrk_requests(out_long))
                lines.append(f"| {name} | user-space instructions | {s_instr:,.0f} | {w_instr:,.0f} | {s_instr / w_instr:.2f} |")
                rows.append({"row": f"{name}: user-space instructions per request (callgrind)", "value": round(s_instr),
                             "unit": "instr", "peer": round(w_instr), "peer_name": "wrk",
                             "goal": "<= 0.8x" if name.startswith("HTTP") else "<= 0.85x"})
            sc_short, _ = syscalls(stampede_argv(stripped, url, SYSCALL_SHORT))
            sc_long, _ = syscalls(stampede_argv(stripped, url, SYSCALL_LONG))
            wc_short, wout_short = syscalls(wrk_argv(url, 2))
            wc_long, wout_long = syscalls(wrk_argv(url, 8))
            wr_short, wr_long = wrk_requests(wout_short), wrk_requests(wout_long)
            for kind in ["all"] + KINDS:
                s = per_request(sc_short.get(kind, 0), sc_long.get(kind, 0), SYSCALL_SHORT, SYSCALL_LONG)
                w = per_request(wc_short.get(kind, 0), wc_long.get(kind, 0), wr_short, wr_long)
                label = "system calls (every kind)" if kind == "all" else f"`{kind}` calls"
                lines.append(f"| {name} | {label} | {s:.3f} | {w:.3f} | {s / w:.2f} |" if w else f"| {name} | {label} | {s:.3f} | {w:.3f} | |")
                if kind == "all":
                    rows.append({"row": f"{name}: system calls per request", "value": round(s, 3), "unit": "calls",
                                 "peer": round(w, 3), "peer_name": "wrk", "goal": "<= 0.5x"})
            print("\n".join(lines), file=sys.stderr)
        text = "\n".join(lines)
        if args.profile and not args.no_callgrind:
            text += "\n\n" + profile(stripped, f"http://127.0.0.1:{port}/", args.profile)
    finally:
        stop_nginx(nginx)
        shutil.rmtree(work, ignore_errors=True)
    write_results(text, "\n".join(lines), rows, args.markdown, args.summary)


if __name__ == "__main__":
    main()
