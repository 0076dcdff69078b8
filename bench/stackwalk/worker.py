"""One measured process of the stack-walker benchmark (started by ``bench_stackwalk.py``; prints one JSON line).

``cold``: a fresh interpreter and an empty symbol cache directory; times ``run_stackwalk`` (what
``crashcart stackwalk DUMP --symbols-path DIR --json --cache-dir CACHE`` runs: the ``crashcart.symbols`` provider
over a ``file://`` source, ``crashcart.stackwalk.walk``, JSON rendering) from before it opens the dump to after the
output is rendered and written. Start-up (interpreter, then the imports) is reported separately.

``warm``: a processor worker's view. The cache directory is the one the cold process filled; the process builds
one ``Stackwalker`` (the entry point the processor's worker and ``run_stackwalk`` share), walks the dump once
(untimed), then times ``--runs`` calls of ``Stackwalker.walk_json`` plus ``json.dumps``, keeping the walker (and
its provider's in-process LRU of loaded modules) between walks, as a worker does. It also times one
``run_stackwalk`` call first (a new provider over the warm disk cache: the CLI with a warm ``--cache-dir``).

Peak RSS is ``getrusage(RUSAGE_SELF).ru_maxrss`` after the imports and at the end (KiB).

usage: worker.py cold|warm DUMP SYMBOLS_DIR|- CACHE_DIR [--runs N] [--profile FILE]
"""

from __future__ import annotations

import time

T_START = time.perf_counter()

import argparse  # noqa: E402
import cProfile  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from crashcart.minidump import Minidump  # noqa: E402
from crashcart.stackwalk.command import StackwalkRequest, run_stackwalk, walker_config  # noqa: E402
from crashcart.stackwalk.stackwalker import Stackwalker, WalkerConfig  # noqa: E402

T_IMPORTED = time.perf_counter()


def max_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def walk_to_json(dump_path: Path, stackwalker: Stackwalker) -> str:
    """What ``run_stackwalk`` does in JSON mode, with a walker kept by the caller."""
    return json.dumps(stackwalker.walk_json(dump_path), indent=2) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["cold", "warm"])
    ap.add_argument("dump", type=Path)
    ap.add_argument("symbols", help="Breakpad-layout symbols directory, or - for none")
    ap.add_argument("cache", type=Path)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--profile", type=Path, help="write cProfile stats of the timed part here")
    args = ap.parse_args()
    symbols_paths = [] if args.symbols == "-" else [Path(args.symbols)]
    deployment = WalkerConfig(symbols_cache_dir=args.cache)
    request = StackwalkRequest(args.dump, symbols_paths=symbols_paths, as_json=True, cache_dir=args.cache)
    profiler = cProfile.Profile() if args.profile else None
    out: dict[str, Any] = {
        "mode": args.mode,
        "import_s": T_IMPORTED - T_START,
        "rss_after_import_kib": max_rss_kib(),
    }
    devnull = open(os.devnull, "w")  # noqa: SIM115 - kept open for the process
    if args.mode == "cold":
        if profiler:
            profiler.enable()
        started = time.perf_counter()
        text = run_stackwalk(request, deployment)
        devnull.write(text)
        out["walk_s"] = time.perf_counter() - started
        if profiler:
            profiler.disable()
    else:
        started = time.perf_counter()
        text = run_stackwalk(request, deployment)
        devnull.write(text)
        out["cli_warm_disk_s"] = time.perf_counter() - started
        stackwalker = Stackwalker(walker_config(request, deployment))
        provider_lookup = stackwalker.provider_lookup
        started = time.perf_counter()
        text = walk_to_json(args.dump, stackwalker)
        out["first_walk_s"] = time.perf_counter() - started
        times = []
        if profiler:
            profiler.enable()
        for _ in range(args.runs):
            started = time.perf_counter()
            text = walk_to_json(args.dump, stackwalker)
            devnull.write(text)
            times.append(time.perf_counter() - started)
        if profiler:
            profiler.disable()
        out["walk_s"] = times
        if provider_lookup is not None:
            with Minidump.from_path(args.dump) as dump:
                from crashcart.minidump.streams.module_list import ModuleList  # noqa: PLC0415

                modules = dump.get_stream(ModuleList)
                out["loaded_modules"] = sorted(
                    {
                        f"{m.debug_filename}/{m.debug_id}"
                        for m in (modules.modules if modules is not None else ())
                        if provider_lookup.status(m) == "ok"
                    }
                )
    doc = json.loads(text)
    out["output_bytes"] = len(text)
    out["status"] = doc.get("status")
    out["stackwalker_status"] = (doc.get("stackwalker") or {}).get("status")
    out["frames"] = sum(len(t.get("frames") or []) for t in doc.get("threads") or [])
    out["max_rss_kib"] = max_rss_kib()
    out["process_s"] = time.perf_counter() - T_START
    if profiler:
        profiler.dump_stats(args.profile)
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
