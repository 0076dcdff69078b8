#!/usr/bin/env bash
# Interleaved A/B: base and branch collectors (2 workers each, fs) up at once, wrk alternating between them,
# so background load falls on both alike. Uses the shared load generator's run_load.sh for each slice.
# usage: BASE_DIR=<worktree of the base commit, after make setup> bench/results/collector-20261207-limits/ab/ab.sh
# (the run recorded here had BASE_DIR at d5a19d0 and the branch at f79e7ee; OUT=/tmp/ab9, then copied here)
set -u
ROOT=$(cd "$(dirname "$0")/../../../.." && pwd)
BASE_DIR=${BASE_DIR:?worktree of the base commit}
LOADGEN=${LOADGEN:-$ROOT/../shared/tools/loadgen}
OUT=${OUT:-/tmp/ab9}
WORK=${WORK:-/tmp/ab9-work}
rm -rf "$OUT" "$WORK"; mkdir -p "$OUT" "$WORK"
python3 "$LOADGEN/build_payload.py" "$WORK/payload" >/dev/null
PIDS=()
for side in base after; do
  dir=$ROOT; port=8402; [ $side = base ] && { dir=$BASE_DIR; port=8401; }
  env CRASHCART_DATA_DIR="$WORK/$side" CRASHCART_LOG_LEVEL=WARNING "$dir/.venv/bin/crashcart" collector \
    --host 127.0.0.1 --port $port --workers 2 > "$WORK/$side.log" 2>&1 & PIDS+=($!)
done
for p in 8401 8402; do for _ in $(seq 1 100); do curl -fs http://127.0.0.1:$p/__lbheartbeat__ >/dev/null && break; sleep 0.2; done; done
for mode in plain gzip; do
  for slice in 1 2 3; do
    for side in base after; do
      port=8402; pid=${PIDS[1]}; [ $side = base ] && { port=8401; pid=${PIDS[0]}; }
      GZIP=$([ $mode = gzip ] && echo 1 || echo 0) PAYLOAD_DIR="$WORK/payload" RESULTS_DIR="$OUT" \
        CONCURRENCY=32 DURATION=6 WARMUP=1 PAUSE=1 ATTEMPTS=1 LOG_IDS=0 \
        "$LOADGEN/run_load.sh" http://127.0.0.1:$port/ $side-$mode-s$slice "$pid" | grep -E '^RESULT' | cut -c1-200
    done
  done
done
for p in "${PIDS[@]}"; do kill "$p"; done; wait
