#!/usr/bin/env python3
"""make perf's closing table: every row the benchmarks appended to a JSON-lines file, with the
peer measured in the same run and the ratio, as markdown (make perf writes Perf/results/latest.md).

A row: {"row", "value", "unit", optional "peer", "peer_name", "higher_is_better", "goal"}. A goal
"<= 0.85x" / ">= 1.0x" is checked against the ratio, "< 10" / "<= 40" / "0" against the value.

Usage: Perf/summary.py ROWS.jsonl [MARKDOWN ...]   (markdown files are appended, each a section)
"""
import datetime
import json
import platform
import re
import sys


def check(goal, value, ratio):
    m = re.fullmatch(r"\s*(<=|>=|<|>|=)?\s*([\d.]+)\s*(x?)\s*", goal)
    if not m:
        return "?"
    op, limit, is_ratio = m.group(1) or "=", float(m.group(2)), m.group(3) == "x"
    x = ratio if is_ratio else value
    if x is None:
        return "?"
    ok = {"<=": x <= limit, ">=": x >= limit, "<": x < limit, ">": x > limit, "=": x == limit}[op]
    return "met" if ok else "MISSED"


def figure(v, unit):
    if isinstance(v, float) and not v.is_integer():
        v = f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}" if abs(v) < 1000 else f"{v:,.0f}"
    else:
        v = f"{int(v):,}"
    return f"{v} {unit}"


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    out = [f"# make perf, {datetime.date.today()}", "",
           f"{platform.node()}: {platform.machine()}, {platform.release()}. Every peer figure was measured in the same "
           "`make perf` run on the same machine; ratio = stampede / peer (for req/s higher is better, for time, CPU "
           "and memory lower is better).", "",
           "| measurement | stampede | peer | peer figure | ratio | goal | |", "|---|---|---|---|---|---|---|"]
    missed = 0
    for r in rows:
        peer = r.get("peer")
        ratio = r["value"] / peer if peer else None
        goal = r.get("goal", "")
        verdict = check(goal, r["value"], ratio) if goal else ""
        missed += verdict == "MISSED"
        out.append("| {} | {} | {} | {} | {} | {} | {} |".format(
            r["row"], figure(r["value"], r["unit"]), r.get("peer_name", ""),
            figure(peer, r["unit"]) if peer else "", f"{ratio:.2f}x" if ratio is not None else "", goal, verdict))
    out += ["", f"{len(rows)} rows, {missed} goal(s) missed."]
    for extra in sys.argv[2:]:
        try:
            out += ["", open(extra).read().rstrip()]
        except OSError as e:
            out += ["", f"({extra}: not written: {e.strerror})"]
    print("\n".join(out))


if __name__ == "__main__":
    main()
