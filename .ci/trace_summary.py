#!/usr/bin/env python3
"""Summarises a Chromium performance trace (from `make bench` with SLUICE_BENCH_TRACE): every
task of the page's main thread that ran 50 ms or longer, the blocking time it caused (what
runs past 50 ms), and the work inside it, largest first.

    python3 .ci/trace_summary.py trace.json [more.json ...]
"""
import json
import sys
from collections import defaultdict

LONG_US = 50_000


def load(path):
    with open(path) as f:
        data = json.load(f)
    return data["traceEvents"] if isinstance(data, dict) else data


def main_threads(events):
    return {
        (e["pid"], e["tid"])
        for e in events
        if e.get("ph") == "M" and e.get("name") == "thread_name"
        and e.get("args", {}).get("name") == "CrRendererMain"
    }


def label(event):
    data = event.get("args", {}).get("data", {}) or {}
    detail = data.get("url") or data.get("functionName") or data.get("type") or ""
    if detail and len(detail) > 60:
        detail = "…" + detail[-59:]
    return f"{event['name']} {detail}".strip()


def summarise(path):
    events = load(path)
    mains = main_threads(events)
    spans = [e for e in events if e.get("ph") == "X" and (e["pid"], e["tid"]) in mains and "dur" in e]
    tasks = sorted((e for e in spans if e["name"] == "RunTask" and e["dur"] >= LONG_US), key=lambda e: e["ts"])
    blocking = sum(t["dur"] - LONG_US for t in tasks) / 1000
    print(f"{path}: {len(tasks)} long tasks, {blocking:.0f} ms blocking")
    for task in tasks:
        inside = defaultdict(float)
        for e in spans:
            if e is task or (e["pid"], e["tid"]) != (task["pid"], task["tid"]):
                continue
            if e["ts"] >= task["ts"] and e["ts"] + e["dur"] <= task["ts"] + task["dur"] and e["name"] != "RunTask":
                inside[label(e)] += e["dur"] / 1000
        print(f"  task of {task['dur'] / 1000:.0f} ms")
        for name, ms in sorted(inside.items(), key=lambda kv: -kv[1])[:8]:
            print(f"    {ms:7.1f} ms  {name}")


if __name__ == "__main__":
    for path in sys.argv[1:]:
        summarise(path)
