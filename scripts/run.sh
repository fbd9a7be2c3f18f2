#!/usr/bin/env bash
# The main job: installs what is missing, builds the engine and the page, and serves it at
# http://127.0.0.1:8080/ (PORT=… to change). The page opens on a labelled sample analysis;
# drop your own exports on it. Nothing you load leaves the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
node scripts/build-site.mjs
exec node scripts/serve.mjs build/site --port "${PORT:-8080}" --host "${HOST:-127.0.0.1}"
