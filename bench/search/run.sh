#!/usr/bin/env bash
# Search benchmark (issue #10 point 15): Super Search over N synthetic crashes (default 1,000,000) written through
# the real index writer into PostgreSQL (a dedicated database on the local server, dropped and created here) and
# SQLite (a temporary file), each question timed against DuckDB holding the same rows, in the same run.
#
# usage: bench/search/run.sh [run.py options]   (e.g. --n 50000 --repeats 10 --only top_signatures,page_50)
#   env: STAMP (results dir suffix, default UTC date-time) or OUT (results dir); PG_ADMIN (default
#        postgresql://postgres@127.0.0.1:5432/postgres, the database the benchmark's is created from)
# needs: PostgreSQL on 127.0.0.1:5432 (`make services`), the dev dependencies (duckdb)
# writes: bench/results/search-<STAMP>/ (results.json, README.md with the tables, explain-*.txt, run.log)
set -euo pipefail
source "$(dirname "$0")/../prepare.sh"
bench_prepare search
"$PY" bench/search/run.py --out "$OUT" --pg-admin "${PG_ADMIN:-postgresql://postgres@127.0.0.1:5432/postgres}" \
  --command "${BENCH_COMMAND:-bench/search/run.sh}${*:+ $*}" "$@" 2> >(tee "$OUT/run.log" >&2)
