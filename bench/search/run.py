"""Search benchmark (issue #10, point 15): Super Search over N synthetic crashes on PostgreSQL and SQLite,
against DuckDB holding the same rows as the columnar reference, in the same run.

1. ``generate.crashes(N, seed)``: N processed crashes over 28 days (``generate.py`` says how they are drawn).
2. DuckDB (in this process) loads them (``reference.py``); the questions' subjects (the report's signature, the
   contains search's substring) are picked from its answers; every question gets its reference answer.
3. One child process per database (``backend.py``; Django is configured once per process): PostgreSQL in a
   dedicated database on the local server (``crashcart_bench_search``, dropped and created by the benchmark),
   SQLite in a temporary file. Each regenerates the same crashes and writes them through the real index writer
   (``CrashIndex.upsert_many``); the write rate counts only the time inside the writer. PostgreSQL then gets
   ``VACUUM ANALYZE``, which autovacuum would run minutes after such a load anyway.
4. Per question: every backend's answer is compared with DuckDB's (total, facet terms and counts above the
   cut-off, histogram buckets, cardinalities, the hits' crash ids), so a ratio compares equal work; then
   ``--warmup`` unmeasured runs each, then rounds of one run per backend, the backends' order rotating every
   round (whatever else the machine does falls on all alike), until ``--repeats`` runs or, for a slow backend,
   the ``--budget`` seconds are spent (never fewer than ``--min-repeats``). A run is ``supersearch(params)``:
   parsing, the SQL and shaping Socorro's response, everything the API does but HTTP and JSON.
5. p50 and p95 per backend (p95 interpolated; with fewer than 20 runs it is close to the maximum), the ratio of
   each to DuckDB's, the targets (PostgreSQL p95 ≤ 250 ms, SQLite p95 ≤ 1 s); then every question once more with
   its SQL recorded, each statement under ``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL (``EXPLAIN QUERY PLAN`` and
   its time on SQLite): ``explain-postgresql.txt``, ``explain-sqlite.txt``.

It writes ``bench/results/search-<UTC date-time>/`` (``results.json``, ``README.md`` with the tables, the EXPLAIN
files) and prints the tables.

usage: .venv/bin/python bench/search/run.py [--n N] [--seed S] [--backends postgresql,sqlite] [--repeats R] ...
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import generate
import queries
import reference
from queries import Question, Window

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/: what the benchmarks share
from measure import machine_info, pg_drop, pg_recreate, summary

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "crashcart_bench_search"
TARGETS = {"postgresql": 0.250, "sqlite": 1.0}
LABELS = {"duckdb": "DuckDB", "postgresql": "PostgreSQL", "sqlite": "SQLite"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Child:
    """A ``backend.py`` process for one database URL, spoken to in JSON lines."""

    def __init__(self, name: str, url: str, args: argparse.Namespace, data_dir: Path) -> None:
        self.name = name
        command = [sys.executable, str(HERE / "backend.py"), "--url", url, "--n", str(args.n), "--seed",
                   str(args.seed), "--data-dir", str(data_dir)]  # fmt: skip
        if args.batch:
            command += ["--batch", str(args.batch)]
        if args.search_timeout:
            command += ["--search-timeout", str(args.search_timeout)]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CRASHCART_", "DJANGO_"))}
        self.proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        self.ready = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("@@"):
                answer: dict[str, Any] = json.loads(line[2:])
                return answer
            sys.stderr.write(line)
        raise RuntimeError(f"{self.name}: backend process ended (exit {self.proc.wait()})")

    def ask(self, **request: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(RuntimeError, BrokenPipeError):
                self.ask(op="quit")
            self.proc.wait(timeout=60)


_NODE = re.compile(r"^\s*(?:->\s*)?([A-Z][A-Za-z ]+?)(?: on | using |  \()")
_BUFFERS = re.compile(r"Buffers: shared(?: hit=(\d+))?(?: read=(\d+))?")
_SORT = re.compile(r"Sort Method: ([a-zA-Z -]+?)\s+(?:Memory|Disk): (\d+kB)")
_ROWS = re.compile(r"\(cost=[\d.]+\.\.[\d.]+ rows=(\d+) width=\d+\) \(actual time=[\d.]+\.\.[\d.]+ rows=(\d+)")


def plan_summary(plan: str) -> str:
    """One line from an EXPLAIN (ANALYZE, BUFFERS) text: the plan's nodes top-down (repeats folded), the top
    node's buffers (8 KiB pages; hit = in shared_buffers, read = from the OS), sorts, and the scans' row estimate
    against the rows they returned. SQLite's EXPLAIN QUERY PLAN lines are joined as they are."""
    if not plan:
        return ""
    if "cost=" not in plan:  # SQLite
        return "; ".join(" ".join(line.split()[3:]) for line in plan.splitlines())
    nodes: list[str] = []
    for line in plan.splitlines():
        match = _NODE.match(line)
        if match and "cost=" in line and (not nodes or nodes[-1] != match.group(1)):
            nodes.append(match.group(1))
    parts = [" ← ".join(nodes)]
    buffers = _BUFFERS.search(plan)
    if buffers:
        hit, read = int(buffers.group(1) or 0), int(buffers.group(2) or 0)
        parts.append(f"{(hit + read) * 8 / 1024:,.0f} MiB of pages ({read * 8 / 1024:,.0f} MiB not in shared_buffers)")
    parts += [f"sort {m.group(1)} {m.group(2)}" for m in _SORT.finditer(plan)][:2]
    scans = [(int(e), int(a)) for line in plan.splitlines() if "Scan" in line for e, a in _ROWS.findall(line)]
    if scans:
        parts.append(f"scans estimated {sum(e for e, _ in scans):,} rows, returned {sum(a for _, a in scans):,}")
    return "; ".join(parts)


def measure(
    question: Question,
    runners: dict[str, Callable[[int], list[float]]],
    args: argparse.Namespace,
) -> dict[str, list[float]]:
    """Warm-up, then rounds of one run per backend in rotating order, within the repeats and the budget."""
    for run in runners.values():
        run(args.warmup)
    times: dict[str, list[float]] = {name: [] for name in runners}
    spent = dict.fromkeys(runners, 0.0)
    order = list(runners)
    for round_no in range(args.repeats):
        rotated = order[round_no % len(order) :] + order[: round_no % len(order)]
        for name in rotated:
            if len(times[name]) >= args.min_repeats and spent[name] >= args.budget:
                continue
            seconds = runners[name](1)
            times[name] += seconds
            spent[name] += sum(seconds)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--n", type=int, default=generate.DEFAULT_N)
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--repeats", type=int, default=20, help="measured runs per question and backend")
    parser.add_argument("--min-repeats", type=int, default=5, help="at least this many, whatever the budget")
    parser.add_argument("--budget", type=float, default=30.0, help="seconds per question and backend")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--batch", type=int, default=None, help="upsert_many's batch (default: the writer's)")
    parser.add_argument(
        "--search-timeout",
        type=float,
        default=60.0,
        help="CRASHCART_SEARCH_TIMEOUT for the run (s): high, so a slow question is measured, not refused",
    )
    parser.add_argument("--duckdb-threads", type=int, default=None, help="default: DuckDB's (every core)")
    parser.add_argument("--only", default=None, help="comma-separated question names")
    parser.add_argument("--pg-admin", default=PG_ADMIN, help="URL of a database to create the benchmark's from")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--command", default="bench/search/run.sh")
    parser.add_argument(
        "--no-experiments",
        dest="experiments",
        action="store_false",
        help="skip experiments.sql (alternative SQL for the slow questions) on PostgreSQL after the questions",
    )
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database and the SQLite file")
    parser.add_argument(
        "--reuse",
        type=Path,
        default=None,
        help="a folder a --keep run printed: search its SQLite file and the kept PostgreSQL database again, "
        "migrated to the current code, without loading (for trying a change; not a run of record)",
    )
    args = parser.parse_args()
    backends = [b for b in args.backends.split(",") if b]
    started = dt.datetime.now(dt.UTC)
    out = args.out or ROOT / "bench" / "results" / f"search-{started:%Y%m%d-%H%M}"
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "benchmark": "search",
        "started": f"{started:%Y-%m-%d %H:%M} UTC",
        "command": args.command,
        "machine": {**machine_info(["src", "bench/search"]), "duckdb": duckdb.__version__},
        "n": args.n,
        "seed": args.seed,
        "end": generate.DEFAULT_END.isoformat(),
        "repeats": args.repeats,
        "min_repeats": args.min_repeats,
        "budget_seconds": args.budget,
        "warmup": args.warmup,
        "search_timeout_seconds": args.search_timeout,
        "targets_ms": {k: v * 1000 for k, v in TARGETS.items()},
        "load": {},
        "questions": [],
    }
    # 1-2. Reference.
    log(f"generating {args.n:,} crashes (seed {args.seed}) into DuckDB")
    t0 = time.perf_counter()
    con, duck_seconds = reference.load(generate.crashes(args.n, args.seed), args.duckdb_threads)
    results["load"]["duckdb"] = {
        "rows": con.execute("SELECT count(*) FROM crashes").fetchone()[0],  # type: ignore[index]
        "load_seconds": duck_seconds,
        "generate_and_flatten_seconds": time.perf_counter() - t0 - duck_seconds,
        "distinct_signatures": con.execute("SELECT count(DISTINCT signature) FROM crashes").fetchone()[0],  # type: ignore[index]
        "distinct_install_time": con.execute("SELECT count(DISTINCT install_time) FROM crashes").fetchone()[0],  # type: ignore[index]
        "threads": con.execute("SELECT current_setting('threads')").fetchone()[0],  # type: ignore[index]
    }
    log(f"DuckDB: {json.dumps(results['load']['duckdb'])}")
    window = Window(generate.DEFAULT_END - dt.timedelta(days=7), generate.DEFAULT_END)
    report_signature, contains = reference.pick_subjects(con, window.sql())
    results["window"] = [window.start.isoformat(), window.end.isoformat()]
    results["subjects"] = {"report_signature": report_signature, "contains": contains}
    asked = queries.questions(window, report_signature, contains)
    if args.only:
        wanted = set(args.only.split(","))
        asked = [q for q in asked if q.name in wanted]
    now = window.end.isoformat()

    # 3. Backends.
    tmp = args.reuse or Path(tempfile.mkdtemp(prefix="crashcart-bench-search-"))
    pg_url = ""
    children: dict[str, Child] = {}
    try:
        for name in backends:
            if name == "postgresql":
                url = pg_url = (
                    pg_url(args.pg_admin, PG_DATABASE) if args.reuse else pg_recreate(args.pg_admin, PG_DATABASE)
                )
            elif name == "sqlite":
                url = f"sqlite:///{tmp / 'index.sqlite3'}"
            else:
                raise SystemExit(f"unknown backend {name}")
            log(f"{name}: loading {args.n:,} crashes through the index writer")
            child = Child(name, url, args, tmp / name)
            loaded = child.ask(op="load", reuse=bool(args.reuse))
            if "error" in loaded:
                raise SystemExit(f"{name}: load failed: {loaded['error']}")
            results["load"][name] = loaded
            if not args.reuse:
                log(f"{name}: {loaded['rows']:,} rows, {loaded['rate']:,.0f} crashes/s in the writer")
            children[name] = child

        # 4. Questions.
        explains: dict[str, list[str]] = {name: [] for name in children}
        for question in asked:
            entry: dict[str, Any] = {
                "name": question.name,
                "title": question.title,
                "in_issue": question.in_issue,
                "params": question.params,
                "sql_where": question.where,
                "agree": {},
                "errors": {},
                "timings": {},
            }
            ref = reference.answer(con, question)
            runners: dict[str, Callable[[int], list[float]]] = {}
            for name, child in children.items():
                first = child.ask(op="run", params=question.params, now=now, times=1, answer=True)
                if "error" in first:
                    entry["errors"][name] = first["error"]
                    log(f"{question.name}: {name}: {first['error']}")
                    continue
                problems = queries.compare(queries.from_supersearch(question, first["body"]), ref)
                entry["agree"][name] = [p for p in problems if not p.startswith("note:")] or True
                if problems:
                    log(f"{question.name}: {name} vs DuckDB: {problems}")

                def run_child(times: int, child: Child = child, question: Question = question) -> list[float]:
                    answer = child.ask(op="run", params=question.params, now=now, times=times)
                    if "error" in answer:
                        raise RuntimeError(answer["error"])
                    seconds: list[float] = answer["seconds"]
                    return seconds

                runners[name] = run_child

            def run_duck(times: int, question: Question = question) -> list[float]:
                seconds = []
                for _ in range(times):
                    t0 = time.perf_counter()
                    reference.answer(con, question)
                    seconds.append(time.perf_counter() - t0)
                return seconds

            runners["duckdb"] = run_duck
            load_before = os.getloadavg()[0]
            timings = measure(question, runners, args)
            entry["loadavg_1m"] = [load_before, os.getloadavg()[0]]
            entry["timings"] = {name: summary(seconds) for name, seconds in timings.items()}
            duck = entry["timings"]["duckdb"]
            entry["ratio"] = {
                name: {
                    "p50": entry["timings"][name]["p50_ms"] / duck["p50_ms"],
                    "p95": entry["timings"][name]["p95_ms"] / duck["p95_ms"],
                }
                for name in children
                if name in entry["timings"]
            }
            entry["target_met"] = {
                name: entry["timings"][name]["p95_ms"] <= TARGETS[name] * 1000
                for name in children
                if name in entry["timings"]
            }
            log(
                f"{question.name}: "
                + "; ".join(
                    f"{name} p50 {t['p50_ms']:.1f} ms p95 {t['p95_ms']:.1f} ms ({t['runs']} runs)"
                    for name, t in entry["timings"].items()
                )
            )
            results["questions"].append(entry)

        # 5. Where the time goes.
        for question in asked:
            for name, child in children.items():
                explained = child.ask(op="explain", params=question.params, now=now)
                if "error" in explained:
                    explains[name].append(f"## {question.name}\n\nerror: {explained['error']}\n")
                    continue
                entry = next(e for e in results["questions"] if e["name"] == question.name)
                entry.setdefault("statements", {})[name] = [
                    {"sql": s["sql"][:4000], "params": s["params"], "ms": s["seconds"] * 1000,
                     "plan": plan_summary(s.get("plan", ""))}
                    for s in explained["statements"]
                    if "set_config(" not in s["sql"]
                ]  # fmt: skip
                entry.setdefault("explained_total_ms", {})[name] = explained["total_seconds"] * 1000
                lines = [f"## {question.name}: {question.title}", "", f"params: {json.dumps(question.params)}", ""]
                lines.append(f"supersearch() took {explained['total_seconds'] * 1000:.1f} ms in this run; statements:")
                for s in explained["statements"]:
                    lines += ["", f"-- {s['seconds'] * 1000:.1f} ms", s["sql"], f"-- params: {s['params']}"]
                    if "plan" in s:
                        lines += ["", s["plan"]]
                explains[name].append("\n".join(lines) + "\n")
        for name, texts in explains.items():
            (out / f"explain-{name}.txt").write_text("\n\n".join(texts), encoding="utf-8")
        if "postgresql" in children and args.experiments and shutil.which("psql"):
            log("postgresql: the alternatives in experiments.sql")
            done = subprocess.run(
                ["psql", pg_url, "-v", f"lo='{window.start.isoformat()}'", "-v", f"hi='{window.end.isoformat()}'",
                 "-f", str(HERE / "experiments.sql")],
                capture_output=True, text=True, timeout=1800, check=False,
            )  # fmt: skip
            (out / "explain-experiments.txt").write_text(done.stdout + done.stderr, encoding="utf-8")
    finally:
        for child in children.values():
            child.close()
        if not args.keep and not args.reuse:
            shutil.rmtree(tmp, ignore_errors=True)
            if "postgresql" in backends:
                pg_drop(args.pg_admin, PG_DATABASE)
        else:
            log(f"kept: {tmp} and PostgreSQL database {PG_DATABASE}")

    results["machine"]["loadavg_end"] = list(os.getloadavg())
    results["elapsed_seconds"] = (dt.datetime.now(dt.UTC) - started).total_seconds()
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")
    readme = render(results, list(children))
    (out / "README.md").write_text(readme, encoding="utf-8")
    print(readme)
    log(f"wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


def _ms(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def render(results: dict[str, Any], backends: list[str]) -> str:
    """README.md of a run: what ran where, the write rates, per question p50/p95, ratios and targets."""
    machine = results["machine"]
    load = results["load"]
    lines = [
        f"# Search benchmark ({results['started']})",
        "",
        f"Command: `{results['command']}`. Machine: {machine['nproc']} CPUs, {machine['cpu_model']}, "
        f"{machine['memory_gib']} GiB; HEAD `{machine['git_head'][:10]}`"
        + (f" (modified: {', '.join(machine['modified_files'])})" if machine["modified_files"] else "")
        + f"; DuckDB {machine['duckdb']}; load average {machine['loadavg_start'][0]:.2f} at the start, "
        f"{machine['loadavg_end'][0]:.2f} at the end. Elapsed {results['elapsed_seconds']:.0f} s.",
        "",
        f"N = {results['n']:,} synthetic crashes (seed {results['seed']}), 28 days ending {results['end']}; "
        f"{load['duckdb']['distinct_signatures']:,} distinct signatures, "
        f"{load['duckdb']['distinct_install_time']:,} distinct install times. Every question covers the last 7 days "
        f"({results['window'][0]} to {results['window'][1]}). "
        f"Report signature: `{results['subjects']['report_signature']}`; "
        f"contains search: `~{results['subjects']['contains']}`. Per question: {results['warmup']} warm-up runs, then "
        f"up to {results['repeats']} runs per backend in rotating order (at least {results['min_repeats']}, "
        f"fewer when a backend's runs pass {results['budget_seconds']:.0f} s). How it works: `bench/README.md`; "
        "every number is in `results.json`; the SQL of every question and its plan in `explain-*.txt`.",
        "",
        "## Writing (through `CrashIndex.upsert_many`)",
        "",
        "| backend | rows | crashes/s in the writer | writer s | wall s (with generation) | after load | on disk |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in backends:
        info = load[name]
        after = f"VACUUM ANALYZE {info['vacuum_analyze_seconds']:.1f} s" if "vacuum_analyze_seconds" in info else "–"
        if info.get("reused"):
            lines.append(f"| {LABELS[name]} | {info['rows']:,} | reused (`--reuse`): not a run of record | – | – | "
                         f"{after} | {info.get('database_bytes', 0) / 2**20:,.0f} MiB |")  # fmt: skip
            continue
        lines.append(
            f"| {LABELS[name]} ({info.get('server', '')[:40]}) | {info['rows']:,} | **{info['rate']:,.0f}** | "
            f"{info['writer_seconds']:.1f} | {info['wall_seconds']:.1f} | {after} | "
            f"{info.get('database_bytes', 0) / 2**20:,.0f} MiB |"
        )
    duck = load["duckdb"]
    lines += [
        f"| DuckDB (reference, from NDJSON; {duck['threads']} threads) | {duck['rows']:,} | "
        f"{duck['rows'] / duck['load_seconds']:,.0f} | {duck['load_seconds']:.1f} | – | – | – |",
        "",
    ]
    if "postgresql" in load:
        pg = load["postgresql"]
        parts = [p for p in pg.get("partitions", []) if p["rows"] > 0]
        heap = sum(p["heap_bytes"] for p in parts)
        rows = sum(p["rows"] for p in parts)
        lines += [
            f"PostgreSQL settings as found: shared_buffers {pg.get('shared_buffers')}, work_mem {pg.get('work_mem')}, "
            f"max_parallel_workers_per_gather {pg.get('max_parallel_workers_per_gather')}. Partitions of "
            f"`search_crash` holding rows: {len(parts)} (weekly); heap {heap / 2**20:,.0f} MiB for {rows:,} rows "
            f"({heap / max(rows, 1):,.0f} bytes a row, TOAST and indexes apart), TOAST "
            f"{sum(p['table_bytes'] - p['heap_bytes'] for p in parts) / 2**20:,.0f} MiB, indexes "
            f"{sum(p['index_bytes'] for p in parts) / 2**20:,.0f} MiB; the largest partition's heap "
            f"{max((p['heap_bytes'] for p in parts), default=0) / 2**20:,.0f} MiB. The other fields' JSON "
            f"(`search_crashdata`): heap {pg.get('data_table', {}).get('heap_bytes', 0) / 2**20:,.0f} MiB, with TOAST "
            f"{pg.get('data_table', {}).get('table_bytes', 0) / 2**20:,.0f} MiB.",
            "",
        ]
    header = "| question | DuckDB p50 / p95 ms |"
    rule = "|---|---|"
    for name in backends:
        header += f" {LABELS[name]} p50 / p95 ms | ×DuckDB p50 / p95 | p95 ≤ {TARGETS[name] * 1000:,.0f} ms |"
        rule += "---|---|---|"
    lines += ["## Targets", ""]
    for name in backends:
        timed = [e for e in results["questions"] if name in e["timings"]]
        missed = [e for e in timed if not e["target_met"][name]]
        failed = [e["name"] for e in results["questions"] if name in e["errors"]]
        verdict = (
            f"**{len(missed)} of {len(timed)} questions miss it**: "
            + ", ".join(f"`{e['name']}` ({_ms(e['timings'][name]['p95_ms'])} ms)" for e in missed)
            if missed
            else f"all {len(timed)} questions meet it"
        )
        lines.append(
            f"- {LABELS[name]}, p95 ≤ {TARGETS[name] * 1000:,.0f} ms at N = {results['n']:,}: {verdict}"
            + (f"; failed: {', '.join(failed)}" if failed else "")
            + "."
        )
    lines += ["", "## Questions", "", header, rule]
    for entry in results["questions"]:
        timings = entry["timings"]
        cell = f"{_ms(timings['duckdb']['p50_ms'])} / {_ms(timings['duckdb']['p95_ms'])}"
        row = f"| {entry['name']}{'' if entry['in_issue'] else ' (extra)'} | {cell} |"
        for name in backends:
            if name not in timings:
                row += f" error: {entry['errors'].get(name, '?')[:60]} | – | – |"
                continue
            t, r = timings[name], entry["ratio"][name]
            agree = entry["agree"].get(name)
            mark = "" if agree is True else " (answer differs)"
            row += (
                f" {_ms(t['p50_ms'])} / {_ms(t['p95_ms'])} ({t['runs']}){mark} | ×{r['p50']:.1f} / ×{r['p95']:.1f} | "
                f"{'yes' if entry['target_met'][name] else '**no**'} |"
            )
        lines.append(row)
    lines += ["", "Runs per backend in parentheses. The questions:", ""]
    for entry in results["questions"]:
        params = "&".join(f"{k}={v}" for k, vals in entry["params"].items() for v in vals)
        lines.append(f"- `{entry['name']}`: {entry['title']}. `{params}`")
    disagreements = [
        f"- `{e['name']}` on {LABELS[name]}: {'; '.join(problems)[:400]}"
        for e in results["questions"]
        for name, problems in e["agree"].items()
        if problems is not True
    ]
    lines += ["", "## Answers against DuckDB's", ""]
    lines += disagreements or ["Every backend's answer agreed with DuckDB's on every question (totals, facet terms "
                               "and counts, histogram buckets, cardinalities, the hits' crash ids)."]  # fmt: skip
    lines += ["", "## Where the time goes (statements of one run of each question)", ""]
    for entry in results["questions"]:
        for name in backends:
            statements = entry.get("statements", {}).get(name)
            if not statements:
                continue
            total = entry["explained_total_ms"][name]
            in_sql = sum(s["ms"] for s in statements)
            lines.append(
                f"- `{entry['name']}` on {LABELS[name]}: {total:.1f} ms, of which {in_sql:.1f} ms in "
                f"{len(statements)} SQL statements:"
            )
            for s in statements:
                head = " ".join(s["sql"].split())[:90]
                lines.append(f"  - {s['ms']:.1f} ms `{head}…` {s.get('plan', '')}")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
