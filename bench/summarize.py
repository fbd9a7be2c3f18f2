#!/usr/bin/env python3
"""Summarise a run of the shared benchmark harness for docs/benchmarks.md.

usage: bench/summarize.py RESULTS.tsv [--native 'LOAD_S ANALYZE_S'] [--command CMD]

Reads run.sh's raw TSV (results/<date>.tsv, one line per process run) and prints a
markdown section: median wall, MB/s and peak RSS per implementation, custlens' speed-up
over DuckDB-WASM (target: >= 5x, end to end) and custlens' in-script phases (medians of
the timed reps). The agreement check comes from the harness report (results/<date>.md).
"""
import csv
import datetime
import os
import statistics
import subprocess
import sys


def fnum(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:
        return "?"


def med(rows, key):
    vals = [fnum(r[key]) for r in rows]
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    tsv = args[0]
    native = None
    command = "../shared/bench/run.sh --sizes 1m --reps 3"
    if "--native" in args:
        native = args[args.index("--native") + 1].split()
    if "--command" in args:
        command = args[args.index("--command") + 1]
    with open(tsv) as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if r["rep"] != "warmup" and r["rc"] == "0"]
    out = []
    p = out.append
    day = os.path.basename(tsv)[:-4]
    when = datetime.datetime.fromtimestamp(os.path.getmtime(tsv)).strftime("%Y-%m-%d %H:%M")
    p(f"### Run {when} ({day})\n")
    cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
    mem = sh("awk '/MemTotal/{printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
    p(f"- Machine: {sh('nproc')} cores ({cpu}), {mem} RAM; Node {sh('node --version')}; "
      f"{sh('emcc --version 2>/dev/null | head -1') or 'emcc not found'}")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    wasm = os.path.join(root, "dist", "custlens.wasm")
    built = datetime.datetime.fromtimestamp(os.path.getmtime(wasm)).strftime("%Y-%m-%d %H:%M") if os.path.exists(wasm) else "?"
    p(f"- Command: `{command}`")
    p(f"- Engine: dist/custlens.wasm built {built} (check it against `git log` — dist/ is not rebuilt by the "
      f"benchmark); git HEAD at summary time {sh('git -C ' + root + ' log -1 --format=%h')}")
    for size in dict.fromkeys(r["size"] for r in rows):
        srows = [r for r in rows if r["size"] == size]
        nbytes = int(srows[0]["bytes"])
        reps = max(int(r["rep"]) for r in srows)
        p(f"- File: orders_{size}.csv, {int(srows[0]['rows']):,} rows, {nbytes / 1e6:.1f} MB; "
          f"median of {reps} timed reps after a warm-up\n")
        p("| implementation | median wall s | MB/s | peak RSS MiB | setup s | load s | compute s |")
        p("|---|---:|---:|---:|---:|---:|---:|")
        walls = {}
        for name in dict.fromkeys(r["peer"] for r in srows):
            nr = [r for r in srows if r["peer"] == name]
            if nr[0]["kind"] == "probe" and name != "cat":
                continue
            w = med(nr, "wall_s")
            walls[name] = w
            rss = med(nr, "maxrss_kb")
            ph = [med(nr, k) for k in ("setup_s", "load_s", "compute_s")]
            phs = " | ".join("" if v is None else f"{v:.3f}" for v in ph)
            p(f"| {'**custlens**' if name == 'custlens' else name} | {w:.3f} | {nbytes / 1e6 / w:.1f} | "
              f"{rss / 1024:.0f} | {phs} |")
        p("")
        if "custlens" in walls and "duckdb-wasm" in walls:
            r = walls["duckdb-wasm"] / walls["custlens"]
            verdict = "target met" if r >= 5 else f"target missed: custlens would need {walls['duckdb-wasm'] / 5:.3f} s, i.e. {walls['custlens'] / (walls['duckdb-wasm'] / 5):.1f}x faster than now"
            p(f"custlens vs DuckDB-WASM (median wall): **{r:.2f}x** faster (target >= 5x; {verdict}).")
        if "custlens" in walls and "duckdb-wasm-buffer" in walls:
            p(f"custlens vs DuckDB-WASM with the file pre-buffered: {walls['duckdb-wasm-buffer'] / walls['custlens']:.2f}x.")
        if "custlens" in walls and "duckdb-native-1t" in walls:
            p(f"custlens vs DuckDB native, 1 thread: {walls['duckdb-native-1t'] / walls['custlens']:.2f}x.")
        p("")
    if native:
        p(f"Native engine (`./build/custlens_bench`): load {float(native[0]):.3f} s, analyze {float(native[1]):.3f} s.\n")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
