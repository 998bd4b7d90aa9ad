#!/usr/bin/env bash
# Prints `export SLUICE_TEST_POSTGRES_URL=…` for the Postgres server the tests should use:
# the one already named, else the local server on 127.0.0.1:5432, else a throwaway cluster
# started here. Never answers "no Postgres": it fails instead.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -n "${SLUICE_TEST_POSTGRES_URL:-}" ]]; then
  echo "export SLUICE_TEST_POSTGRES_URL='$SLUICE_TEST_POSTGRES_URL'"
  exit 0
fi

reachable() { psql "$1" -Atqc 'select 1' >/dev/null 2>&1; }

local_url="postgres://postgres@127.0.0.1:5432/postgres"
if command -v psql >/dev/null && reachable "$local_url"; then
  echo "export SLUICE_TEST_POSTGRES_URL='$local_url'"
  exit 0
fi

# A throwaway cluster under target/, owned by the postgres user (initdb refuses root).
port=55432
root="$PWD/target/postgres"
url="postgres://postgres@127.0.0.1:$port/postgres"
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  echo "installing PostgreSQL" >&2
  [[ -f /tmp/.sluice-apt-updated ]] || { apt-get update -qq && touch /tmp/.sluice-apt-updated; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_postgres() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if ! reachable "$url"; then
  echo "starting a throwaway PostgreSQL on port $port" >&2
  mkdir -p "$root"
  [[ $(id -u) -eq 0 ]] && chown postgres "$root"
  if [[ ! -f "$root/data/PG_VERSION" ]]; then
    as_postgres "$bin/initdb" -D "$root/data" -U postgres --auth=trust >/dev/null
  fi
  as_postgres "$bin/pg_ctl" -D "$root/data" -l "$root/log" -w \
    -o "-p $port -k /tmp -c listen_addresses=127.0.0.1" start >/dev/null
fi
reachable "$url" || { echo "PostgreSQL did not start; see $root/log" >&2; exit 1; }
echo "export SLUICE_TEST_POSTGRES_URL='$url'"
