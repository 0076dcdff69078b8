#!/usr/bin/env bash
# Interleaved A/B of two collectors: a base checkout and this one (2 workers each, filesystem storage) run side
# by side while the shared load generator drives each in turn, so background load falls on both alike. The order
# alternates from slice to slice (a store written just before favours or hurts whoever comes next).
#
# usage: BASE_DIR=<checkout of the base commit, after `make setup` there> OUT=<results dir> bench/collector/ab.sh
#   env: SLICES (per mode, default 4), DURATION (s per slice, 6), CONCURRENCY (32), LOADGEN (../shared/tools/loadgen)
# writes: OUT/<side>-<mode>-s<slice>/ (wrk and CPU JSON per slice, as run_load.sh writes them), OUT/noop-<mode>/
#   (the no-op ASGI reference, measured in the same run before the collectors start) and OUT/ab.tsv
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BASE_DIR=${BASE_DIR:?a checkout of the base commit, after make setup}
OUT=${OUT:?results directory}
LOADGEN=${LOADGEN:-$ROOT/../shared/tools/loadgen}
SLICES=${SLICES:-4} DURATION=${DURATION:-6} CONCURRENCY=${CONCURRENCY:-32}
WORK=$(mktemp -d /tmp/crashcart-ab.XXXXXX)
trap 'kill "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
python3 "$LOADGEN/build_payload.py" "$WORK/payload" >/dev/null
PIDS=()
"$ROOT/.venv/bin/uvicorn" noop_asgi:app --app-dir "$LOADGEN" --host 127.0.0.1 --port 8403 --workers 2 \
  --log-level warning > "$WORK/noop.log" 2>&1 & NOOP=$!
for _ in $(seq 1 100); do curl -fs -o /dev/null http://127.0.0.1:8403/ && break; sleep 0.2; done
for mode in plain gzip; do
  GZIP=$([ $mode = gzip ] && echo 1 || echo 0) PAYLOAD_DIR="$WORK/payload" RESULTS_DIR="$OUT" \
    CONCURRENCY=$CONCURRENCY DURATION=$DURATION WARMUP=1 PAUSE=1 ATTEMPTS=1 LOG_IDS=0 \
    "$LOADGEN/run_load.sh" http://127.0.0.1:8403/ noop-$mode "$NOOP" >/dev/null
done
kill "$NOOP"; wait "$NOOP" 2>/dev/null || true
for side in base after; do
  dir=$ROOT; port=8402; [ $side = base ] && { dir=$BASE_DIR; port=8401; }
  env CRASHCART_DATA_DIR="$WORK/$side" CRASHCART_LOG_LEVEL=WARNING "$dir/.venv/bin/crashcart" collector \
    --host 127.0.0.1 --port $port --workers 2 > "$WORK/$side.log" 2>&1 & PIDS+=($!)
done
for p in 8401 8402; do for _ in $(seq 1 100); do curl -fs http://127.0.0.1:$p/__lbheartbeat__ >/dev/null && break; sleep 0.2; done; done
for mode in plain gzip; do
  for slice in $(seq 1 "$SLICES"); do
    order="base after"; [ $((slice % 2)) = 0 ] && order="after base"
    for side in $order; do
      port=8402; pid=${PIDS[1]}; [ $side = base ] && { port=8401; pid=${PIDS[0]}; }
      GZIP=$([ $mode = gzip ] && echo 1 || echo 0) PAYLOAD_DIR="$WORK/payload" RESULTS_DIR="$OUT" \
        CONCURRENCY=$CONCURRENCY DURATION=$DURATION WARMUP=1 PAUSE=1 ATTEMPTS=1 LOG_IDS=0 \
        "$LOADGEN/run_load.sh" http://127.0.0.1:$port/ $side-$mode-s$slice "$pid" >/dev/null
    done
  done
done
python3 - "$OUT" "$CONCURRENCY" <<'PY'
import json, statistics, sys
from pathlib import Path
out, c = Path(sys.argv[1]), sys.argv[2]
rows, ratios = ["mode\tslice\tbase_rps\tafter_rps\tafter/base\tbase_cpu_ms_per_req\tafter_cpu_ms_per_req"], {}
for mode in ("plain", "gzip"):
    for d in sorted(out.glob(f"base-{mode}-s*")):
        s = d.name.rsplit("-s", 1)[1]
        got = {}
        for side in ("base", "after"):
            w = json.loads((out / f"{side}-{mode}-s{s}" / f"wrk-c{c}.json").read_text())
            cpu = json.loads((out / f"{side}-{mode}-s{s}" / f"cpu-c{c}.json").read_text())
            got[side] = (w["rps"], 1000 * cpu["server_cpu_s"] / max(w["requests"], 1))
        ratio = got["after"][0] / got["base"][0]
        ratios.setdefault(mode, []).append(ratio)
        rows.append(f"{mode}\t{s}\t{got['base'][0]:.0f}\t{got['after'][0]:.0f}\t{ratio:.3f}\t{got['base'][1]:.3f}\t{got['after'][1]:.3f}")
(out / "ab.tsv").write_text("\n".join(rows) + "\n")
print("\n".join(rows))
for mode, r in ratios.items():
    noop = json.loads((out / f"noop-{mode}" / f"wrk-c{c}.json").read_text())["rps"]
    after = [float(row.split("\t")[3]) for row in rows[1:] if row.startswith(mode)]
    base = [float(row.split("\t")[2]) for row in rows[1:] if row.startswith(mode)]
    print(
        f"{mode}: median after/base {statistics.median(r):.3f}; no-op {noop:.0f} req/s; "
        f"base/no-op {statistics.median(base) / noop:.3f}, after/no-op {statistics.median(after) / noop:.3f}"
    )
PY
