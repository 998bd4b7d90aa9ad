"""Turns `make bench` results (JSON lines) into BENCHMARKS.md, keeping the history section
(`## History` to the end) of the BENCHMARKS.md given as the third argument. The fourth and
fifth, when given: the browser run's results (JSON lines) and the site's `pkg` folder, whose
files and their precompressed copies are weighed."""
import datetime
import json
import os
import platform
import sys

rows = [json.loads(line) for line in open(sys.argv[1])]
seconds = sys.argv[2]
hello = next(r for r in rows if r["backend"] == "axum")
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
print("| backend | request | clients | requests/s | messages/s | p50 ms | p99 ms | failures | peak RSS MiB | vs hello |")
print("|---|---|---|---|---|---|---|---|---|---|")
clients = {"single": 32, "batch": 4, "hello": 32}
for r in rows:
    request = r.get("request") or {"single": "1 message", "batch": "1,000 messages", "hello": "GET /hello"}[r["mode"]]
    ratio = r["requests_per_s"] / hello["requests_per_s"]
    rss = f"{r['rss_mib']:,.0f}" if "rss_mib" in r else "—"
    print(
        f"| {r['backend']} | {request} | {clients[r['mode']]} | {r['requests_per_s']:,.0f} | "
        f"{r['messages_per_s']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['failures']} | {rss} | {ratio:.2f} |"
    )
print("\nTargets (issue 4): ≥ 5,000 single-message requests/s with p99 < 25 ms and ≥ 25,000")
print("messages/s in batches on SQLite, 2 cores.")
kannel = next((r for r in rows if r["backend"] == "kannel"), None)
sluice = next((r for r in rows if r["backend"] == "sqlite" and r["mode"] == "single" and not r.get("request")), None)
if kannel and sluice:
    print(f"\n**Sluice on SQLite / Kannel 1.4.5: {sluice['requests_per_s'] / kannel['requests_per_s']:.2f}×** single-message")
    print("requests/s under the same load (Kannel's `sendsms` over HTTP, `fakesmsc` as its SMSC, messages")
    print("kept in memory; every message Sluice answers is committed). Peak RSS: the most resident")
    print("memory the server's processes (bearerbox and smsbox for Kannel) held since they started;")
print("each Sluice first takes 1,000 requests/s for the run's length, then its full load.")
print("Targets (issue 17): ≥ 1.0× Kannel with p99 < 10 ms; RSS ≤ 64 MiB at 1,000 requests/s and")
print("≤ 128 MiB at full load.")

if len(sys.argv) > 5:
    browser = [json.loads(line) for line in open(sys.argv[4])] if os.path.exists(sys.argv[4]) else []
    pkg = sys.argv[5]
    print("\n## The console in a browser\n")
    print("Chromium, cold cache, CPU slowed 4×, network at 150 ms round trips and 1.6 Mbit/s down")
    print("(`end2end/bench`); each page loaded in full after the one before, so only the first")
    print("pays for the cold cache. Transferred: bytes on the wire, compressed where the server")
    print("compressed them; of which wasm and JavaScript: the app's code. Interactive: from")
    print("navigation until the page is hydrated. The widget is loaded last, with a cold cache of")
    print("its own, as a product team's tool shows it.\n")
    print("| page | transferred KB | of which wasm + JS KB | LCP ms | total blocking time ms | interactive ms |")
    print("|---|---|---|---|---|---|")
    for r in browser:
        print(f"| {r['page']} | {r['bytes'] / 1000:,.1f} | {r.get('code_bytes', 0) / 1000:,.1f} | {r['lcp_ms']:,} | {r['tbt_ms']:,} | {r['tti_ms']:,} |")
    print("\nTargets (issue 17): LCP ≤ 1,000 ms and total blocking time ≤ 100 ms under that")
    print("throttling; the first page ≤ 250 KB of brotli-compressed wasm and JavaScript.\n")
    print("| file | bytes | brotli | gzip |")
    print("|---|---|---|---|")
    size = lambda path: os.path.getsize(path) if os.path.exists(path) else None
    show = lambda n: "—" if n is None else f"{n:,}"
    for name in sorted(os.listdir(pkg)):
        if name.endswith((".br", ".gz")):
            continue
        path = os.path.join(pkg, name)
        print(f"| `{name}` | {show(size(path))} | {show(size(path + '.br'))} | {show(size(path + '.gz'))} |")

def lines(path):
    return [json.loads(line) for line in open(path)] if path and os.path.exists(path) else []


cluster = lines(sys.argv[6] if len(sys.argv) > 6 else None)
if cluster:
    print("\n## Several instances on one Postgres\n")
    print("The same load on one instance, then split between two (a load generator each, half the")
    print("clients each), on one Postgres database on this machine. Then a backlog of queued demo")
    print("messages, written while no instance ran (the table then vacuumed), sent by one instance or")
    print("by two: from the instances' start until none is queued. Each run starts once every message")
    print("of the one before has taken its last step (the demo channel's delivery report included).")
    print("Each run twice, one and two instances alternated")
    print("as the database grows; the medians, and each run's messages/s. On one machine the")
    print("instances, Postgres and the load share its cores: this measures what coordinating costs,")
    print("not what a second machine adds (SCALING.md).\n")
    print("| load | instances | requests/s | messages/s | p99 ms | failures | runs, messages/s | vs one |")
    print("|---|---|---|---|---|---|---|---|")
    median = lambda values: sorted(values)[len(values) // 2] if len(values) % 2 else sum(sorted(values)[len(values) // 2 - 1:len(values) // 2 + 1]) / 2
    groups = {}
    for r in cluster:
        groups.setdefault((r["kind"], r.get("mode"), r["instances"]), []).append(r)
    for (kind, mode, instances), runs in groups.items():
        rate = median([r["messages_per_s"] for r in runs])
        one = median([r["messages_per_s"] for r in groups[(kind, mode, 1)]])
        each = " / ".join(f"{r['messages_per_s']:,.0f}" for r in runs)
        if kind == "load":
            load = {"single": "1 message, 32 clients", "batch": "1,000 messages, 4 clients"}[mode]
            print(f"| {load} | {instances} | {median([r['requests_per_s'] for r in runs]):,.0f} | {rate:,.0f} | "
                  f"{median([r['p99_ms'] for r in runs]):.2f} | {sum(r['failures'] for r in runs)} | {each} | {rate / one:.2f} |")
        else:
            print(f"| backlog of {runs[0]['messages']:,} | {instances} | — | {rate:,.0f} | — | — | {each} | {rate / one:.2f} |")

retention = lines(sys.argv[7] if len(sys.argv) > 7 else None)
if retention:
    print("\n## Retention on SQLite\n")
    print("Messages aged 40 days, then a starting instance's retention pass: text redacted")
    print("(`redact_after_days = 30`), then, in another run, the rows deleted (`delete_after_days =")
    print("35`, with their history), while 8 clients send 1,000 single-message requests/s; first the")
    print("same load with no pass. Each batch holds the one writer; its longest hold is the")
    print("histogram bucket every batch fitted in (`sluice_retention_batch_duration_seconds`).\n")
    print("| pass | rows | pass s | rows/s | batches | mean hold ms | longest hold ≤ ms | requests p50 ms | p99 ms | failures |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in retention:
        if r["action"] == "none":
            print(f"| none | — | — | — | — | — | — | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['failures']} |")
            continue
        mean = r["held_s"] / r["batches"] * 1000 if r["batches"] else 0
        print(f"| {r['action']} | {r['rows']:,} | {r['pass_s']:.1f} | {r['rows'] / r['pass_s']:,.0f} | {r['batches']:,} | "
              f"{mean:.2f} | {r['longest_under_s'] * 1000:.1f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['failures']} |")

previous = open(sys.argv[3]).read() if len(sys.argv) > 3 and os.path.exists(sys.argv[3]) else ""
if "## History" in previous:
    print("\n" + previous[previous.index("## History"):].rstrip("\n"))
