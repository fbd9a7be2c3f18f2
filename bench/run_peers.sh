#!/usr/bin/env bash
# Reruns the peer benchmark of docs/benchmarks.md and prints a ready-to-paste section.
#
# usage: bench/run_peers.sh [run.sh arguments...]     (default: --sizes 1m --reps 3)
#   HARNESS=dir   where the harness runs (default: ../shared/bench when writable, else a
#                 copy in /tmp/bench-harness; node_modules and data/ are kept there)
# Steps: copy the harness if needed, npm install its peers, run run.sh (interleaved
# custlens / DuckDB native / DuckDB-WASM / Papa Parse / pandas), time the native engine
# (build/custlens_bench) if it is built, then print bench/summarize.py's markdown.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=$ROOT/../shared/bench
[[ $# -gt 0 ]] || set -- --sizes 1m --reps 3

HARNESS=${HARNESS:-}
if [[ -z $HARNESS ]]; then
  if [[ -w $SHARED ]] && [[ $(stat -c %a "$SHARED") == 7* ]]; then HARNESS=$SHARED; else HARNESS=/tmp/bench-harness; fi
fi
if [[ $HARNESS != "$SHARED" ]]; then
  mkdir -p "$HARNESS"
  # refresh the scripts, keep node_modules/, data/ and results/
  (cd "$SHARED" && tar cf - --exclude=node_modules --exclude=data --exclude=results --exclude=build .) | (cd "$HARNESS" && tar xf -)
  chmod -R u+w "$HARNESS"
fi
[[ -d $HARNESS/node_modules/@duckdb/duckdb-wasm ]] || (cd "$HARNESS" && npm install --no-audit --no-fund)

OUT=$HARNESS/results/$(date +%F-%H%M%S).md
mkdir -p "$HARNESS/results"
(cd "$ROOT" && PROJECT=$ROOT "$HARNESS/run.sh" "$@" --out "$OUT")

NATIVE=()
CSV=$HARNESS/data/orders_1m.csv
if [[ -x $ROOT/build/custlens_bench && -s $CSV ]]; then
  "$ROOT/build/custlens_bench" "$CSV" > /dev/null  # warm-up
  j=$("$ROOT/build/custlens_bench" "$CSV")
  NATIVE=(--native "$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["load_s"], d["analyze_s"])' "$j")")
fi
echo
echo "harness report: $OUT"
awk '/^## Result agreement/{on=1; next} /^## /{on=0} on && NF' "$OUT"
echo
python3 "$ROOT/bench/summarize.py" "${OUT%.md}.tsv" "${NATIVE[@]}" --command "bench/run_peers.sh $*"
