#!/usr/bin/env bash
# Web benchmark (issue #11 point 11): server time of top crashers, the signature report, report views and a
# Super Search results page over N synthetic crashes (default 1,000,000; the search benchmark's generator and
# the real index writer) in PostgreSQL, each against the /api/ queries it makes, in the same run; and the
# report page's weight (HTML + CSS + JS).
#
# usage: bench/web/run.sh [run.py options]   (e.g. --n 20000 --repeats 10; --keep, then --reuse)
#   env: STAMP (results dir suffix, default UTC date-time) or OUT (results dir); PG_ADMIN (default
#        postgresql://postgres@127.0.0.1:5432/postgres, the database the benchmark's is created from)
# needs: PostgreSQL on 127.0.0.1:5432 (`make services`), ../shared/corpus (dumps to walk)
# writes: bench/results/web-<STAMP>/ (results.json, README.md with the table, profile-*.txt, run.log,
#         server.log); the data under bench/.work/web-data/ (removed at the end unless --keep)
set -euo pipefail
source "$(dirname "$0")/../prepare.sh"
bench_prepare web
"$PY" bench/web/run.py --out "$OUT" --pg-admin "${PG_ADMIN:-postgresql://postgres@127.0.0.1:5432/postgres}" \
  --command "${BENCH_COMMAND:-bench/web/run.sh}${*:+ $*}" "$@" 2> >(tee "$OUT/run.log" >&2)
