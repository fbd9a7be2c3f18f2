#!/usr/bin/env bash
# Two builds of custlens on the shared workload, interleaved (A B A B ...), so the machine's
# noise falls on both alike: compare medians only within one run.
#
# usage: bench/ab.sh ROOT_A ROOT_B FILE.csv [reps=7]
#   ROOT_A, ROOT_B  project trees with dist/ built (e.g. a git worktree of the previous
#                   commit: git worktree add --detach /tmp/prev HEAD~1, then its
#                   scripts/build.sh, and a node_modules link)
# Prints, per build, every run's wall time (bench/workload.mjs's _meta.wall_s), load and
# compute phases and peak RSS, then the medians and B / A.
set -euo pipefail
A=$1 B=$2 FILE=$3 REPS=${4:-7}
run() {  # root -> "wall load compute rss_kb"
  local out
  out=$( { /usr/bin/time -f '%M' node "$1/bench/workload.mjs" "$FILE" >/tmp/ab.$$.json; } 2>&1 | tail -1)
  python3 - "$out" /tmp/ab.$$.json <<'EOF'
import json, sys
m = json.load(open(sys.argv[2]))["_meta"]
p = m["phases"]
print(m["wall_s"], p["load_s"], p["compute_s"], sys.argv[1])
EOF
}
declare -a WA WB
for ((i = 1; i <= REPS; i++)); do
  a=$(run "$A"); b=$(run "$B")
  echo "rep $i  A: $a   B: $b"
  WA+=("$a"); WB+=("$b")
done
python3 - "$(printf '%s\n' "${WA[@]}")" "$(printf '%s\n' "${WB[@]}")" <<'EOF'
import statistics as st, sys
def cols(s): return [list(map(float, l.split())) for l in s.strip().splitlines()]
a, b = cols(sys.argv[1]), cols(sys.argv[2])
names = ["wall_s", "load_s", "compute_s", "peak_rss_kb"]
for k, n in enumerate(names):
    ma, mb = st.median(r[k] for r in a), st.median(r[k] for r in b)
    print(f"{n:12s} median A {ma:10.3f}  B {mb:10.3f}  B/A {mb / ma:6.3f}")
EOF
rm -f /tmp/ab.$$.json
