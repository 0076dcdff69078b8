#!/usr/bin/env bash
# Collector load benchmark (issue #2): the realistic 150 KB / 44-annotation report, plain and gzip, at
# concurrency 1 8 32 64, against Crashcart's collector on the filesystem and S3 backends, side by side in
# the same run with the no-op ASGI bound (uvicorn, 2 workers, reads the body and answers 200).
#
# usage: bench/collector/run.sh            (DURATION=20 CONCURRENCY="1 8 32 64" by default)
# needs: wrk (apt-get install wrk), ../shared/tools/loadgen
# writes: bench/results/collector-<UTC date>/ (raw wrk/cpu files, summary-*.md/json, integrity.jsonl,
#         disk-bound.json: the same reports stored with no HTTP, the disk's own durable bound)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
LOADGEN=${LOADGEN:-$ROOT/../shared/tools/loadgen}
[ -d "$LOADGEN" ] || { echo "loadgen not found at $LOADGEN" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
PY=$ROOT/.venv/bin/python
STAMP=${STAMP:-$(date -u +%Y%m%d)}
OUT=$ROOT/bench/results/collector-$STAMP
WORK=$ROOT/bench/.work/collector
STALE=$([ -d "$WORK" ] && echo 1 || true)
rm -rf "$WORK" "$OUT"; mkdir -p "$WORK" "$OUT/raw"
export DURATION=${DURATION:-20} CONCURRENCY=${CONCURRENCY:-"1 8 32 64"} WARMUP=${WARMUP:-5}
export PAYLOAD_DIR=$WORK/payload RESULTS_DIR=$OUT/raw
MODES=${MODES:-"plain gzip"}
TARGETS=${TARGETS:-"noop fs s3"}

python3 "$LOADGEN/build_payload.py" "$PAYLOAD_DIR" >/dev/null
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# Between points: the freed store must not slow the next point. This machine's ext4 has no journal, and
# there a new file skips every inode freed in the last minute (ext4's recently_deleted check): creating files
# right after removing a store of tens of thousands costs 15-20x more. Its online discards must also finish.
settle() { sync; sleep "${SETTLE:-65}"; echo 1 > /proc/sys/vm/drop_caches 2>/dev/null || true; }

wait_up() { for _ in $(seq 1 100); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done; echo "$1 not up" >&2; return 1; }

start_noop() {
  "$ROOT/.venv/bin/uvicorn" noop_asgi:app --app-dir "$LOADGEN" --host 127.0.0.1 --port 8102 --workers 2 \
    --no-access-log --log-level warning & PIDS+=($!); NOOP_PID=$!
  sleep 2
}

start_collector() {  # label port extra-env...
  local label=$1 port=$2; shift 2
  env CRASHCART_DATA_DIR="$WORK/$label" CRASHCART_LOG_LEVEL=WARNING "$@" \
    "$ROOT/.venv/bin/crashcart" collector --host 127.0.0.1 --port "$port" --workers 2 \
    > "$WORK/$label.log" 2>&1 & PIDS+=($!)
  wait_up "http://127.0.0.1:$port/__lbheartbeat__"
}

start_target() {  # target → sets URL and PID (and EXTRA_TREE for s3)
  case $1 in
    noop) start_noop; URL=http://127.0.0.1:8102; PID=$NOOP_PID ;;
    fs) start_collector fs 8300; URL=http://127.0.0.1:8300; PID=${PIDS[-1]} ;;
    s3)
      "$PY" -m moto.server -H 127.0.0.1 -p 8310 > "$WORK/moto.log" 2>&1 & PIDS+=($!); MOTO=$!
      sleep 2
      start_collector s3 8301 CRASHCART_STORAGE_URL=s3://crashcart-bench/crashes \
        CRASHCART_S3_ENDPOINT_URL=http://127.0.0.1:8310 CRASHCART_S3_ACCESS_KEY_ID=bench \
        CRASHCART_S3_SECRET_ACCESS_KEY=bench CRASHCART_S3_CREATE_BUCKET=true
      URL=http://127.0.0.1:8301; PID=${PIDS[-1]}
      export EXTRA_TREE="s3server=$MOTO" ;;
  esac
}

# The third reference: what this disk can store durably, with the filesystem backend's write pattern and no
# HTTP or parsing at all (bench/collector/disk_bound.py). The collector cannot beat it whatever its CPU cost.
[ -n "$STALE" ] && settle  # an earlier run's store was just removed
if [[ " $TARGETS " == *" fs "* ]]; then
  "$PY" bench/collector/disk_bound.py "$PAYLOAD_DIR" "$WORK/disk" --seconds "$DURATION" --json "$OUT/disk-bound.json" \
    | tee -a "$OUT/run.log"
  rm -rf "$WORK/disk"; settle
fi

# Each (target, mode, concurrency) point runs against a fresh store, which is checked for lost reports and
# then removed: a full run answers several hundred thousand 150 KB reports, more than the disk holds at once.
for target in $TARGETS; do
  for mode in $MODES; do
    for c in $CONCURRENCY; do
      # The load script appends returned ids to its warm-up log: start each point's log afresh, since the
      # store of the previous point (whose warm-up ids it holds) is gone.
      rm -f "$OUT/raw/$target-$mode/crashids-warmup"*
      start_target "$target"
      GZIP=$([ "$mode" = gzip ] && echo 1 || echo 0) CONCURRENCY=$c \
        "$LOADGEN/run_load.sh" "$URL" "$target-$mode" "$PID" | tee -a "$OUT/run.log"
      unset EXTRA_TREE
      if [ "$target" != noop ]; then
        # integrity: every id wrk saw answered must be stored (returned_but_missing must be 0)
        "$PY" bench/collector/integrity.py "$WORK/$target" "$OUT/raw" "$target" \
          "$target-$mode/crashids-c$c-*" "$target-$mode/crashids-warmup*" >> "$OUT/integrity.jsonl"
      fi
      cleanup; PIDS=()
      if [ "$target" != noop ]; then rm -rf "${WORK:?}/$target"; settle; fi
    done
  done
done

[ -f "$OUT/disk-bound.json" ] && echo "disk bound: $(cat "$OUT/disk-bound.json" | tr -d '\n ')" | tee "$OUT/disk-bound.md"
for mode in $MODES; do
  python3 "$LOADGEN/summarize.py" $(for t in $TARGETS; do echo "$OUT/raw/$t-$mode"; done) \
    --pick cleanest --ratio-to "noop-$mode" --json "$OUT/summary-$mode.json" | tee "$OUT/summary-$mode.md"
done
echo "results in $OUT"
