#!/usr/bin/env bash
# The main job: builds the engine and runs the CLI on a generated sample of orders.
# (Once the page exists, this serves it instead.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
mkdir -p build/sample
node scripts/gen-sample.mjs build/sample/orders.csv
node bin/custlens.js analyze --orders build/sample/orders.csv --pretty
