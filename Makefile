# Crashcart's command surface. `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PYTEST_ARGS ?=

.PHONY: help setup run test lint fmt typecheck services system bench-collector bench-stackwalk bench-processor bench-search bench-web clean docs

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: ## Install uv if missing and the locked dependencies into .venv
	@scripts/setup.sh

run: setup ## Run Crashcart with embedded backends on http://127.0.0.1:8000
	.venv/bin/crashcart run

test: setup services system ## Lint, type-check and run the whole test suite (starts any service it needs)
	.venv/bin/ruff check src tests bench devtools fuzz
	.venv/bin/ruff format --check src tests bench devtools fuzz
	.venv/bin/lint-imports --no-logo --no-cache
	.venv/bin/mypy
	.venv/bin/pytest $(PYTEST_ARGS)

lint: setup ## ruff check + format check + the package map (import-linter, pyproject's [tool.importlinter])
	.venv/bin/ruff check src tests bench devtools fuzz
	.venv/bin/ruff format --check src tests bench devtools fuzz
	.venv/bin/lint-imports --no-logo --no-cache

fmt: setup ## Format and auto-fix
	.venv/bin/ruff format src tests bench devtools fuzz
	.venv/bin/ruff check --fix src tests bench devtools fuzz

typecheck: setup ## mypy --strict
	.venv/bin/mypy

system: ## Install the Debian packages the real-client tests load (libcurl4) if missing and possible
	@scripts/ensure-system-packages.sh

services: ## Start PostgreSQL, RabbitMQ and Redis on localhost if they are down
	@scripts/ensure-services.sh

bench-collector: setup ## Collector load benchmark (needs wrk); results in bench/results/
	bench/collector/run.sh

bench-stackwalk: setup ## Stack-walker benchmark against Breakpad (fetches minidump@0.26.0 with npm); results in bench/results/
	bench/stackwalk/run.sh

bench-processor: setup ## Processor benchmark: crashes/s with 1 and 2 workers, time per stage and rule; results in bench/results/
	BENCH_COMMAND="make bench-processor" bench/processor/run.sh

bench-search: setup services ## Search benchmark: Super Search over 1M crashes on PostgreSQL and SQLite vs DuckDB; results in bench/results/
	BENCH_COMMAND="make bench-search" bench/search/run.sh $(BENCH_ARGS)

bench-web: setup services ## Web benchmark: pages' server time over 1M crashes on PostgreSQL vs their API queries, report weight; results in bench/results/
	BENCH_COMMAND="make bench-web" bench/web/run.sh $(BENCH_ARGS)

clean: ## Remove the virtualenv and caches
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache

.PHONY: conformance
conformance: setup ## Rewrite docs/conformance/stackwalk.md: the stack walker against Breakpad over ../shared/corpus
	.venv/bin/python -m devtools.conformance_report

docs: setup ## Regenerate docs/configuration.md, docs/metrics.md, docs/collector-refusals.md from the code
	.venv/bin/python -m crashcart.docgen
	.venv/bin/python -m devtools.layers docs/architecture.md
