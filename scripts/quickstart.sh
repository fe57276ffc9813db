#!/usr/bin/env bash
# The main job on the embedded default, from a fresh clone: set up the host, install, build, then run crvs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-host.sh
npm ci --no-audit --no-fund --loglevel=error
npm run build
node bin/crvs.js demo "$@"
