#!/usr/bin/env python3
"""make perf: what a request mix and templates cost, as ratios to the single-URL run.

nginx (1 worker on CPU 0, access log off) answers three paths. `stampede bench` (on CPU 1, 50
connections) takes turns, for ROUNDS rounds of SECONDS each, at:
  - single:    one URL (the baseline, encoded once);
  - mix:       three named requests weighted 1:2:7 (--targets), results per name;
  - templated: one URL with {{seq}} in it, rendered per request.
For each: req/s and client CPU seconds (user+sys, from wait4) per 100k requests, medians over
rounds, and the ratio to single measured in the same run. Goal: >= 0.95x req/s, <= 1.05x CPU.

Usage: Perf/workload_mix.py STAMPEDE_BINARY [--rounds N] [--seconds S]
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import run_measured, start_nginx, stop_nginx  # noqa: E402


def measured(binary, args, seconds):
    """Runs one bench; returns (rps, CPU seconds per 100k responses)."""
    out, cpu, _ = run_measured(["taskset", "-c", "1", binary, "bench", *args, "--connections", "50",
                                "--duration", str(seconds), "--json"], seconds + 60)
    report = json.loads(out)
    return report["rps"], cpu / report["responses"] * 100_000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--summary", help="append the rows as JSON lines to this file")
    ap.add_argument("binary")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=5)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="stampede-mix-")
    port = 18191
    base = f"http://127.0.0.1:{port}"
    with open(f"{work}/mix.json", "w") as f:
        json.dump([{"name": "home", "url": f"{base}/", "weight": 1},
                   {"name": "items", "url": f"{base}/items", "weight": 2},
                   {"name": "item", "url": f"{base}/items/42", "weight": 7}], f)
    shapes = {
        "single": [f"{base}/"],
        "mix": ["--targets", f"{work}/mix.json"],
        "templated": [f"{base}/items/{{{{seq}}}}"],
    }
    nginx = start_nginx(work, port)
    try:
        samples = {name: [] for name in shapes}
        for r in range(args.rounds):
            for name, shape in shapes.items():
                samples[name].append(measured(args.binary, shape, args.seconds))
            print(f"  round {r + 1}: " + ", ".join(f"{n} {samples[n][-1][0]:.0f} req/s" for n in shapes), file=sys.stderr)
        med = {n: (statistics.median(s[0] for s in v), statistics.median(s[1] for s in v)) for n, v in samples.items()}
        single_rps, single_cpu = med["single"]
        print(f"\nrequest mix and templates vs one URL, nginx 1 worker on CPU 0, stampede on CPU 1, 50 connections, "
              f"{args.rounds} rounds x {args.seconds} s, medians")
        print(f"{'':10} {'req/s':>10} {'ratio':>7}   {'CPU-s/100k':>11} {'ratio':>7}   goal: >= 0.95x req/s, <= 1.05x CPU")
        for name, (rps, cpu) in med.items():
            print(f"{name:10} {rps:10.0f} {rps / single_rps:7.3f}   {cpu:11.3f} {cpu / single_cpu:7.3f}")
        if args.summary:
            with open(args.summary, "a") as f:
                for name in ("mix", "templated"):
                    rps, cpu = med[name]
                    f.write(json.dumps({"row": f"{name}: req/s", "value": rps, "unit": "req/s", "peer": single_rps,
                                        "peer_name": "stampede, one URL", "higher_is_better": True, "goal": ">= 0.95x"}) + "\n")
                    f.write(json.dumps({"row": f"{name}: CPU per 100k requests", "value": cpu, "unit": "CPU-s", "peer": single_cpu,
                                        "peer_name": "stampede, one URL", "goal": "<= 1.05x"}) + "\n")
    finally:
        stop_nginx(nginx)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
