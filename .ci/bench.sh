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
  "$sluice" user create --email bench@example.com --password "bench password 1" "${common[@]}" >/dev/null
  token=$("$sluice" stream create --email bench@example.com --name Bench --type sms_marketing --demo --json "${common[@]}" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
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

python3 .ci/bench_report.py "$results" "$seconds" BENCHMARKS.md "$work/browser.jsonl" target/site/pkg > "$work/BENCHMARKS.md"
mv "$work/BENCHMARKS.md" BENCHMARKS.md
cat BENCHMARKS.md
