# The two commands of README.md: `make run` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

STACK := scripts/stack
# Sources the web build depends on; dist is rebuilt only when one of them changed.
WEB_SOURCES := $(shell find web/src web/public web/index.html web/playground.html web/vite.config.js \
                 web/vite.playground.config.js web/scripts web/package.json \
                 graphql/operations graphql/pending graphql/schema.graphql -type f 2>/dev/null)

help:
	@echo "make run    - start the local stack, migrate, serve on http://127.0.0.1:8080 (GraphiQL at /graphql)"
	@echo "make test   - start the local stack if needed; fmt, clippy, every test (Rust, web, browser, deploy)"
	@echo "make bench  - load benchmark against a release build (see scripts/bench)"
	@echo "make failover-drill - crash the primary under load, promote, rejoin, fail back; print the table"

.PHONY: help run test bench stack web lint test-rust test-web test-e2e test-deploy schema failover-drill

stack:
	@$(STACK) up >/dev/null

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

web/dist/index.html: web/node_modules/.installed $(WEB_SOURCES)
	cd web && npm run --silent build
	@touch $@

web: web/dist/index.html

run: stack web
	cargo build
	eval "$$($(STACK) env)"; \
	  ./target/debug/pastebin migrate; \
	  exec ./target/debug/pastebin serve --workers

lint:
	cargo fmt --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	# The server build, without the test-support feature the tests turn on.
	cargo clippy --locked -- -D warnings

test-rust: stack
	# The CLI's tests run the built `pb` binary against the server.
	cargo build --locked -p pb
	eval "$$($(STACK) env)"; cargo nextest run --workspace --locked --no-fail-fast

test-web: web/node_modules/.installed
	cd web && npm test --silent && npm run --silent check:ops

test-e2e: stack web
	cargo build --locked
	eval "$$($(STACK) env)"; scripts/e2e

test-deploy:
	scripts/validate-deploy

test: stack lint test-rust test-web test-e2e test-deploy
	@echo "make test: all passed"

schema:
	cargo run -q -- schema > graphql/schema.graphql

failover-drill: stack
	cargo build --release --locked --bin pastebin --example failover_drill
	eval "$$($(STACK) env)"; scripts/with-own-databases pastebin_drill ./target/release/examples/failover_drill

bench: stack
	cargo build --release --locked --bin pastebin --examples
	eval "$$($(STACK) env)"; scripts/bench
