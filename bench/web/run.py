"""Web benchmark (issue #11 point 11): server time of the pages over one million crashes on PostgreSQL, against
the API queries underneath them, in the same run; and the report page's weight.

1. Data (``bench/web/data.py``): the search benchmark's generator (``bench/search/generate.py``, N crashes, its
   seed) through the real index writer into a PostgreSQL database of its own (``crashcart_bench_web``, dropped and
   created), with the 28 days ending now; a few hundred of the same crashes stored (raw + dump + processed
   with a real stack walk) in a file-storage data directory.
2. ``crashcart web --workers 1`` on a free localhost port over that database and data directory (anonymous rate
   limits raised out of the way; the deployed search timeout).
3. Over HTTP from this machine, one persistent connection, after warm-up: rounds in which every page and every
   API query it makes is asked once, in rotating order (so whatever else the machine does falls on all alike),
   ``--repeats`` rounds. Time = request sent to the last byte of the body read. The pages: top crashers
   (busiest product, 7 days), the signature report (summary + graph + first page of reports) of the product's
   busiest signature, report views of a few crashes (one per walked dump, in turn), a Super Search results page.
   The API queries: ``/api/SuperSearch/`` with the very parameters each view sends (taken from the views'
   own code: ``topcrashers.searches``, ``views.SIGNATURE_FACETS``…), and ``/api/ProcessedCrash/`` +
   ``/api/RawCrash/`` for the report. Ratio = page / the sum of its API queries of the same round.
4. The report page's weight: its HTML plus every stylesheet and script it links, fetched.
5. Where the time goes: each page run in this process through Django's test client (same database, same code),
   its SQL statements timed (``connection.execute_wrapper``) against the view's total, and a cProfile of one run.

usage: bench/web/run.sh [--n N] [--repeats R] [--keep] [--reuse]
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

from data import ROOT, generate, load_index, log, store
from measure import machine_info, pg_drop, pg_recreate, pg_url, summary

from crashcart import database as db
from crashcart.settings import load_settings

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE = "crashcart_bench_web"
TARGET_MS = 300.0
WEIGHT_TARGET = 200 * 1024
SERVER_ENV = {
    "CRASHCART_API_RATE_LIMIT_ANONYMOUS": "100000000",
    "CRASHCART_API_RATE_LIMIT_TOKEN": "100000000",
    "CRASHCART_LOG_LEVEL": "WARNING",
    "CRASHCART_LOG_FORMAT": "json",
}


# --- bits ------------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def query(params: dict[str, list[str]]) -> str:
    return urllib.parse.urlencode([(name, value) for name, values in params.items() for value in values])


# --- the server ------------------------------------------------------------------------------------------------


class Server:
    """``crashcart web`` on a free localhost port; its output in ``log_path``."""

    def __init__(self, env: dict[str, str], workers: int, log_path: Path) -> None:
        self.port = free_port()
        self.env = env
        self.workers = workers
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120.0) -> None:
        argv = [sys.executable, "-m", "crashcart.cli", "web", "--host", "127.0.0.1", "--port", str(self.port)]
        argv += ["--workers", str(self.workers)]
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"crashcart web exited with {self.proc.returncode}: see {self.log_path}")
            try:
                conn = HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/__lbheartbeat__")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"crashcart web did not answer within {timeout} s: see {self.log_path}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


class Client:
    """One persistent HTTP/1.1 connection; ``get`` times request-sent to last-byte-read."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = HTTPConnection("127.0.0.1", port, timeout=120)

    def get(self, path: str) -> tuple[float, int, bytes, dict[str, str]]:
        for attempt in range(2):
            try:
                t0 = time.perf_counter()
                self.conn.request("GET", path, headers={"Accept-Encoding": "identity"})
                response = self.conn.getresponse()
                body = response.read()
                seconds = time.perf_counter() - t0
                return seconds, response.status, body, {k.lower(): v for k, v in response.getheaders()}
            except (ConnectionError, OSError):  # the server closed a kept-alive connection: once more, anew
                self.conn.close()
                self.conn = HTTPConnection("127.0.0.1", self.port, timeout=120)
                if attempt:
                    raise
        raise AssertionError("unreachable")


# --- what is asked ---------------------------------------------------------------------------------------------


def subjects(product: str, signature: str, report_ids: list[str], now: dt.datetime) -> list[dict[str, Any]]:
    """Each page with the API queries its view sends, built from the views' own code (``now``: for the dates;
    the server's clock differs by the seconds of a run, which moves the windows by as much)."""
    from crashcart.web.pages import topcrashers as tc  # noqa: PLC0415  (after Django's set-up)
    from crashcart.web.pages import views  # noqa: PLC0415

    products = {
        "date": [f">={(now - dt.timedelta(days=28)).isoformat()}"],
        "_facets": ["product"],
        "_results_number": ["0"],
    }  # fmt: skip  (views._products)
    chosen = tc.form({"product": [product], "days": ["7"]}, product)
    current, previous = tc.searches(chosen, now)
    signature_params = {
        "signature": [f"={signature}"],
        "date": [f">={(now - dt.timedelta(days=7)).isoformat()}"],
        "_facets": list(views.SIGNATURE_FACETS),
        "_histogram.date": ["version"],
        "_columns": list(views.SIGNATURE_COLUMNS),
        "_sort": ["-date"],
        "_results_number": [str(views.REPORTS_PER_PAGE)],
        "_results_offset": ["0"],
    }  # views.signature_report, page 1
    search_pairs = [("product", product), ("_facets", "signature"), ("_sort", "-date")]
    search_params: dict[str, list[str]] = {}
    for name, value in search_pairs:
        search_params.setdefault(name, []).append(value)
    api = "/api/SuperSearch/?"
    return [
        {
            "name": "top_crashers",
            "title": f"top crashers, {product}, 7 days",
            "pages": [f"/topcrashers/?product={urllib.parse.quote(product)}&days=7"],
            "api": {
                "products (28 days)": [api + query(products)],
                "this period": [api + query(current)],
                "previous period": [api + query(previous)],
            },
        },
        {
            "name": "signature_report",
            "title": "signature report (summary, graph, first 50 reports), 7 days",
            "pages": [f"/signature/?{urllib.parse.urlencode({'signature': signature})}"],
            "api": {"the signature's search": [api + query(signature_params)]},
        },
        {
            "name": "report_view",
            "title": f"report view ({len(report_ids)} crashes in turn)",
            "pages": [f"/report/index/{crash_id}" for crash_id in report_ids],
            "api": {
                "ProcessedCrash": [f"/api/ProcessedCrash/?crash_id={crash_id}" for crash_id in report_ids],
                "RawCrash": [f"/api/RawCrash/?crash_id={crash_id}" for crash_id in report_ids],
            },
        },
        {
            "name": "search_page",
            "title": f"Super Search results page, {product}, signature facet, default window (7 days)",
            "pages": ["/search/?" + urllib.parse.urlencode(search_pairs)],
            "api": {
                "products (28 days)": [api + query(products)],
                "the search": [api + query(search_params)],
            },
        },
    ]


def measure(client: Client, plan: list[dict[str, Any]], repeats: int, warmup: int) -> None:
    """Rounds of every page and API query once each, in rotating order; seconds into ``plan``'s entries."""
    calls: list[tuple[dict[str, Any], str | None]] = []  # (subject, api label or None for the page)
    for subject in plan:
        subject["page_seconds"] = []
        subject["api_seconds"] = {label: [] for label in subject["api"]}
        calls.append((subject, None))
        calls.extend((subject, label) for label in subject["api"])
    for round_number in range(warmup + repeats):
        shift = round_number % len(calls)
        for subject, label in calls[shift:] + calls[:shift]:
            urls = subject["pages"] if label is None else subject["api"][label]
            url = urls[round_number % len(urls)]
            seconds, status, body, _ = client.get(url)
            if status != 200:
                raise SystemExit(f"{url}: {status} {body[:300]!r}")
            if round_number >= warmup:
                if label is None:
                    subject["page_seconds"].append(seconds)
                else:
                    subject["api_seconds"][label].append(seconds)
        if round_number == warmup - 1:
            log("warm-up done")
        elif round_number >= warmup and (round_number - warmup + 1) % 10 == 0:
            log(f"{round_number - warmup + 1} rounds measured")


def page_weight(client: Client, path: str) -> dict[str, Any]:
    """HTML bytes plus every stylesheet and script the page links (fetched; as sent, no compression)."""
    _, status, body, _ = client.get(path)
    assert status == 200, status
    html = body.decode("utf-8", "replace")
    linked = re.findall(r'<link[^>]+rel="stylesheet"[^>]*href="([^"]+)"', html)
    linked += re.findall(r'<link[^>]+href="([^"]+)"[^>]*rel="stylesheet"', html)
    linked += re.findall(r'<script[^>]+src="([^"]+)"', html)
    assets = {}
    for url in dict.fromkeys(linked):
        _, status, asset, _ = client.get(urllib.parse.urljoin(path, url))
        assert status == 200, (url, status)
        assets[url] = len(asset)
    total = len(body) + sum(assets.values())
    return {"path": path, "html_bytes": len(body), "assets": assets, "total_bytes": total}


# --- where the time goes -----------------------------------------------------------------------------------------


@contextmanager
def recording() -> Iterator[list[tuple[str, float]]]:
    from django.db import connection  # noqa: PLC0415

    statements: list[tuple[str, float]] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((sql, time.perf_counter() - t0))

    with connection.execute_wrapper(wrapper):
        yield statements


def breakdown(plan: list[dict[str, Any]], out: Path, times: int) -> None:
    """Each page in this process (Django's test client): total, SQL time and statements, and a cProfile."""
    from django.test import Client as DjangoClient  # noqa: PLC0415

    client = DjangoClient(HTTP_HOST="127.0.0.1")
    for subject in plan:
        path = subject["pages"][0]

        def get(client: DjangoClient = client, path: str = path) -> None:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)

        get()  # warm
        totals, sql_totals, counts, slowest = [], [], [], []
        for _ in range(times):
            with recording() as statements:
                t0 = time.perf_counter()
                get()
                totals.append(time.perf_counter() - t0)
            sql_totals.append(sum(s for _, s in statements))
            counts.append(len(statements))
            slowest.append(sorted(statements, key=lambda item: -item[1])[:4])
        median_run = sorted(range(times), key=lambda i: totals[i])[times // 2]
        profiler = cProfile.Profile()
        profiler.enable()
        get()
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).strip_dirs().sort_stats("cumulative").print_stats(
            40
        )  # no paths of this machine
        (out / f"profile-{subject['name']}.txt").write_text(text.getvalue())
        subject["in_process"] = {
            "runs": times,
            "total_ms_median": statistics.median(totals) * 1000,
            "sql_ms_median": statistics.median(sql_totals) * 1000,
            "statements": counts[median_run],
            "slowest_statements": [
                {"ms": round(seconds * 1000, 2), "sql": sql[:300]} for sql, seconds in slowest[median_run]
            ],
        }
        log(f"{subject['name']}: in process {subject['in_process']['total_ms_median']:.1f} ms, SQL "
            f"{subject['in_process']['sql_ms_median']:.1f} ms in {counts[median_run]} statements")  # fmt: skip


# --- report ----------------------------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def render(results: dict[str, Any]) -> str:
    machine = results["machine"]
    load = results["load"]
    lines = [
        f"# Web benchmark ({results['started']})",
        "",
        f"Command: `{results['command']}`. Machine: {machine['nproc']} CPUs, {machine['cpu_model']}, "
        f"{machine['memory_gib']} GiB; HEAD `{machine['git_head'][:10]}`"
        + (f" (modified: {', '.join(machine['modified_files'])})" if machine["modified_files"] else "")
        + f"; Python {machine['python']}; load average {machine['loadavg_start'][0]:.2f} at the start, "
        f"{machine['loadavg_end'][0]:.2f} at the end. Elapsed {results['elapsed_seconds']:.0f} s.",
        "",
        f"Data: N = {results['n']:,} crashes of `bench/search/generate.py` (seed {results['seed']}), 28 days "
        f"ending {results['end']}, in PostgreSQL ({load.get('server', '?').split(' on ')[0]}, database "
        f"`{DATABASE}`)"
        + (
            f", written through `CrashIndex.upsert_many` at {load['rate']:,.0f} crashes/s in the writer "
            f"({load['writer_seconds']:.0f} s), VACUUM ANALYZE {load['vacuum_analyze_seconds']:.1f} s, "
            f"{load['database_bytes'] / 2**20:,.0f} MiB on disk"
            if "rate" in load
            else " (reused: not a run of record)"
        )
        + f". Stored: {results['stored']['stored']} of them (raw crash + dump + processed crash with a real "
        f"walk, {results['stored']['processed_kib_mean']:.0f} KiB processed on average).",
        "",
        f"Server: `crashcart web --workers {results['workers']}`, deployed search timeout. Client: one "
        f"persistent HTTP/1.1 connection on loopback; time = request sent to the last byte read. "
        f"{results['warmup']} warm-up rounds, then {results['repeats']} rounds, every page and API query once "
        f"per round in rotating order. Product `{results['product']}`; signature "
        f"`{results['signature']}`.",
        "",
        "## Pages against their API queries (same run)",
        "",
        f"| page | page p50 / p95 ms | p95 ≤ {TARGET_MS:.0f} ms | API queries | API sum p50 / p95 ms "
        "| page / API p50 | page HTML KiB |",
        "|---|---|---|---|---|---|---|",
    ]
    for subject in results["subjects"]:
        page = subject["page"]
        apis = "; ".join(f"{label} {_ms(s['p50_ms'])} / {_ms(s['p95_ms'])}" for label, s in subject["api"].items())
        lines.append(
            f"| {subject['name']} | {_ms(page['p50_ms'])} / **{_ms(page['p95_ms'])}** | "
            f"{'yes' if page['p95_ms'] <= TARGET_MS else '**no**'} | {apis} | "
            f"{_ms(subject['api_sum']['p50_ms'])} / {_ms(subject['api_sum']['p95_ms'])} | "
            f"×{subject['ratio_p50']:.2f} | {subject['html_bytes'] / 1024:.1f} |"
        )
    weight = results["report_weight"]
    heaviest = results["report_weight_max"]
    lines += [
        "",
        "API sum: per round, the sum of the page's API queries' times (what the same questions cost through the "
        "API, one after the other), then its p50/p95 over the rounds. Ratio: page p50 over API-sum p50. The "
        "pages keep the product list (`products (28 days)`) in the cache for `PRODUCTS_CACHE_SECONDS` when the "
        "code has it (`crashcart.web.pages.views`): the measured rounds then never pay it, the API sum always does.",
        "",
        "## Report page weight",
        "",
        f"`{weight['path']}`: HTML {weight['html_bytes']:,} bytes"
        + "".join(f" + `{url}` {size:,}" for url, size in weight["assets"].items())
        + f" = **{weight['total_bytes']:,} bytes ({weight['total_bytes'] / 1024:.1f} KiB)**; target < 200 KiB: "
        f"{'yes' if weight['total_bytes'] < WEIGHT_TARGET else '**no**'}. The heaviest of the stored crashes' "
        f"pages: {heaviest['total_bytes'] / 1024:.1f} KiB (`{heaviest['path']}`).",
        "",
        "## Where the time goes (in process, Django's test client, same code and database)",
        "",
        "| page | total ms (median) | SQL ms | statements | slowest statements (ms) |",
        "|---|---|---|---|---|",
    ]
    for subject in results["subjects"]:
        ip = subject.get("in_process")
        if not ip:
            continue
        slow = ", ".join(f"{s['ms']:.1f}" for s in ip["slowest_statements"])
        lines.append(
            f"| {subject['name']} | {_ms(ip['total_ms_median'])} | {_ms(ip['sql_ms_median'])} | "
            f"{ip['statements']} | {slow} |"
        )
    lines += ["", "Statements of 5 ms or more (a median run):", ""]
    for subject in results["subjects"]:
        ip = subject.get("in_process") or {}
        for statement in ip.get("slowest_statements", []):
            if statement["ms"] >= 5:
                sql = " ".join(statement["sql"].split())
                lines.append(f"- {subject['name']}, {statement['ms']:.1f} ms: `{sql[:220]}…`")
    lines += ["", "cProfile of one run of each page: `profile-<page>.txt`. Every number: `results.json`.", ""]
    lines += ["## Verdicts", ""] + [f"- {v}" for v in results["verdicts"]] + [""]
    return "\n".join(lines)


# --- main ------------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--n", type=int, default=generate.DEFAULT_N)
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    parser.add_argument("--stored", type=int, default=300, help="crashes also put in storage (report views)")
    parser.add_argument("--reports", type=int, default=4, help="report views asked, in turn")
    parser.add_argument("--repeats", type=int, default=40, help="measured rounds")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--profile-runs", type=int, default=5, help="in-process runs per page (where time goes)")
    parser.add_argument("--pg-admin", default=PG_ADMIN)
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / ".work" / "web-data")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--command", default="bench/web/run.sh")
    parser.add_argument("--keep", action="store_true", help="keep the database and the data directory")
    parser.add_argument(
        "--reuse", action="store_true", help="ask a kept database and data directory again (not a run of record)"
    )
    args = parser.parse_args()
    started = dt.datetime.now(dt.UTC)
    out = args.out or ROOT / "bench" / "results" / f"web-{started:%Y%m%d-%H%M}"
    out.mkdir(parents=True, exist_ok=True)
    data_dir = args.work
    meta_path = data_dir / "bench-web.json"
    secret = secrets.token_hex(32)
    if args.reuse:
        url = pg_url(args.pg_admin, DATABASE)
        meta = json.loads(meta_path.read_text())
    else:
        if data_dir.exists():
            subprocess.run(["rm", "-rf", "--", str(data_dir)], check=True)
        data_dir.mkdir(parents=True)
        url = pg_recreate(args.pg_admin, DATABASE)
        meta = {"end": started.replace(second=0, microsecond=0).isoformat(), "n": args.n, "seed": args.seed}
    end = dt.datetime.fromisoformat(meta["end"])
    settings = load_settings(environ={}, data_dir=data_dir, database_url=url, secret_key=secret)
    db.migrate(settings)
    results: dict[str, Any] = {
        "benchmark": "web",
        "started": f"{started:%Y-%m-%d %H:%M} UTC",
        "command": args.command,
        "machine": machine_info(["src", "bench/web", "bench/search"]),
        "n": meta["n"],
        "seed": meta["seed"],
        "end": meta["end"],
        "reused": args.reuse,
        "workers": args.workers,
        "repeats": args.repeats,
        "warmup": args.warmup,
        "targets": {"page_p95_ms": TARGET_MS, "report_weight_bytes": WEIGHT_TARGET},
    }
    if args.reuse:
        results["load"] = meta["load"]
        results["load"].pop("rate", None)
        results["stored"] = meta["stored"]
    else:
        log(f"loading {args.n:,} crashes (seed {args.seed}, 28 days ending {end.isoformat()}) into {DATABASE}")
        loaded = load_index(settings, args.n, args.seed, end, args.stored)
        kept = loaded.pop("kept")
        log(f"index: {json.dumps(loaded)}")
        stored = store(settings, kept)
        log(f"stored {stored['stored']} crashes in {stored['seconds']:.1f} s")
        meta.update({"load": loaded, "stored": stored})
        meta_path.write_text(json.dumps(meta))
        results["load"] = loaded
        results["stored"] = stored
    # The report views: the first stored crashes of each walked dump, in turn.
    by_walk: dict[str, list[str]] = results["stored"]["by_walk"]
    report_ids = [ids[0] for ids in by_walk.values()][: args.reports]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CRASHCART_", "DJANGO_"))},
        **SERVER_ENV,
        "CRASHCART_DATA_DIR": str(data_dir),
        "CRASHCART_DATABASE_URL": url,
        "CRASHCART_SECRET_KEY": secret,
    }
    server = Server(env, args.workers, out / "server.log")
    server.start()
    try:
        client = Client(server.port)
        now = dt.datetime.now(dt.UTC)
        week = {"date": [f">={(now - dt.timedelta(days=7)).isoformat()}"], "_facets": ["product"]}
        _, _, body, _ = client.get("/api/SuperSearch/?" + query({**week, "_results_number": ["0"]}))
        product = json.loads(body)["facets"]["product"][0]["term"]
        from crashcart.web.pages import topcrashers as tc  # noqa: PLC0415

        current, _ = tc.searches(tc.form({"product": [product], "days": ["7"]}, product), now)
        _, _, body, _ = client.get("/api/SuperSearch/?" + query({**current, "_facets_size": ["1"]}))
        signature = json.loads(body)["facets"]["signature"][0]["term"]
        log(f"product {product}, signature {signature}; report ids {report_ids}")
        plan = subjects(product, signature, report_ids, now)
        results["product"] = product
        results["signature"] = signature
        t0 = time.perf_counter()
        measure(client, plan, args.repeats, args.warmup)
        results["measure_seconds"] = time.perf_counter() - t0
        weights = [page_weight(client, f"/report/index/{crash_id}") for ids in by_walk.values() for crash_id in ids[:1]]
        results["report_weight"] = next(w for w in weights if w["path"].endswith(report_ids[0]))
        results["report_weight_max"] = max(weights, key=lambda w: w["total_bytes"])
        results["report_weights"] = weights
        html_bytes = {s["name"]: len(client.get(s["pages"][0])[2]) for s in plan}
    finally:
        server.stop()
    # Where the time goes, in this process (after the server stopped: nothing else on the database).
    breakdown(plan, out, args.profile_runs)
    results["subjects"] = []
    verdicts = []
    for subject in plan:
        rounds = len(subject["page_seconds"])
        sums = [sum(seconds[i] for seconds in subject["api_seconds"].values()) for i in range(rounds)]
        entry = {
            "name": subject["name"],
            "title": subject["title"],
            "pages": subject["pages"],
            "api_urls": subject["api"],
            "page": summary(subject["page_seconds"]),
            "api": {label: summary(seconds) for label, seconds in subject["api_seconds"].items()},
            "api_sum": summary(sums),
            "html_bytes": html_bytes[subject["name"]],
            "in_process": subject.get("in_process"),
        }
        entry["ratio_p50"] = entry["page"]["p50_ms"] / entry["api_sum"]["p50_ms"]
        entry["ratio_p95"] = entry["page"]["p95_ms"] / entry["api_sum"]["p95_ms"]
        results["subjects"].append(entry)
        ok = entry["page"]["p95_ms"] <= TARGET_MS
        verdicts.append(
            f"{subject['name']}: p95 {entry['page']['p95_ms']:.0f} ms "
            f"{'≤' if ok else '>'} {TARGET_MS:.0f} ms: {'met' if ok else 'MISSED'}"
        )
    weight = results["report_weight"]["total_bytes"]
    verdicts.append(
        f"report page weight {weight / 1024:.1f} KiB {'<' if weight < WEIGHT_TARGET else '≥'} 200 KiB: "
        f"{'met' if weight < WEIGHT_TARGET else 'MISSED'}"
    )
    if args.reuse or args.n != generate.DEFAULT_N:
        verdicts.append("not a run of record (" + ("reused data" if args.reuse else f"N = {args.n:,}") + ")")
    results["verdicts"] = verdicts
    results["machine"]["loadavg_end"] = os.getloadavg()
    results["elapsed_seconds"] = (dt.datetime.now(dt.UTC) - started).total_seconds()
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    readme = render(results)
    (out / "README.md").write_text(readme)
    print(readme)
    if not args.keep and not args.reuse:
        pg_drop(args.pg_admin, DATABASE)
        subprocess.run(["rm", "-rf", "--", str(data_dir)], check=True)
    else:
        log(f"kept: database {DATABASE}, data directory {data_dir} (--reuse asks them again)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
