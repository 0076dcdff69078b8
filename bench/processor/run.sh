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
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
PY=$ROOT/.venv/bin/python
CORPUS=${CORPUS:-$ROOT/../shared/corpus}
STAMP=${STAMP:-$(date -u +%Y%m%d-%H%M)}
OUT=${OUT:-$ROOT/bench/results/processor-$STAMP}
[ -f "$CORPUS/MANIFEST.tsv" ] || { echo "corpus not found at $CORPUS" >&2; exit 2; }
[ -e "$OUT" ] && { echo "$OUT exists; set STAMP or OUT" >&2; exit 2; }
# Measure what a deployment runs (compiled .pyc), whatever the shell says. The .pyc files go to a temporary
# folder removed at exit: their names hold this checkout's absolute path, which must not stay in the tree.
unset PYTHONDONTWRITEBYTECODE
PYCACHE=$(mktemp -d)
trap 'rm -rf "$PYCACHE"' EXIT
export PYTHONPYCACHEPREFIX=$PYCACHE
"$PY" -m compileall -q "$ROOT/src/crashcart" >/dev/null
mkdir -p "$OUT"
"$PY" bench/processor/bench_processor.py --corpus "$CORPUS" --out "$OUT" \
  --command "${BENCH_COMMAND:-bench/processor/run.sh}${*:+ $*}" "$@" 2> >(tee "$OUT/run.log" >&2)
