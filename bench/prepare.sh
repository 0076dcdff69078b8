# Sourced by the Python benchmarks' run.sh (search, web, processor): `bench_prepare NAME` leaves the shell at
# the repository's root with ROOT, PY and OUT (bench/results/NAME-<STAMP>, or $OUT; refused if it exists) set,
# and the code compiled as a deployment runs it (.pyc) into a temporary folder removed at exit: the .pyc names
# hold this checkout's absolute path, which must not stay in the tree.
bench_prepare() {
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  ROOT=$(pwd)
  PY=$ROOT/.venv/bin/python
  STAMP=${STAMP:-$(date -u +%Y%m%d-%H%M)}
  OUT=${OUT:-$ROOT/bench/results/$1-$STAMP}
  [ -e "$OUT" ] && { echo "$OUT exists; set STAMP or OUT" >&2; exit 2; }
  unset PYTHONDONTWRITEBYTECODE
  PYCACHE=$(mktemp -d)
  trap 'rm -rf "$PYCACHE"' EXIT
  export PYTHONPYCACHEPREFIX=$PYCACHE
  "$PY" -m compileall -q "$ROOT/src/crashcart" >/dev/null
  mkdir -p "$OUT"
}
