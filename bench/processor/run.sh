#!/usr/bin/env bash
# Processor benchmark (issue #8 point 2): crashes/s of `crashcart processor` with 1 and 2 workers on the embedded
# backends (filesystem storage, SQLite queue, SQLite index) over the corpus dumps and their symbols, warm symbol
# caches; the time of each stage (load, walk, rules, signature, save, index, ack) and each rule per crash.
#
# usage: bench/processor/run.sh [bench_processor.py options]   (e.g. --copies 2 --only google__breakpad)
#   env: STAMP (results dir suffix, default UTC date-time) or OUT (results dir), CORPUS (default
#        ../shared/corpus); options: --copies (corpus passes per round, 3), --rounds (per worker count, 7)
# needs: the corpus; ../shared/tools/loadgen/build_payload.py for realistic annotations (optional)
# writes: bench/results/processor-<STAMP>/ (results.json, README.md with the tables, run.log, the processor logs)
set -euo pipefail
source "$(dirname "$0")/../prepare.sh"
bench_prepare processor
CORPUS=${CORPUS:-$ROOT/../shared/corpus}
[ -f "$CORPUS/MANIFEST.tsv" ] || { rmdir "$OUT"; echo "corpus not found at $CORPUS" >&2; exit 2; }
"$PY" bench/processor/bench_processor.py --corpus "$CORPUS" --out "$OUT" \
  --command "${BENCH_COMMAND:-bench/processor/run.sh}${*:+ $*}" "$@" 2> >(tee "$OUT/run.log" >&2)
