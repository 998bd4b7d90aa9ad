#!/usr/bin/env bash
# Installs what building (and, with `--test`, testing) Sluice needs; skips what is present.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test_tools=false
[[ "${1:-}" == "--test" ]] && want_test_tools=true

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

apt_install() {
  if [[ $(id -u) -ne 0 ]]; then
    say "need root to install Debian packages: $*"; exit 1
  fi
  if [[ ! -f /tmp/.sluice-apt-updated ]]; then
    apt-get update -qq && touch /tmp/.sluice-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

command -v npm >/dev/null || { say "installing Node.js and npm"; apt_install nodejs npm; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# Build tools are compiled for a quick install, not for speed: no LTO, many codegen units,
# light optimisation (cargo-leptos's own release profile asks for fat LTO and one unit). Their
# run time is the same within a second: wasm-opt and cargo do the work (BENCHMARKS.md).
quick_install() {
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 cargo install "$@"
}

if ! cargo leptos --version >/dev/null 2>&1; then
  say "installing cargo-leptos 0.3.10 (about 11 minutes on 2 cores)"
  quick_install cargo-leptos@0.3.10 --locked --features no_downloads
fi

# The wasm-bindgen CLI must match the library version in Cargo.lock exactly.
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [[ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]]; then
  say "installing wasm-bindgen-cli $bindgen_version"
  quick_install wasm-bindgen-cli --version "=$bindgen_version" --force
fi

# `npm install`, not `npm ci`: npm 11 leaves optional platform packages (Tailwind's oxide
# binaries) out of the lock file, and `npm ci` then refuses it.
npm_install() {
  local dir=$1
  if [[ ! -f "$dir/node_modules/.package-lock.json" || "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]]; then
    say "installing npm packages in $dir"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
  fi
}
npm_install .

if $want_test_tools; then
  npm_install end2end
  npm_install server/tests/smsc
  # Schemathesis fuzzes the API against its OpenAPI document (`make test-api`).
  if [[ "$(.venv/bin/schemathesis --version 2>/dev/null)" != *" 4.32.5" ]]; then
    say "installing schemathesis"
    python3 -m venv .venv 2>/dev/null || { apt_install python3-venv; python3 -m venv .venv; }
    .venv/bin/pip install --quiet --disable-pip-version-check "schemathesis==4.32.5"
  fi
  # The official Prometheus client's OpenMetrics parser reads /metrics in the tests.
  if [[ "$(.venv/bin/pip show prometheus-client 2>/dev/null | sed -n 's/^Version: //p')" != "0.26.0" ]]; then
    say "installing the Prometheus client's parser"
    .venv/bin/pip install --quiet --disable-pip-version-check "prometheus-client==0.26.0"
  fi
  if [[ ! -x /usr/bin/chromium ]]; then
    say "installing Chromium"
    apt_install chromium
  fi
fi
