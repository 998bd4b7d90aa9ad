# `make run` serves Sluice; `make test` runs every test. Both install missing tools first.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
# cargo-leptos picks Tailwind v3 or v4 from this, not from the binary.
export LEPTOS_TAILWIND_VERSION ?= v4.3.5
# Leptos reads this at compile time; the same value for every build keeps them sharing artifacts.
export LEPTOS_OUTPUT_NAME := sluice

.PHONY: run test tools test-tools lint build-dev test-rust test-api test-e2e bench fmt clean

## Serve the console and API at http://127.0.0.1:3000 on data/sluice.db (SQLite).
run: tools
	LEPTOS_HASH_FILES=true cargo leptos build --release --precompress --split
	LEPTOS_SITE_ROOT=target/site SLUICE_HTTP__SECURE_COOKIE=$${SLUICE_HTTP__SECURE_COOKIE:-false} ./target/release/sluice

## Lint, build once (dev), then the Rust tests on SQLite and Postgres, the API fuzzed against
## its OpenAPI document, and the browser tests.
test: test-tools lint build-dev test-rust test-api test-e2e

tools:
	bash .ci/tools.sh

test-tools:
	bash .ci/tools.sh --test

lint:
	cargo fmt --all -- --check
	cargo clippy -p server --all-targets -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

build-dev:
	cargo leptos build --split

test-rust:
	eval "$$(bash .ci/postgres.sh)" && cargo test -p app --features ssr && cargo test -p server

test-api:
	bash .ci/fuzz.sh

# A free port, so a stray server never stops the browser tests.
test-e2e:
	cd end2end && SLUICE_E2E_PORT=$$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') npx playwright test

## Throughput and latency of the API (release build, SQLite and Postgres) into BENCHMARKS.md.
bench: test-tools
	bash .ci/bench.sh

fmt:
	cargo fmt --all

clean:
	cargo clean
	rm -rf node_modules end2end/node_modules
