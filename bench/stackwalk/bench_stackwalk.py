"""Stack-walker benchmark (issue #3 point 7): Crashcart's walker against Breakpad's ``minidump_stackwalk``.

For every corpus dump with symbols (``MANIFEST.tsv`` ``symbols_dir`` != ``none``), walked with them, and for the
set without symbols (walked without a symbol path), in the same run:

* Breakpad: ``minidump_stackwalk DUMP [SYMBOLS_DIR]`` (text mode, output to /dev/null), one untimed run, then the
  median wall time of ``--breakpad-runs`` runs and their peak RSS (``wait4`` ``ru_maxrss``).
* ours, cold: a fresh process (``worker.py cold``) with an empty symbol cache directory; the walk is timed inside
  the process (open dump → JSON rendered); interpreter start-up and imports are reported separately.
* ours, warm: a long-lived process (``worker.py warm``) over the cache the cold process filled, which walked the
  dump once; the median of ``--warm-runs`` walks; its peak RSS.

Ratios are ours / Breakpad. The "Firefox dump" is the dump whose referenced symbol files (the modules of its
module list that the symbols directory has a ``.sym`` for) are the largest in total. Peak RSS against symbol
size is fitted by least squares (MiB of RSS per MiB of ``.sym``). Optionally (``--profile K``) the K dumps slowest
relative to Breakpad are profiled with cProfile, warm and cold.

usage: .venv/bin/python bench/stackwalk/bench_stackwalk.py --breakpad PATH [--corpus DIR] [--out DIR] ...
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import crashcart
from crashcart.minidump import Minidump, ModuleList
from crashcart.symbols.fs import FileSymbolSource
from crashcart.symbols.interfaces import SymbolNotFound

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).resolve().with_name("worker.py")
MiB = 1024 * 1024
TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def machine_info() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    with contextlib.suppress(OSError, IndexError):
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()

    def git(*argv: str) -> str:
        done = subprocess.run(
            ["git", "--no-optional-locks", *argv], cwd=ROOT, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "mem_total": mem,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "git_head": git("rev-parse", "HEAD"),
        "crashcart_imported_from": str(Path(crashcart.__file__).parent),
        # only meaningful when crashcart is imported from the working tree (not a SRC_REV snapshot)
        "src_modified_files": git("status", "--porcelain", "--", "src").splitlines()
        if Path(crashcart.__file__).is_relative_to(ROOT / "src")
        else None,
        "loadavg_start": os.getloadavg(),
        "pycache_prefix": os.environ.get("PYTHONPYCACHEPREFIX"),
        "dont_write_bytecode": bool(os.environ.get("PYTHONDONTWRITEBYTECODE")),
    }


def read_manifest(corpus: Path) -> list[dict[str, str]]:
    with (corpus / "MANIFEST.tsv").open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def dump_id(path: str) -> str:
    owner_repo, _, name = path.split("/", 2)
    return f"{owner_repo}__{Path(name).stem}"


def referenced_symbols(dump: Path, symbols: Path) -> dict[str, int]:
    """``debug_file/debug_id`` → ``.sym`` bytes for each module of the dump the symbols directory has a file for
    (found the way the provider's ``file://`` source finds it)."""
    source = FileSymbolSource(symbols)
    found: dict[str, int] = {}
    with Minidump.from_path(dump) as md:
        modules = md.get_stream(ModuleList)
        for module in modules.modules if modules is not None else ():
            try:
                path = source.locate(module.debug_filename, module.debug_id, module.filename, module.code_id)
            except SymbolNotFound:
                continue
            assert isinstance(path, Path)
            found[f"{module.debug_filename}/{module.debug_id}"] = path.stat().st_size
    return found


def rss_wrapper(out: Path) -> list[str]:
    """``/usr/bin/time`` writing the child's peak RSS (KiB) to ``out``.

    Peak RSS has to be measured from a small parent: Linux carries the ``ru_maxrss`` high-water mark over
    ``fork`` + ``exec``, so a child started straight from this (60 MiB) Python process would report at least
    60 MiB whatever it uses.
    """
    return [TIME, "-f", "%M", "-o", str(out)] if TIME else []


def read_rss(out: Path, fallback: int) -> int:
    try:
        return int(out.read_text().split()[-1])
    except (OSError, ValueError, IndexError):
        return fallback


def run_breakpad(breakpad: Path, dump: Path, symbols: Path | None, rss_file: Path | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one ``minidump_stackwalk`` run (text mode, output to /dev/null).

    With ``rss_file`` it runs under ``/usr/bin/time`` (for the RSS; its wall time then includes ``time``).
    """
    argv = [str(breakpad), str(dump)] + ([str(symbols)] if symbols is not None else [])
    if rss_file is not None:
        argv = rss_wrapper(rss_file) + argv
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    return elapsed, read_rss(rss_file, usage.ru_maxrss) if rss_file is not None else usage.ru_maxrss


def run_worker(args: list[str], rss_file: Path) -> dict[str, Any]:
    """Run ``worker.py`` (under ``/usr/bin/time``) and return its JSON line, plus the process's wall time and
    peak RSS."""
    argv = [*rss_wrapper(rss_file), sys.executable, str(WORKER), *args]
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"worker {' '.join(args)} failed ({proc.returncode}):\n{err.decode()[-3000:]}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    result["wall_s"] = elapsed
    result["peak_rss_kib"] = read_rss(rss_file, result["max_rss_kib"])
    return result


def measure(
    entry: dict[str, str], corpus: Path, use_symbols: bool, args: argparse.Namespace, tmp: Path
) -> dict[str, Any]:
    dump = corpus / entry["path"]
    symbols = corpus / entry["symbols_dir"] if use_symbols else None
    row: dict[str, Any] = {
        "id": dump_id(entry["path"]),
        "os": entry["os"],
        "cpu": entry["cpu"],
        "dump_bytes": dump.stat().st_size,
        "symbols": use_symbols,
    }
    if symbols is not None:
        refs = referenced_symbols(dump, symbols)
        row["sym_files"] = len(refs)
        row["sym_bytes"] = sum(refs.values())
        row["sym_sizes"] = refs
    rss_file = tmp / "rss.txt"
    # Breakpad: one untimed run under /usr/bin/time for the peak RSS (it also fills the page cache), then the
    # timed runs.
    row["breakpad_rss_kib"] = run_breakpad(args.breakpad, dump, symbols, rss_file)[1]
    runs = [run_breakpad(args.breakpad, dump, symbols) for _ in range(args.breakpad_runs)]
    row["breakpad_s"] = [r[0] for r in runs]
    row["breakpad_ms"] = statistics.median(row["breakpad_s"]) * 1000
    # Ours, cold: fresh processes, each with an empty cache directory.
    cache = tmp / row["id"]
    colds = []
    for _ in range(args.cold_runs):
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True)
        colds.append(run_worker(["cold", str(dump), str(symbols or "-"), str(cache)], rss_file))
    cold = min(colds, key=lambda c: c["walk_s"]) if len(colds) > 1 else colds[0]
    row["cold"] = colds
    row["cold_ms"] = statistics.median(c["walk_s"] for c in colds) * 1000
    row["cold_import_ms"] = statistics.median(c["import_s"] for c in colds) * 1000
    # interpreter start-up (and exit): what the process took beyond what it timed from its first line
    row["cold_interp_ms"] = statistics.median(c["wall_s"] - c["process_s"] for c in colds) * 1000
    row["cold_process_ms"] = statistics.median(c["wall_s"] for c in colds) * 1000
    row["cold_rss_kib"] = max(c["peak_rss_kib"] for c in colds)
    row["rss_after_import_kib"] = cold["rss_after_import_kib"]
    # Ours, warm: one process over the cache the last cold run filled.
    warm = run_worker(["warm", str(dump), str(symbols or "-"), str(cache), "--runs", str(args.warm_runs)], rss_file)
    row["warm"] = warm
    row["warm_ms"] = statistics.median(warm["walk_s"]) * 1000
    row["warm_first_ms"] = warm["first_walk_s"] * 1000
    row["cli_warm_disk_ms"] = warm["cli_warm_disk_s"] * 1000
    row["warm_rss_kib"] = warm["peak_rss_kib"]
    row["loaded_sym_bytes"] = sum(row.get("sym_sizes", {}).get(m, 0) for m in warm.get("loaded_modules", []))
    row["cold_ratio"] = row["cold_ms"] / row["breakpad_ms"]
    # best of the runs on both sides (noise from other processes only ever adds time)
    row["cold_best_ratio"] = min(c["walk_s"] for c in colds) / min(row["breakpad_s"])
    row["warm_best_ratio"] = min(warm["walk_s"]) / min(row["breakpad_s"])
    row["warm_ratio"] = row["warm_ms"] / row["breakpad_ms"]
    row["cold_process_ratio"] = row["cold_process_ms"] / row["breakpad_ms"]
    row["frames"] = warm["frames"]
    shutil.rmtree(cache, ignore_errors=True)
    return row


def fit(xs: list[float], ys: list[float]) -> dict[str, float] | None:
    """Least squares ``y = intercept + slope·x`` and r²."""
    if len(xs) < 2 or len(set(xs)) < 2:
        return None
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    syy = sum((y - my) ** 2 for y in ys)
    slope = sxy / sxx
    r2 = (sxy * sxy) / (sxx * syy) if syy else 1.0
    return {"slope": slope, "intercept": my - slope * mx, "r2": r2, "n": len(xs)}


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def med(key: str) -> float:
        return statistics.median(r[key] for r in rows)

    return {
        "dumps": len(rows),
        "median_breakpad_ms": med("breakpad_ms"),
        "median_cold_ms": med("cold_ms"),
        "median_warm_ms": med("warm_ms"),
        "median_cold_ratio": med("cold_ratio"),
        "median_warm_ratio": med("warm_ratio"),
        "median_cold_process_ratio": med("cold_process_ratio"),
        "median_cold_best_ratio": med("cold_best_ratio"),
        "median_warm_best_ratio": med("warm_best_ratio"),
        "median_cold_import_ms": med("cold_import_ms"),
        "median_cli_warm_disk_ms": med("cli_warm_disk_ms"),
        "median_cli_warm_disk_ratio": statistics.median(r["cli_warm_disk_ms"] / r["breakpad_ms"] for r in rows),
        "median_cold_interp_ms": med("cold_interp_ms"),
        "sum_breakpad_ms": sum(r["breakpad_ms"] for r in rows),
        "sum_cold_ms": sum(r["cold_ms"] for r in rows),
        "sum_warm_ms": sum(r["warm_ms"] for r in rows),
    }


def rss_scaling(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    xs = [r["sym_bytes"] / MiB for r in rows]
    for key in ("breakpad_rss_kib", "cold_rss_kib", "warm_rss_kib"):
        out[key.removesuffix("_kib") + "_vs_sym"] = fit(xs, [r[key] / 1024 for r in rows])
    xl = [r["loaded_sym_bytes"] / MiB for r in rows]
    for key in ("cold_rss_kib", "warm_rss_kib"):
        out[key.removesuffix("_kib") + "_vs_loaded_sym"] = fit(xl, [r[key] / 1024 for r in rows])
    return out


def fmt_table(rows: list[dict[str, Any]], with_symbols: bool) -> list[str]:
    head = "| dump | cpu |" + (" .sym MiB (loaded) |" if with_symbols else "")
    head += " Breakpad ms | cold ms | warm ms | cold/BP | warm/BP | BP RSS MiB | cold RSS MiB | warm RSS MiB |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        line = f"| {r['id']} | {r['cpu']} |"
        if with_symbols:
            line += f" {r['sym_bytes'] / MiB:.2f} ({r['loaded_sym_bytes'] / MiB:.2f}) |"
        line += (
            f" {r['breakpad_ms']:.1f} | {r['cold_ms']:.1f} | {r['warm_ms']:.1f} | {r['cold_ratio']:.2f} |"
            f" {r['warm_ratio']:.2f} | {r['breakpad_rss_kib'] / 1024:.1f} | {r['cold_rss_kib'] / 1024:.1f} |"
            f" {r['warm_rss_kib'] / 1024:.1f} |"
        )
        lines.append(line)
    return lines


def profile(
    rows: list[dict[str, Any]], corpus: Path, manifest: dict[str, dict[str, str]], args: argparse.Namespace, tmp: Path
) -> list[dict[str, Any]]:
    """cProfile the cold and the warm path of the ``args.profile`` dumps slowest relative to Breakpad."""
    out_dir = args.out / "profiles"
    out_dir.mkdir(parents=True, exist_ok=True)
    done = []
    firefox = max(rows, key=lambda r: r["sym_bytes"])
    for mode in ("cold", "warm"):
        worst = sorted(rows, key=lambda r: r[f"{mode}_ratio"], reverse=True)[: args.profile]
        if mode == "cold" and firefox not in worst:
            worst.append(firefox)  # where cold time is largest in absolute terms
        for r in worst:
            entry = manifest[r["id"]]
            dump, symbols = corpus / entry["path"], corpus / entry["symbols_dir"]
            cache = tmp / f"profile-{r['id']}"
            shutil.rmtree(cache, ignore_errors=True)
            cache.mkdir(parents=True)
            prof = out_dir / f"{mode}-{r['id']}.prof"
            if mode == "warm":  # fill the cache first, as the benchmark does
                run_worker(["cold", str(dump), str(symbols), str(cache)], tmp / "rss.txt")
            run_worker(
                [mode, str(dump), str(symbols), str(cache), "--runs", str(args.warm_runs), "--profile", str(prof)],
                tmp / "rss.txt",
            )
            text = out_dir / f"{mode}-{r['id']}.txt"
            with text.open("w") as handle:
                stats = pstats.Stats(str(prof), stream=handle)
                stats.strip_dirs()
                handle.write(f"# {mode} {r['id']} ({mode}/Breakpad {r[f'{mode}_ratio']:.2f})\n")
                if mode == "warm":
                    handle.write(f"# {args.warm_runs} walks profiled together\n")
                handle.write("\n## by cumulative time\n")
                stats.sort_stats("cumulative").print_stats(30)
                handle.write("\n## by own time\n")
                stats.sort_stats("tottime").print_stats(25)
            prof.unlink()
            shutil.rmtree(cache, ignore_errors=True)
            done.append({"mode": mode, "id": r["id"], "file": str(text.relative_to(args.out))})
            log(f"profiled {mode} {r['id']} -> {text}")
    return done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--breakpad", type=Path, required=True, help="Breakpad's minidump_stackwalk binary")
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / f"stackwalk-{time.strftime('%Y%m%d')}")
    ap.add_argument("--breakpad-runs", type=int, default=5)
    ap.add_argument("--cold-runs", type=int, default=3, help="fresh processes per dump (median)")
    ap.add_argument("--warm-runs", type=int, default=7)
    ap.add_argument("--sets", default="symbols,nosym", help="symbols: dumps with symbols; nosym: dumps without")
    ap.add_argument("--only", default="", help="substring filter on dump ids")
    ap.add_argument("--profile", type=int, default=3, help="profile the K slowest dumps relative to Breakpad")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    manifest_rows = read_manifest(args.corpus)
    manifest = {dump_id(e["path"]): e for e in manifest_rows}
    plan: list[tuple[str, dict[str, str], bool]] = []
    for name in args.sets.split(","):
        for entry in manifest_rows:
            if args.only and args.only not in dump_id(entry["path"]):
                continue
            has = entry["symbols_dir"] != "none"
            if name == "symbols" and has:
                plan.append((name, entry, True))
            elif name == "nosym" and not has:
                plan.append((name, entry, False))
    info = machine_info()
    log(f"{len(plan)} walks; {info['nproc']} CPUs, {info['cpu_model']}; load {info['loadavg_start']}")
    started = time.time()
    results: dict[str, list[dict[str, Any]]] = {}
    failures: list[dict[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-stackwalk-") as tmpdir:
        tmp = Path(tmpdir)
        # Untimed: one worker pair per set, so bytecode caches and the page cache are warm for everyone.
        for name in dict.fromkeys(p[0] for p in plan):
            _, entry, use_symbols = next(p for p in plan if p[0] == name)
            log(f"warm-up ({name}) {dump_id(entry['path'])} ...")
            measure(entry, args.corpus, use_symbols, argparse.Namespace(**{**vars(args), "cold_runs": 1}), tmp)
        header = f"{'':>8} {'dump':58} {'BP ms':>8} {'cold ms':>8} {'warm ms':>8} {'cold/BP':>7} {'warm/BP':>7}"
        print(header + f" {'BP MiB':>7} {'cold MiB':>8} {'warm MiB':>8}", flush=True)
        for i, (name, entry, use_symbols) in enumerate(plan, 1):
            log(f"[{i}/{len(plan)}] {name} {dump_id(entry['path'])} ...")
            try:
                row = measure(entry, args.corpus, use_symbols, args, tmp)
            except (RuntimeError, OSError, ValueError) as exc:  # one broken dump must not lose the run
                log(f"FAILED {dump_id(entry['path'])}: {exc}")
                failures.append({"set": name, "id": dump_id(entry["path"]), "error": str(exc)[-2000:]})
                continue
            results.setdefault(name, []).append(row)
            print(
                f"{name:>8} {row['id'][:58]:58} {row['breakpad_ms']:8.1f} {row['cold_ms']:8.1f} {row['warm_ms']:8.1f}"
                f" {row['cold_ratio']:7.2f} {row['warm_ratio']:7.2f} {row['breakpad_rss_kib'] / 1024:7.1f}"
                f" {row['cold_rss_kib'] / 1024:8.1f} {row['warm_rss_kib'] / 1024:8.1f}",
                flush=True,
            )
        summary = {name: summarize(rows) for name, rows in results.items()}
        firefox = None
        if "symbols" in results:
            sym_rows = results["symbols"]
            ff = max(sym_rows, key=lambda r: r["sym_bytes"])
            firefox = {
                k: ff[k]
                for k in ("id", "sym_bytes", "loaded_sym_bytes", "breakpad_ms", "cold_ms", "warm_ms", "warm_ratio")
            }
            firefox["cold_ratio"] = ff["cold_ratio"]
            summary["rss_scaling"] = rss_scaling(sym_rows)
        profiles = (
            profile(results["symbols"], args.corpus, manifest, args, tmp)
            if args.profile and "symbols" in results
            else []
        )
    info["loadavg_end"] = os.getloadavg()
    targets = {}
    if "symbols" in summary:
        s = summary["symbols"]
        targets = {
            "warm_median_le_1x": {"value": s["median_warm_ratio"], "met": s["median_warm_ratio"] <= 1.0},
            "cold_median_le_3x": {"value": s["median_cold_ratio"], "met": s["median_cold_ratio"] <= 3.0},
            "firefox_warm_faster": {
                "dump": firefox and firefox["id"],
                "value": firefox and firefox["warm_ratio"],
                "met": bool(firefox and firefox["warm_ratio"] < 1.0),
            },
        }
    report = {
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "machine": info,
        "elapsed_s": time.time() - started,
        "settings": {k: getattr(args, k) for k in ("breakpad_runs", "cold_runs", "warm_runs", "sets", "only")},
        "summary": summary,
        "targets": targets,
        "firefox_dump": firefox,
        "profiles": profiles,
        "failures": failures,
        "results": results,
    }
    (args.out / "results.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    lines = [f"# Stack-walker benchmark tables ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", ""]
    lines.append(
        f"Machine: {info['nproc']} CPUs, {info['cpu_model']}; load average {info['loadavg_start']} at start,"
        f" {info['loadavg_end']} at end. Runs: Breakpad {args.breakpad_runs} (median), cold"
        f" {args.cold_runs}, warm {args.warm_runs} (median). Elapsed {report['elapsed_s']:.0f} s."
    )
    for name, rows in results.items():
        s = summary[name]
        lines += ["", f"## {name} ({len(rows)} dumps)", "", *fmt_table(rows, name == "symbols"), ""]
        lines.append(
            f"Medians: Breakpad {s['median_breakpad_ms']:.1f} ms, cold {s['median_cold_ms']:.1f} ms"
            f" (×{s['median_cold_ratio']:.2f}), warm {s['median_warm_ms']:.1f} ms (×{s['median_warm_ratio']:.2f});"
            f" whole cold process ×{s['median_cold_process_ratio']:.2f} (interpreter {s['median_cold_interp_ms']:.0f}"
            f" ms + imports {s['median_cold_import_ms']:.0f} ms before the walk); a new provider over the warm disk"
            f" cache (the CLI with a warm --cache-dir, in-process) {s['median_cli_warm_disk_ms']:.1f} ms"
            f" (×{s['median_cli_warm_disk_ratio']:.2f}). Best-of-runs ratios (min ours / min Breakpad): cold"
            f" ×{s['median_cold_best_ratio']:.2f}, warm ×{s['median_warm_best_ratio']:.2f}."
        )
    if targets:
        lines += ["", "## Targets (dumps with symbols)", ""]
        for key, value in targets.items():
            lines.append(
                f"* {key}: {value['value']:.2f} — {'met' if value['met'] else 'NOT met'}"
                + (f" ({value['dump']})" if "dump" in value else "")
            )
    if firefox:
        lines.append(
            f"* Firefox dump (largest referenced .sym total, {firefox['sym_bytes'] / MiB:.1f} MiB): {firefox['id']} —"
            f" Breakpad {firefox['breakpad_ms']:.0f} ms, cold {firefox['cold_ms']:.0f} ms"
            f" (×{firefox['cold_ratio']:.2f}), warm {firefox['warm_ms']:.0f} ms (×{firefox['warm_ratio']:.2f})"
        )
    if "rss_scaling" in summary:
        lines += ["", "## Peak RSS vs symbol size (least squares, MiB RSS per MiB .sym)", ""]
        for key, value in summary["rss_scaling"].items():
            if value:
                lines.append(
                    f"* {key}: slope {value['slope']:.2f}, intercept {value['intercept']:.1f} MiB,"
                    f" r² {value['r2']:.2f} (n={value['n']})"
                )
    if failures:
        lines += ["", f"## Failures ({len(failures)})", ""]
        lines += [f"* {f['set']} {f['id']}: {f['error'].strip().splitlines()[-1]}" for f in failures]
    (args.out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[2:]))
    print(f"results in {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
