"""A/B of the Super Search runner's facet statements on PostgreSQL, in one process on one loaded database.

Loads N synthetic crashes (``generate.py``, seed as the search benchmark's) once through the real index writer
(``backend.Backend.load``: ``CrashIndex.upsert_many``, then ``VACUUM ANALYZE``) into a dedicated database on the
local server, then times ``filters3_facets3`` and ``top_signatures`` (``queries.py``; the last 7 days) through
``supersearch()`` under three settings of the runner's module switches, in rotating order round after round so
that a drift of the machine hits every variant alike:

* ``before``: ``runner.GROUPING_SETS = False`` (a statement per facet, as the runner did before) and
  ``runner.WORK_MEM = None`` (the server's ``work_mem``);
* ``work_mem``: a statement per facet, ``work_mem`` raised to ``runner.WORK_MEM``'s default;
* ``after``: what the runner does now (one ``GROUPING SETS`` statement for the top-level scalar terms facets,
  and the raised ``work_mem``).

Every variant's answer must equal the ``before`` one's (hits, total, facets), or the script stops. It prints
p50/p95 per question and variant with the ratio to ``before``, and writes ``results.json`` under ``--out``.

usage: .venv/bin/python bench/search/ab_facets.py --n 200000 --repeats 9 --out bench/results/search-facets-<stamp>
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import generate
import queries
from backend import Backend
from run import PG_ADMIN, percentile, pg_drop, pg_recreate

QUESTIONS = ("filters3_facets3", "top_signatures")
DATABASE = "crashcart_bench_facets"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    parser.add_argument("--repeats", type=int, default=9, help="measured rounds (each runs every variant once)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured rounds first")
    parser.add_argument("--pg-admin", default=PG_ADMIN)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()

    url = pg_recreate(args.pg_admin, DATABASE)
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            backend = Backend(url, args.n, args.seed, Path(data_dir), None, 60.0)
            loaded = backend.load()
            print(f"loaded {loaded['rows']:,} rows at {loaded['rate']:,.0f}/s", file=sys.stderr, flush=True)
            results = measure(backend, args.repeats, args.warmup)
    finally:
        if not args.keep:
            pg_drop(args.pg_admin, DATABASE)
    out: dict[str, Any] = {
        "command": " ".join(["bench/search/ab_facets.py", *sys.argv[1:]]),
        "n": args.n,
        "seed": args.seed,
        "repeats": args.repeats,
        "warmup": args.warmup,
        "machine": platform.platform(),
        "load": {k: v for k, v in loaded.items() if k != "partitions"},
        "questions": results,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(out, indent=2, default=str) + "\n")
    for name, variants in results.items():
        base = variants["before"]
        for variant, stats in variants.items():
            print(
                f"{name:18} {variant:9} p50 {stats['p50_ms']:7.1f} ms  p95 {stats['p95_ms']:7.1f} ms  "
                f"×{stats['p50_ms'] / base['p50_ms']:.2f} / ×{stats['p95_ms'] / base['p95_ms']:.2f} of before"
            )


def measure(backend: Backend, repeats: int, warmup: int) -> dict[str, dict[str, dict[str, Any]]]:
    from crashcart.search import runner  # noqa: PLC0415  (after Django's set-up)

    variants = {
        "before": (False, None),
        "work_mem": (False, runner.WORK_MEM),
        "after": (True, runner.WORK_MEM),
    }
    search = backend._search()
    window = queries.Window(generate.DEFAULT_END - dt.timedelta(days=7), generate.DEFAULT_END)
    asked = {q.name: q for q in queries.questions(window, "unused", "unused") if q.name in QUESTIONS}
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for name in QUESTIONS:
        question = asked[name]
        seconds: dict[str, list[float]] = {v: [] for v in variants}
        answers: dict[str, Any] = {}
        names = list(variants)
        for round_ in range(warmup + repeats):
            order = names[round_ % len(names) :] + names[: round_ % len(names)]
            for variant in order:
                runner.GROUPING_SETS, runner.WORK_MEM = variants[variant]
                t0 = time.perf_counter()
                answer = search(question.params, allow_protected=True, now=window.end)
                took = time.perf_counter() - t0
                if round_ >= warmup:
                    seconds[variant].append(took)
                answers.setdefault(variant, answer)
        runner.GROUPING_SETS, runner.WORK_MEM = variants["after"]
        for variant, answer in answers.items():
            if answer != answers["before"]:
                raise SystemExit(f"{name}: the {variant} answer differs from the before one")
        results[name] = {
            v: {
                "p50_ms": percentile(s, 0.5) * 1000,
                "p95_ms": percentile(s, 0.95) * 1000,
                "runs_ms": [round(x * 1000, 1) for x in s],
                "total": answers[v]["total"],
            }
            for v, s in seconds.items()
        }
    return results


if __name__ == "__main__":
    main()
