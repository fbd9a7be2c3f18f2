#!/usr/bin/env bash
# Every test: C++ (Catch2, plain and under ASan+UBSan), the npm package and CLI in Node,
# and the page in headless Chromium. Installs and builds what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh --asan

echo "== C++ tests (Release)"
./build/custlens_tests
echo "== C++ tests (ASan + UBSan)"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ./build-asan/custlens_tests
echo "== Node tests (package, CLI)"
node --test tests/js/
echo "== The page in headless Chromium"
node --test tests/e2e/
echo "== Fuzzing (libFuzzer, ASan + UBSan; 10 s per target, docs/fuzzing.md)"
scripts/fuzz.sh 10
