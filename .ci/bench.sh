#!/usr/bin/env bash
# `make bench`: throughput and latency of the Streams API against a release build, on SQLite
# (each commit in the write-ahead log, `normal`, and flushed to the disk, `full`) and Postgres,
# next to a plain axum "hello" endpoint measured in the same run. Writes
# BENCHMARKS.md. Not part of `make test`: numbers need a quiet machine, not a pass/fail.
set -euo pipefail
cd "$(dirname "$0")/.."
export LEPTOS_OUTPUT_NAME=sluice
seconds=${BENCH_SECONDS:-10}

# The release site as `make run` builds it: files named by their hash, precompressed.
LEPTOS_HASH_FILES=true cargo leptos build --release --precompress --split
cargo build --release -p server --example loadgen
sluice=target/release/sluice
loadgen=target/release/examples/loadgen
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

. .ci/serve.sh

eval "$(bash .ci/postgres.sh)"
results="$work/results.jsonl"

# Adds to the results the load generator's line read from stdin, with its backend, what was
# requested (when not a Sluice send) and the peak resident memory of the server's processes.
record() {
  local backend=$1 request=$2; shift 2
  local rss=0 pid
  for pid in "$@"; do rss=$((rss + $(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status"))); done
  python3 -c "import json, sys; r = json.load(sys.stdin); r.update(backend='$backend', rss_mib=$rss / 1024)
if '$request': r['request'] = '$request'
print(json.dumps(r))" >>"$results"
}

# Creates the bench account and a demo Marketing stream on the database the arguments name;
# prints the stream's token.
bench_token() {
  "$sluice" user create --email bench@example.com --password "bench password 1" "$@" >/dev/null
  "$sluice" stream create --email bench@example.com --name Bench --type sms_marketing --demo --json "$@" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}

for backend in sqlite sqlite-full postgres; do
  data="$work/$backend"; mkdir -p "$data"
  synchronous=normal
  if [[ $backend == sqlite* ]]; then
    url="sqlite://$data/sluice.db"
    [[ $backend == sqlite-full ]] && synchronous=full
  else
    name="sluice_bench_$$"
    psql "$SLUICE_TEST_POSTGRES_URL" -qc "drop database if exists $name" -c "create database $name"
    url="${SLUICE_TEST_POSTGRES_URL%/*}/$name"
  fi
  common=(--database-url "$url" --data-dir "$data" --log-level warn)
  token=$(bench_token "${common[@]}")
  port=$(free_port)
  # One token is the whole load here: its rate limit is lifted, as an operator would for a
  # known high-volume sender.
  SLUICE_LIMITS__API_PER_SECOND=10000000 SLUICE_LIMITS__API_BURST=10000000 \
    SLUICE_SQLITE_SYNCHRONOUS=$synchronous "$sluice" --addr "127.0.0.1:$port" "${common[@]}" & pids+=($!)
  wait_for "http://127.0.0.1:$port/healthz"
  # Paced at 1,000 requests/s first, so its peak memory is its own; then as fast as it goes.
  for run in "single 32 1 1000" "single 32 1 0" "batch 4 1000 0"; do
    read -r mode concurrency batch rate <<<"$run"
    label=""; [[ $rate != 0 ]] && label="1 message, $rate/s"
    echo "==> $backend $mode${label:+ ($label)}"
    "$loadgen" run --mode "$mode" --url "http://127.0.0.1:$port/simple_send/" --token="$token" \
      --concurrency "$concurrency" --batch "$batch" --seconds "$seconds" --rate "$rate" \
      | record "$backend" "$label" "${pids[-1]}"
  done
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
  if [[ $backend == postgres ]]; then psql "$SLUICE_TEST_POSTGRES_URL" -qc "drop database if exists $name"; fi
done

# Several instances on one Postgres database: the same load on one instance, then split
# between two (a load generator each, half the clients each); then a backlog of queued
# messages sent by one instance, then by two. Each twice, alternated, as the database grows.
cluster="$work/cluster.jsonl"
name="sluice_bench_cluster_$$"
psql "$SLUICE_TEST_POSTGRES_URL" -qc "drop database if exists $name" -c "create database $name"
url="${SLUICE_TEST_POSTGRES_URL%/*}/$name"
data="$work/cluster"; mkdir -p "$data"
common=(--database-url "$url" --data-dir "$data" --log-level warn)
token=$(bench_token "${common[@]}")
instances=(); ports=()
start_instances() {
  instances=(); ports=()
  local port
  for _ in $(seq "$1"); do
    port=$(free_port)
    SLUICE_LIMITS__API_PER_SECOND=10000000 SLUICE_LIMITS__API_BURST=10000000 \
      "$sluice" --addr "127.0.0.1:$port" "${common[@]}" & pids+=($!); instances+=($!); ports+=("$port")
  done
  for port in "${ports[@]}"; do wait_for "http://127.0.0.1:$port/healthz"; done
}
stop_instances() {
  kill "${instances[@]}"
  for pid in "${instances[@]}"; do wait "$pid" 2>/dev/null || true; done
}
queued() { psql "$url" -Atc "select count(*) from messages where status = 'queued'"; }
# Waits until no message has a step left (a send, a retry, the demo channel's delivery report),
# so that what one run left behind is not worked off in the next one's time.
settle() {
  local waited=0
  while [[ $(psql "$url" -Atc "select count(*) from messages where next_at is not null") != 0 ]]; do
    sleep 0.5; waited=$((waited + 1))
    if ((waited > 600)); then echo "messages still had steps left after 5 minutes" >&2; exit 1; fi
  done
}
for run in "single 32 1" "batch 4 1000"; do
  read -r mode concurrency batch <<<"$run"
  for count in 1 2 1 2; do
    echo "==> postgres, $count instance(s), $mode"
    start_instances "$count"
    gens=()
    for i in "${!ports[@]}"; do
      "$loadgen" run --mode "$mode" --url "http://127.0.0.1:${ports[$i]}/simple_send/" --token="$token" \
        --concurrency $((concurrency / count)) --batch "$batch" --seconds "$seconds" >"$work/gen-$i.json" & gens+=($!)
    done
    wait "${gens[@]}"
    python3 - "$count" "$mode" "$work"/gen-*.json >>"$cluster" <<'PY'
import json, sys
count, mode, runs = int(sys.argv[1]), sys.argv[2], [json.load(open(p)) for p in sys.argv[3:]]
print(json.dumps({
    "kind": "load", "instances": count, "mode": mode,
    "requests_per_s": sum(r["requests_per_s"] for r in runs),
    "messages_per_s": sum(r["messages_per_s"] for r in runs),
    "p99_ms": max(r["p99_ms"] for r in runs),
    "failures": sum(r["failures"] for r in runs),
}))
PY
    rm -f "$work"/gen-*.json
    # What the run queued is sent, and reported, before the next starts.
    settle
    stop_instances
  done
done
backlog=${BENCH_BACKLOG:-50000}
for count in 1 2 1 2; do
  echo "==> postgres, $count instance(s), a backlog of $backlog messages"
  # Copies of a message the API accepted, queued while no instance runs.
  psql "$url" -qc "insert into messages (id, account_id, stream_id, direction, channel, sender,
        recipient, content, encoding, segments, status, attempts, next_at, expires_at, created_at,
        updated_at)
      select gen_random_uuid()::text, account_id, stream_id, direction, channel, sender, recipient,
        content, encoding, segments, 'queued', 0, now_ms, now_ms + 86400000, now_ms, now_ms
      from (select *, (extract(epoch from clock_timestamp()) * 1000)::bigint as now_ms
            from messages order by created_at limit 1) template, generate_series(1, $backlog)"
  # Each drain starts from a vacuumed, analysed table, whatever ran before it.
  psql "$url" -qc "vacuum analyze messages"
  started=$(date +%s.%N)
  start_instances "$count"
  while [[ $(queued) != 0 ]]; do sleep 0.1; done
  python3 -c "import json; s = $(date +%s.%N) - $started
print(json.dumps({'kind': 'backlog', 'instances': $count, 'messages': $backlog, 'seconds': s, 'messages_per_s': $backlog / s}))" >>"$cluster"
  settle
  stop_instances
done
psql "$SLUICE_TEST_POSTGRES_URL" -qc "drop database if exists $name"

# Retention on SQLite: a day's worth of old messages redacted, then deleted, by the pass a
# starting instance runs, while 1,000 single-message requests/s come in; the same load without
# a pass first. Each batch's hold on the writer is read from the instance's metrics.
retention="$work/retention.jsonl"
data="$work/retention"; mkdir -p "$data"
common=(--database-url "sqlite://$data/sluice.db" --data-dir "$data" --log-level warn)
token=$(bench_token "${common[@]}")
sql() { python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); r = c.execute(sys.argv[2]).fetchone(); c.commit(); print(r[0] if r else "")' "$data/sluice.db" "$1"; }
retention_instance() {
  port=$(free_port)
  SLUICE_LIMITS__API_PER_SECOND=10000000 SLUICE_LIMITS__API_BURST=10000000 SLUICE_METRICS__TOKEN=bench \
    SLUICE_RETENTION__REDACT_AFTER_DAYS=$1 SLUICE_RETENTION__DELETE_AFTER_DAYS=$2 \
    "$sluice" --addr "127.0.0.1:$port" "${common[@]}" & pids+=($!)
  wait_for "http://127.0.0.1:$port/healthz"
}
retained() {
  curl -fs -H "Authorization: Bearer bench" "http://127.0.0.1:$port/metrics" | python3 -c '
import json, re, sys
rows, batches, held, buckets = 0, 0, 0.0, []
for line in sys.stdin:
    value = float(line.split()[-1]) if line.startswith("sluice_retention") else 0
    if line.startswith("sluice_retention_rows_total") and f"action=\"{sys.argv[1]}\"" in line and "table=\"messages\"" in line:
        rows = int(value)
    elif line.startswith("sluice_retention_batch_duration_seconds_count"):
        batches = int(value)
    elif line.startswith("sluice_retention_batch_duration_seconds_sum"):
        held = value
    elif line.startswith("sluice_retention_batch_duration_seconds_bucket"):
        buckets.append((float(re.search(r"le=\"([^\"]+)\"", line).group(1)), value))
# The longest batch took at most the first bound every batch was under.
longest = next((le for le, count in sorted(buckets) if count >= batches), 0.0)
print(json.dumps({"rows": rows, "batches": batches, "held_s": held, "longest_under_s": longest}))' "$1"
}
retention_instance 0 0
"$loadgen" run --mode batch --url "http://127.0.0.1:$port/simple_send/" --token="$token" \
  --concurrency 4 --batch 1000 --seconds "${BENCH_RETENTION_FILL_SECONDS:-5}" >/dev/null
while [[ $(sql "select count(*) from messages where status = 'queued'") != 0 ]]; do sleep 0.5; done
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
old=$(sql "select count(*) from messages")
sql "update messages set created_at = created_at - 40 * 86400000" >/dev/null
for pass in "0 0 none" "30 0 redacted" "0 35 deleted"; do
  read -r redact delete action <<<"$pass"
  echo "==> sqlite retention: $action"
  retention_instance "$redact" "$delete"
  started=$(date +%s.%N)
  "$loadgen" run --mode single --url "http://127.0.0.1:$port/simple_send/" --token="$token" \
    --concurrency 8 --rate 1000 --seconds "$seconds" >"$work/during.json" &
  gen=$!
  pass_s=0
  if [[ $action != none ]]; then
    while [[ $(retained "$action" | python3 -c 'import json, sys; print(json.load(sys.stdin)["rows"])') -lt $old ]]; do sleep 0.05; done
    pass_s=$(python3 -c "print($(date +%s.%N) - $started)")
  fi
  wait "$gen"
  python3 - "$action" "$old" "$pass_s" "$work/during.json" "$(retained "$action")" >>"$retention" <<'PY'
import json, sys
action, old, pass_s, during, metrics = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), json.load(open(sys.argv[4])), json.loads(sys.argv[5])
print(json.dumps({"action": action, "rows": old, "pass_s": pass_s, "p50_ms": during["p50_ms"],
                  "p99_ms": during["p99_ms"], "failures": during["failures"], **metrics}))
PY
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
done

# Kannel 1.4.5, Debian's, under the same single-message load: `sendsms` over HTTP into
# bearerbox, which hands messages to `fakesmsc` as its SMSC and keeps them in memory.
if [[ ! -x /usr/sbin/bearerbox || ! -x /usr/lib/kannel/test/fakesmsc ]]; then
  echo "==> installing Kannel (Debian's kannel and kannel-extras)"
  [[ $(id -u) -eq 0 ]] || { echo "need root to install Kannel"; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kannel kannel-extras >/dev/null
fi
echo "==> kannel single"
read -r admin boxes smsc sendsms <<<"$(free_port) $(free_port) $(free_port) $(free_port)"
cat >"$work/kannel.conf" <<CONF
group = core
admin-port = $admin
admin-password = bench
smsbox-port = $boxes
box-allow-ip = 127.0.0.1

group = smsc
smsc = fake
smsc-id = fake
port = $smsc
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
sendsms-port = $sendsms

group = sendsms-user
username = bench
password = bench
CONF
/usr/sbin/bearerbox -v 4 "$work/kannel.conf" >/dev/null 2>&1 & pids+=($!); bearerbox=$!
sleep 1
/usr/sbin/smsbox -v 4 "$work/kannel.conf" >/dev/null 2>&1 & pids+=($!); smsbox=$!
# fakesmsc reads messages to send from stdin; a pipe held open, silent, keeps it receiving.
mkfifo "$work/fakesmsc.in"
/usr/lib/kannel/test/fakesmsc -H 127.0.0.1 -r "$smsc" <"$work/fakesmsc.in" >/dev/null 2>&1 & pids+=($!)
exec 9>"$work/fakesmsc.in"
sendsms_url="http://127.0.0.1:$sendsms/cgi-bin/sendsms?username=bench&password=bench&from=Bench&to=447700900123&text=Your+order+has+shipped+and+will+arrive+tomorrow."
for _ in $(seq 100); do curl -fs "$sendsms_url" >/dev/null && break; sleep 0.1; done
"$loadgen" run --mode hello --url "$sendsms_url" --concurrency 32 --seconds "$seconds" \
  | record kannel "GET /cgi-bin/sendsms" "$bearerbox" "$smsbox"
exec 9>&-
kill "${pids[-1]}" "$bearerbox" "$smsbox" 2>/dev/null || true

# The console in Chromium, CPU slowed 4x on a throttled network (end2end/bench).
echo "==> browser"
data="$work/browser"; mkdir -p "$data"
port=$(free_port)
LEPTOS_SITE_ROOT=target/site SLUICE_HTTP__SECURE_COOKIE=false \
  "$sluice" --addr "127.0.0.1:$port" --data-dir "$data" --log-level warn & pids+=($!)
wait_for "http://127.0.0.1:$port/healthz"
(cd end2end && SLUICE_BENCH_URL="http://127.0.0.1:$port" SLUICE_BENCH_OUT="$work/browser.jsonl" \
  npx playwright test -c bench.config.ts)
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

port=$(free_port)
"$loadgen" hello --addr "127.0.0.1:$port" & pids+=($!)
wait_for "http://127.0.0.1:$port/hello"
echo "==> baseline hello"
"$loadgen" run --mode hello --url "http://127.0.0.1:$port/hello" --concurrency 32 --seconds "$seconds" \
  | python3 -c "import json, sys; r = json.load(sys.stdin); r['backend'] = 'axum'; print(json.dumps(r))" >>"$results"

python3 .ci/bench_report.py "$results" "$seconds" BENCHMARKS.md "$work/browser.jsonl" target/site/pkg "$cluster" "$work/retention.jsonl" > "$work/BENCHMARKS.md"
mv "$work/BENCHMARKS.md" BENCHMARKS.md
cat BENCHMARKS.md
