#!/usr/bin/env bash
# Builds the libFuzzer targets (build-fuzz/, clang + ASan + UBSan) and runs each for a while.
#   scripts/fuzz.sh [seconds] [target ...]     default: 30 seconds, every target
# Targets: csv_reader engine date amount columns histories (fuzz/fuzz_<target>.cpp; docs/fuzzing.md).
# First replays tests/data/fuzz-regressions/<target>-*, then fuzzes one target at a time on
# one core. Corpora grow in build-fuzz/corpus/<target>; crashes, leaks and timeouts land in
# build-fuzz/artifacts/<target>/. Exits non-zero when any target fails.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${1:-30}
shift || true
TARGETS=("$@")
((${#TARGETS[@]})) || TARGETS=(csv_reader engine date amount columns histories)
JOBS=$(nproc 2>/dev/null || echo 2)
OUT=build-fuzz

# Configured every time (quick): a target added since the last run is then built.
CC=clang CXX=clang++ cmake -S . -B "$OUT" -DCUSTLENS_FUZZ=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$OUT" -j"$JOBS" --target "${TARGETS[@]/#/fuzz_}" >/dev/null

# Seeds: every CSV of the shared corpus and the test fixtures for the file-level targets,
# hand-written cells for the others (fuzz/seeds/<target>).
mkdir -p "$OUT/seeds/csv"
find ../shared/corpus tests/data/csv -type f \( -name '*.csv' -o -name '*.txt' \) \
  -exec cp -f {} "$OUT/seeds/csv/" \; 2>/dev/null || true

max_len() {
  case $1 in
    csv_reader | engine | histories) echo 4096 ;;
    columns) echo 1024 ;;
    *) echo 64 ;;
  esac
}

# LeakSanitizer is on by default under libFuzzer; a leak is a failure like a crash.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
summary=()
for t in "${TARGETS[@]}"; do
  bin=$OUT/fuzz_$t
  corpus=$OUT/corpus/$t
  artifacts=$OUT/artifacts/$t
  log=$OUT/fuzz-$t.log
  mkdir -p "$corpus" "$artifacts"

  # Known crashers first: each must now pass.
  regressions=(tests/data/fuzz-regressions/"$t"-*)
  if [[ -e ${regressions[0]} ]]; then
    if ! "$bin" -runs=1 "${regressions[@]}" >"$log.regressions" 2>&1; then
      echo "fuzz $t: a saved regression input fails again (see $log.regressions)" >&2
      status=1
    fi
  fi

  seeds=("$OUT/seeds/csv")
  [[ -d fuzz/seeds/$t ]] && seeds=("fuzz/seeds/$t")
  echo "== fuzz $t (${SECONDS_PER_TARGET}s)"
  rc=0
  "$bin" "$corpus" "${seeds[@]}" -dict=fuzz/custlens.dict -max_len="$(max_len "$t")" -timeout=10 \
    -rss_limit_mb=2048 -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 \
    -artifact_prefix="$artifacts/" >"$log" 2>&1 || rc=$?

  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -1 || true)
  line="$t: ${execs:-?} execs, ${rate:-?} exec/s, ${cov:-no coverage line}, exit $rc"
  if ((rc != 0)); then
    status=1
    line+=" -- FAILED"
    echo "$line" >&2
    # The sanitizer's or the invariant's report, and where libFuzzer saved the input.
    grep -E -A30 '^==[0-9]+==ERROR|runtime error|custlens fuzz invariant|terminate called|ALARM|out-of-memory|deadly signal' \
      "$log" | head -60 >&2 || true
    grep -E 'Test unit written to' "$log" >&2 || true
  else
    echo "$line"
  fi
  summary+=("$line")
done

echo "== fuzz summary"
printf '  %s\n' "${summary[@]}"
exit $status
