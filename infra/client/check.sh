#!/usr/bin/env bash
# Generates the TypeScript client types from openapi.json (openapi-typescript) and type-checks
# them with tsc, as a frontend would. Pinned by package-lock.json, npm's cache reused, bounded.
set -euo pipefail
cd "${BASH_SOURCE[0]%/*}"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "TypeScript client check SKIPPED: node/npm not found (install Node.js >= 18 to run it)."
  exit 0
fi
TIMEOUT="${CLIENT_CHECK_TIMEOUT:-300}"
timeout "$TIMEOUT" npm ci --no-audit --no-fund --prefer-offline --loglevel=error
mkdir -p generated
timeout "$TIMEOUT" npx --no-install openapi-typescript ../../openapi.json -o generated/lutea-api.d.ts --silent
timeout "$TIMEOUT" npx --no-install tsc -p tsconfig.json
echo "TypeScript client: generated from openapi.json and type-checked ($(grep -c . generated/lutea-api.d.ts) lines)."
