#!/usr/bin/env bash
# Installs everything custlens needs on a fresh Debian machine (idempotent, quick when done).
# Debian packages: the compilers, Chromium and test tools; npm: see below.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(build-essential cmake emscripten catch2 nlohmann-json3-dev chromium python3 python3-pandas time
      fonts-noto-cjk clang libclang-rt-dev)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# npm: echarts (bundled into the page), playwright-core and axe-core (browser tests).
if ! node -e 'const p=require("./package.json");for(const d of Object.keys(p.devDependencies||{}))require.resolve(d+"/package.json")' 2>/dev/null; then
  if [[ -f package-lock.json ]]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi
