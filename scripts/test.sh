#!/usr/bin/env bash
# The whole test suite, from a fresh clone: set up the host, install, build, lint, unit then lab integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
SUITE_STARTED=$(date +%s)
export SUITE_STARTED
bash scripts/setup-host.sh
npm ci --no-audit --no-fund --loglevel=error
npm run build
npm run typecheck
npm run lint
bash scripts/lint-ansible.sh
results=.crvs/test-results
rm -rf "$results" && mkdir -p "$results"
npx vitest run --project unit --reporter=default --reporter=json --outputFile.json="$results/unit.json"
if [ "${CI:-}" = true ]; then
  # A CI machine can start from a snapshot whose Docker still runs a lab of another checkout (handed over
  # with a key this clone does not have, perhaps provisioned since): start from no lab at all.
  node bin/crvs.js lab down
fi
status=0
npx vitest run --project integration --reporter=default --reporter=json --outputFile.json="$results/integration.json" \
  || status=$?
node scripts/test-summary.mjs "$results/unit.json" "$results/integration.json" || status=$?
exit "$status"
