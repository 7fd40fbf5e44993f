#!/bin/sh
# Builds the console into $1 (index.html + assets/ with content-hashed names). Installs the npm
# packages from package-lock.json first when they are missing or stale. Never downloads a browser.
set -eu
out=$1
cd "$(dirname "$0")"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
exec node build.mjs "$out"
