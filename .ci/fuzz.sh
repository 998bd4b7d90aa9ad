#!/usr/bin/env bash
# `make test-api`: the public API against its own description. Schemathesis, an implementation
# we did not write, generates requests from /api/openapi.json with a token of each stream type
# and fails on a server error or on an answer the document does not describe (its status code,
# content type or schema). Needs the dev build (`make build-dev`).
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/serve.sh
sluice=${SLUICE_BIN:-target/debug/sluice}
schemathesis=.venv/bin/schemathesis
examples=${FUZZ_EXAMPLES:-40}

work=$(mktemp -d)
pid=
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

common=(--database-url "sqlite://$work/sluice.db" --data-dir "$work" --log-level error)
"$sluice" user create --email fuzz@example.com --password "fuzz password 1" "${common[@]}" >/dev/null
kinds=(sms_marketing sms_transactional sms_otp sms_two_way whatsapp)
declare -A tokens
for kind in "${kinds[@]}"; do
  tokens[$kind]=$("$sluice" stream create --email fuzz@example.com --name "Fuzz $kind" --type "$kind" \
    --demo --json "${common[@]}" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
done
port=$(free_port)
# The fuzzer is one client sending as fast as it can: its limits are lifted, and a test
# inbox's wait is held at most a second (it asks for up to 30).
SLUICE_LIMITS__API_PER_SECOND=1000000 SLUICE_LIMITS__API_BURST=1000000 \
  SLUICE_LIMITS__UNKNOWN_TOKENS_PER_MINUTE=1000000 SLUICE_LIMITS__INBOX_WAIT_SECS=1 \
  "$sluice" --addr "127.0.0.1:$port" "${common[@]}" &
pid=$!
wait_for "http://127.0.0.1:$port/healthz"

failed=()
for kind in "${kinds[@]}"; do
  echo "==> $kind"
  "$schemathesis" run "http://127.0.0.1:$port/api/openapi.json" \
    --header "Authorization: ${tokens[$kind]}" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "$examples" --seed 1 --no-color --workers 2 --generation-database none \
    --report-dir "$work/report" || failed+=("$kind")
done
if (( ${#failed[@]} )); then
  echo "the API answered outside its description with a token of: ${failed[*]}"
  exit 1
fi
