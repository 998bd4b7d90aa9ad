"""Turns `make bench` results (JSON lines) into BENCHMARKS.md, keeping the history section
(`## History` to the end) of the BENCHMARKS.md given as the third argument."""
import datetime
import json
import os
import platform
import sys

rows = [json.loads(line) for line in open(sys.argv[1])]
seconds = sys.argv[2]
hello = next(r for r in rows if r["mode"] == "hello")
cpu = next(
    (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
    platform.processor(),
)
print("# Benchmarks\n")
print(f"Measured by `make bench` on {datetime.date.today().isoformat()}: {os.cpu_count()} cores ({cpu}),")
print(f"{platform.system()} {platform.release()}. Release build; the load generator runs on the same")
print(f"machine and shares its cores. {seconds} s per run. Every Sluice request is authenticated,")
print("validated, committed to the outbox before the answer, and delivered by the demo channel's")
print("workers while the load runs. `sqlite-full` is SQLite with `sqlite_synchronous = \"full\"`")
print("(an fsync per commit); `sqlite` is the default, `normal`.\n")
print("| backend | request | clients | requests/s | messages/s | p50 ms | p99 ms | failures | vs hello |")
print("|---|---|---|---|---|---|---|---|---|")
clients = {"single": 32, "batch": 4, "hello": 32}
for r in rows:
    request = {"single": "1 message", "batch": "1,000 messages", "hello": "GET /hello"}[r["mode"]]
    ratio = r["requests_per_s"] / hello["requests_per_s"]
    print(
        f"| {r['backend']} | {request} | {clients[r['mode']]} | {r['requests_per_s']:,.0f} | "
        f"{r['messages_per_s']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['failures']} | {ratio:.2f} |"
    )
print("\nTargets (issue 4): ≥ 5,000 single-message requests/s with p99 < 25 ms and ≥ 25,000")
print("messages/s in batches on SQLite, 2 cores.")

previous = open(sys.argv[3]).read() if len(sys.argv) > 3 and os.path.exists(sys.argv[3]) else ""
if "## History" in previous:
    print("\n" + previous[previous.index("## History"):].rstrip("\n"))
