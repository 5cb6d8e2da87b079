#!/usr/bin/env bash
# Installs the pinned Redocly CLI from npm (once, cached in the git-ignored .rdev/ folder of the repo, or under
# RDEV_REDOCLY_CACHE) for the OpenAPI lint test, and prints the path of its executable. docs/openapi.json passes its
# recommended rules at this version: change the pin and the document (or redocly.yaml) together.
set -euo pipefail
cd "$(dirname "$0")/.."

version=2.77.0
cache=${RDEV_REDOCLY_CACHE:-$PWD/.rdev/redocly-cli}
dir="$cache/$version"
bin="$dir/node_modules/.bin/redocly"

if [ ! -x "$bin" ] || [ "$(REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true "$bin" --version 2>/dev/null)" != "$version" ]; then
  command -v npm >/dev/null 2>&1 || { echo "npm is needed to install the Redocly CLI for the tests (install Node.js 20 or later)." >&2; exit 1; }
  echo "Installing @redocly/cli@$version for the OpenAPI lint test." >&2
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "@redocly/cli@$version" >&2
fi
echo "$bin"
