#!/usr/bin/env bash
# Interleaved A/B: base and branch collectors (2 workers each, fs) up at once, wrk alternating between them,
# so background load falls on both alike. Uses the shared load generator's run_load.sh for each slice.
set -u
LOADGEN=/work/shared/tools/loadgen
OUT=${OUT:-/tmp/ab9}
rm -rf $OUT /tmp/ab9-work; mkdir -p $OUT /tmp/ab9-work
python3 $LOADGEN/build_payload.py /tmp/ab9-work/payload >/dev/null
PIDS=()
for side in base after; do
  dir=/work/wt9-http; port=8402; [ $side = base ] && { dir=/work/wt9-http-base; port=8401; }
  env CRASHCART_DATA_DIR=/tmp/ab9-work/$side CRASHCART_LOG_LEVEL=WARNING $dir/.venv/bin/crashcart collector \
    --host 127.0.0.1 --port $port --workers 2 > /tmp/ab9-work/$side.log 2>&1 & PIDS+=($!)
done
for p in 8401 8402; do for _ in $(seq 1 100); do curl -fs http://127.0.0.1:$p/__lbheartbeat__ >/dev/null && break; sleep 0.2; done; done
for mode in plain gzip; do
  for slice in 1 2 3; do
    for side in base after; do
      port=8402; pid=${PIDS[1]}; [ $side = base ] && { port=8401; pid=${PIDS[0]}; }
      GZIP=$([ $mode = gzip ] && echo 1 || echo 0) PAYLOAD_DIR=/tmp/ab9-work/payload RESULTS_DIR=$OUT \
        CONCURRENCY=32 DURATION=6 WARMUP=1 PAUSE=1 ATTEMPTS=1 LOG_IDS=0 \
        $LOADGEN/run_load.sh http://127.0.0.1:$port/ $side-$mode-s$slice $pid | grep -E '^RESULT' | cut -c1-200
    done
  done
done
for p in "${PIDS[@]}"; do kill $p; done; wait
