#!/usr/bin/env bash
# Builds the native engine (tests, bench) and the WebAssembly module (dist/).
#   scripts/build.sh            native Release + wasm
#   scripts/build.sh --asan     also the ASan+UBSan native build (build-asan/)
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)
# Debian's emscripten 3.1.6 runs its optimiser on Node and needs Debian's acorn.
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$JOBS"
if [[ "${1:-}" == "--asan" ]]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCUSTLENS_SANITIZE=ON >/dev/null
  cmake --build build-asan -j"$JOBS" --target custlens_tests
fi
emcmake cmake -S . -B build-wasm -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-wasm -j"$JOBS"
